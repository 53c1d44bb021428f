"""Draw heatmaps over an image (each centre coloured, active ones filled, removed ones hollow)."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

PALETTE = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60)]


def heatmap_overlay(image: torch.Tensor, heatmaps, scale: int = 4, alpha: float = 0.45) -> Image.Image:
    """image [3,R,R] float in [-1,1] or uint8; heatmaps a batch-of-1 Heatmaps -> PIL RGB, upscaled."""
    img = image.float()
    if image.dtype != torch.uint8:
        img = (img.clamp(-1, 1) + 1) * 127.5
    R = img.shape[-1]
    base = img.permute(1, 2, 0).cpu().numpy()
    maps = heatmaps.render(R)[0].detach().cpu().numpy()            # [K, R, R]
    active = heatmaps.active[0].cpu().numpy().astype(bool)
    colour = np.zeros_like(base)
    weight = np.zeros(base.shape[:2])
    for k in range(maps.shape[0]):
        if not active[k]:
            continue
        m = maps[k] / max(float(maps[k].max()), 1e-6)
        colour += m[..., None] * np.array(PALETTE[k % len(PALETTE)], dtype=np.float64)
        weight += m
    w = np.clip(weight, 0, 1)[..., None] * alpha
    mixed = base * (1 - w) + (colour / np.maximum(weight[..., None], 1e-6)) * w
    out = Image.fromarray(mixed.clip(0, 255).astype(np.uint8)).resize((R * scale, R * scale), Image.NEAREST)
    draw = ImageDraw.Draw(out)
    centres = heatmaps.centres[0].detach().cpu().numpy()
    for k, (x, y) in enumerate(centres):
        px, py = (x + 1) / 2 * R * scale, (y + 1) / 2 * R * scale
        r = 4 + 2 * (heatmaps.num_levels - 1 - heatmaps.levels[k]) if heatmaps.num_levels > 1 else 5
        c = PALETTE[k % len(PALETTE)]
        box = [px - r, py - r, px + r, py + r]
        if active[k]:
            draw.ellipse(box, fill=c, outline=(255, 255, 255))
        else:
            draw.ellipse(box, outline=c, width=2)
        draw.text((px + r + 1, py - r), str(k), fill=(255, 255, 255))
    return out
