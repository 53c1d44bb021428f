"""Discriminator attention sheets (SpatialGAN Fig. 3/13): images with D's GradCAM over them.

Rows are images (real and/or generated); columns are the image, then D's GradCAM at each of
its 4, 8 and 16 px blocks (jet-like colouring, blended over the image), then — for spatial
models — the heatmap the generator was given, so alignment can be judged by eye.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..methods.spatial.gradcam import CAM_RESOLUTIONS, gradcam_maps


def _colourise(m: np.ndarray) -> np.ndarray:
    """[H, W] in [0, 1] -> [H, W, 3] uint8 (blue -> green -> red)."""
    r = np.clip(1.5 - np.abs(4 * m - 3), 0, 1)
    g = np.clip(1.5 - np.abs(4 * m - 2), 0, 1)
    b = np.clip(1.5 - np.abs(4 * m - 1), 0, 1)
    return (np.stack([r, g, b], -1) * 255).astype(np.uint8)


def _to_hwc(image: torch.Tensor) -> np.ndarray:
    img = image.float()
    if image.dtype != torch.uint8:
        img = (img.clamp(-1, 1) + 1) * 127.5
    return img.permute(1, 2, 0).cpu().numpy()


def attention_sheet(D, images: torch.Tensor, heatmaps=None, labels: Optional[Sequence[str]] = None,
                    resolutions: Sequence[int] = CAM_RESOLUTIONS, scale: int = 3, alpha: float = 0.55,
                    d_inputs: Optional[torch.Tensor] = None) -> Image.Image:
    """images: float [N, 3, R, R] in [-1, 1]; heatmaps: optional [N, 1, R, R] in [0, 1];
    d_inputs: what D sees when it takes more than RGB (e.g. a paired D's heatmap plane)."""
    N, _, R, _ = images.shape
    res = [r for r in resolutions if r <= R]
    cams = gradcam_maps(D, images if d_inputs is None else d_inputs, res, size=R)
    cols = 1 + len(res) + (heatmaps is not None)
    cell = R * scale
    header = 14
    sheet = Image.new("RGB", (cols * cell, header + N * cell), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    titles = ["image"] + [f"D GradCAM {r}px" for r in res] + (["heatmap H"] if heatmaps is not None else [])
    for c, t in enumerate(titles):
        draw.text((c * cell + 3, 1), t, fill=(0, 0, 0))
    for i in range(N):
        base = _to_hwc(images[i])
        tiles = [base]
        for r in res:
            tiles.append(base * (1 - alpha) + _colourise(cams[r][i]) * alpha)
        if heatmaps is not None:                     # NaN rows (e.g. real images): left blank
            h = heatmaps[i, 0].detach().float().cpu().numpy()
            tiles.append(np.full_like(base, 255.0) if np.isnan(h).any()
                         else _colourise(h.clip(0, 1)).astype(np.float64))
        for c, t in enumerate(tiles):
            tile = Image.fromarray(np.clip(t, 0, 255).astype(np.uint8)).resize((cell, cell), Image.NEAREST)
            sheet.paste(tile, (c * cell, header + i * cell))
        if labels is not None:
            draw.text((3, header + i * cell + 2), labels[i], fill=(255, 255, 255))
    return sheet
