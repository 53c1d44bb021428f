"""Difference heat-maps: where did an edit change the image (LinkGAN Fig. 3-5)?

``change_map(before, afters)`` is the per-pixel mean absolute change (images in [0, 1], mean over
channels and over the edited samples); ``heat_image`` colours it (black -> red -> yellow -> white)
and outlines the region the edit was meant to stay in. Use one ``vmax`` for maps that are compared.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from PIL import Image

# "hot" colour map: black, red, yellow, white at 0, 1/3, 2/3, 1
_STOPS = np.array([[0, 0, 0], [230, 30, 0], [255, 220, 0], [255, 255, 255]], dtype=np.float64)
OUTLINE = (0, 220, 255)


def _unit(images: torch.Tensor) -> torch.Tensor:
    if images.dtype == torch.uint8:
        return images.float() / 255.0
    return (images.detach().float().clamp(-1, 1) + 1) / 2


def change_map(before: torch.Tensor, afters: torch.Tensor) -> torch.Tensor:
    """Mean |after - before| [H, W]: ``before`` [3, H, W] or [N, 3, H, W], ``afters`` [N, 3, H, W]."""
    b = _unit(before)
    if b.ndim == 3:
        b = b[None]
    return (_unit(afters) - b).abs().mean(dim=(0, 1)).cpu()


def colourise(values: np.ndarray, vmax: float) -> np.ndarray:
    t = np.clip(values / max(vmax, 1e-12), 0, 1) * (len(_STOPS) - 1)
    lo = np.floor(t).astype(int).clip(0, len(_STOPS) - 2)
    f = (t - lo)[..., None]
    return (_STOPS[lo] * (1 - f) + _STOPS[lo + 1] * f).round().astype(np.uint8)


def outline(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a 4-neighbour outside it (image borders do not count)."""
    m = np.pad(mask.astype(bool), 1, mode="edge")
    inner = m[1:-1, 1:-1]
    edge = ~(m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:])
    return inner & edge


def heat_image(change: torch.Tensor, vmax: Optional[float] = None, region: Optional[torch.Tensor] = None,
               scale: int = 4) -> Image.Image:
    """A change map [H, W] as an RGB image, upscaled ``scale`` x, with ``region`` [H, W] outlined."""
    v = change.detach().float().cpu().numpy()
    rgb = colourise(v, float(v.max()) if vmax is None else vmax)
    if region is not None:
        rgb[outline(region.detach().cpu().numpy() > 0.5)] = OUTLINE
    h, w = v.shape
    return Image.fromarray(rgb).resize((w * scale, h * scale), Image.NEAREST)
