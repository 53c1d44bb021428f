"""Where training reports go: a JSONL log, TensorBoard scalars (if installed), sample grids."""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from ..visual import image_grid


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
