"""Pictures of a drag: frames with handle (red) and target (blue) points, and a GIF of the steps."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from PIL import Image, ImageDraw

HANDLE, TARGET = (230, 25, 45), (40, 110, 240)


def drag_frame(image: torch.Tensor, handles: Sequence[Sequence[float]], targets: Sequence[Sequence[float]],
               scale: int = 4) -> Image.Image:
    """uint8 [3, R, R] -> PIL image ``scale`` times larger, an arrow from each handle to its target."""
    R = image.shape[-1]
    im = Image.fromarray(image.permute(1, 2, 0).cpu().numpy()).resize((R * scale, R * scale), Image.NEAREST)
    draw = ImageDraw.Draw(im)
    at = lambda p: ((p[0] + 0.5) * scale, (p[1] + 0.5) * scale)  # noqa: E731  (pixel j spans [j, j+1) * scale)
    r = max(2, scale)
    for p, t in zip(handles, targets):
        (px, py), (tx, ty) = at(p), at(t)
        draw.line([px, py, tx, ty], fill=(255, 255, 255), width=1)
        draw.ellipse([tx - r, ty - r, tx + r, ty + r], outline=TARGET, width=2)
        draw.ellipse([px - r, py - r, px + r, py + r], fill=HANDLE, outline=(255, 255, 255))
    return im


def save_gif(frames: Sequence[Image.Image], path, ms_per_frame: int = 80, hold_ms: int = 800):
    """An endlessly looping GIF (Pillow) that pauses on the last frame; ``path`` a file name or a
    binary file object (the editor writes to memory)."""
    if not frames:
        raise ValueError("no frames to save")
    durations = [ms_per_frame] * (len(frames) - 1) + [hold_ms]
    target = Path(path) if isinstance(path, (str, Path)) else path
    frames[0].save(target, format="GIF", save_all=True, append_images=list(frames[1:]), duration=durations,
                   loop=0, optimize=False)
    return target
