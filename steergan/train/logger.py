"""Where training reports go: a JSONL log, TensorBoard scalars (if installed), sample grids."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def image_grid(images: torch.Tensor, nrow: int | None = None) -> Image.Image:
    """[N,3,H,W] floats in [-1,1] -> one PIL grid image."""
    imgs = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    n, c, h, w = imgs.shape
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    ncol = int(np.ceil(n / nrow))
    grid = torch.full((c, ncol * h, nrow * w), 255, dtype=torch.uint8)
    for i in range(n):
        r, q = divmod(i, nrow)
        grid[:, r * h:(r + 1) * h, q * w:(q + 1) * w] = imgs[i]
    return Image.fromarray(grid.permute(1, 2, 0).numpy())


class RunLogger:
    def __init__(self, run_dir: Path, enabled: bool = True):
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self.tb = None
        if not enabled:
            return
        (self.run_dir / "samples").mkdir(parents=True, exist_ok=True)
        self.jsonl = open(self.run_dir / "stats.jsonl", "a")
        try:
            from torch.utils.tensorboard import SummaryWriter
            self.tb = SummaryWriter(str(self.run_dir / "tensorboard"))
        except ImportError:  # tensorboard is optional
            self.tb = None

    def log(self, record: dict, step: int) -> None:
        if not self.enabled:
            return
        record = {"time": time.time(), "step": step, **record}
        self.jsonl.write(json.dumps(record) + "\n")
        self.jsonl.flush()
        if self.tb is not None:
            for k, v in record.items():
                if isinstance(v, (int, float)) and k not in ("time", "step"):
                    self.tb.add_scalar(k, v, step)

    def samples(self, images: torch.Tensor, kimg: float) -> Path | None:
        if not self.enabled:
            return None
        path = self.run_dir / "samples" / f"fakes{int(kimg * 1000):09d}.png"
        image_grid(images).save(path)
        return path

    def close(self) -> None:
        if self.enabled:
            self.jsonl.close()
            if self.tb is not None:
                self.tb.close()
