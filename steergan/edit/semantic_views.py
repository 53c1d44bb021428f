"""Pictures of SemanticStyleGAN outputs: coloured label maps and per-class pseudo-depth maps."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from .overlay import PALETTE

EXTRA = [(128, 128, 128), (255, 255, 255), (128, 0, 0), (0, 128, 0), (0, 0, 128), (128, 128, 0),
         (0, 128, 128), (128, 0, 128), (255, 215, 0), (0, 0, 0)]


def class_colour(k: int) -> tuple[int, int, int]:
    colours = PALETTE + EXTRA
    if k < len(colours):
        return colours[k]
    rng = np.random.default_rng(k)                      # stable beyond the fixed palette
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def label_image(labels: torch.Tensor, scale: int = 4) -> Image.Image:
    """Class ids [H, W] -> an RGB picture, one colour per class, upscaled without blending."""
    ids = labels.detach().cpu().numpy().astype(np.int64)
    lut = np.array([class_colour(k) for k in range(int(ids.max()) + 1)], np.uint8)
    h, w = ids.shape
    return Image.fromarray(lut[ids]).resize((w * scale, h * scale), Image.NEAREST)


def depth_grey(depth: torch.Tensor) -> Image.Image:
    """One class's pseudo-depth [S, S] -> a grey map stretched to its own range (brighter =
    nearer); a constant depth (the background's) shows mid-grey."""
    d = depth.detach().float().cpu()
    lo, hi = float(d.min()), float(d.max())
    grey = (d - lo) / (hi - lo) if hi > lo else torch.full_like(d, 0.5)
    return Image.fromarray((grey.numpy() * 255).astype(np.uint8))


def depth_image(depths: torch.Tensor, names: Sequence[str], size: int = 64) -> Image.Image:
    """Pseudo-depths [K, S, S] -> one row of K grey maps (``depth_grey``) with the class names."""
    k = depths.shape[0]
    row = Image.new("RGB", (k * size, size + 12), (0, 0, 0))
    draw = ImageDraw.Draw(row)
    for i in range(k):
        tile = depth_grey(depths[i]).resize((size, size), Image.NEAREST)
        row.paste(tile.convert("RGB"), (i * size, 12))
        draw.text((i * size + 2, 0), str(names[i])[:10], fill=class_colour(i))
    return row
