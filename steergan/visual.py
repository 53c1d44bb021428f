"""Pictures of tensors: sample grids, scaled tiles and labelled sheets (no model code here).

Used by training (sample grids), the edit showcases, the CLI and the benchmarks alike, so it
lives beside ``errors`` and ``checkpoint`` at the bottom of the package.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def to_pil(image: torch.Tensor) -> Image.Image:
    """One image [3, H, W] (or [1, 3, H, W]) in [-1, 1] -> PIL RGB."""
    img = image[0] if image.ndim == 4 else image
    arr = ((img.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr)


def image_grid(images: torch.Tensor, nrow: int | None = None) -> Image.Image:
    """[N, 3, H, W] floats in [-1, 1] -> one PIL grid image (``nrow`` images per row, white gaps)."""
    imgs = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    n, c, h, w = imgs.shape
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    ncol = int(np.ceil(n / nrow))
    grid = torch.full((c, ncol * h, nrow * w), 255, dtype=torch.uint8)
    for i in range(n):
        r, q = divmod(i, nrow)
        grid[:, r * h:(r + 1) * h, q * w:(q + 1) * w] = imgs[i]
    return Image.fromarray(grid.permute(1, 2, 0).numpy())


def tile(image: torch.Tensor, scale: int) -> Image.Image:
    """One image [1, 3, H, W] in [-1, 1], scaled up ``scale`` times with crisp pixels."""
    im = to_pil(image)
    return im.resize((im.width * scale, im.height * scale), Image.NEAREST)


def sheet(rows, pad: int = 4) -> Image.Image:
    """Rows ``[(title, [(title, PIL image), ...]), ...]`` -> one sheet (every tile at the first's size)."""
    ncol = max(len(c) for _, c in rows)
    w, h = rows[0][1][0][1].size
    out = Image.new("RGB", (ncol * (w + pad) + pad, len(rows) * (h + pad) + pad), (250, 250, 250))
    for r, (_, cols) in enumerate(rows):
        for c, (_, im) in enumerate(cols):
            out.paste(im.resize((w, h), Image.NEAREST), (pad + c * (w + pad), pad + r * (h + pad)))
    return out
