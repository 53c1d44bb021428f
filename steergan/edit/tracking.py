"""DragGAN's point tracking (Pan et al., SIGGRAPH 2023, Eq. 2): nearest neighbour search.

After each optimisation step the handle ``p_i`` moves to the pixel of a square window
around it whose feature is closest (L2 over channels, as DragGAN's code does; the paper
writes L1) to the handle's *initial* feature ``f_i = F0(p_i)``.

Ours: ``subpixel = k > 1`` then searches the 1/k-pixel offsets within half a pixel of that
pixel, on bilinear samples. At 64 px a whole pixel is 1.6% of the image, and
on a generator that can only translate its content (``tests/test_drag_content.py``) whole-pixel
tracking let drags stop up to 1.4 px short while reporting arrival. An exact whole-pixel match
stays where it is (its distance is already zero).
"""
from __future__ import annotations

from typing import Sequence

import torch

from .motion import sample_at


def reference_features(features0: torch.Tensor, handles: Sequence[Sequence[float]]) -> torch.Tensor:
    """``f_i = F0(p_i)`` [K, C], bilinear at the (possibly fractional) initial handles."""
    xy = torch.tensor([[float(x), float(y)] for x, y in handles], dtype=torch.float64)
    return sample_at(features0.detach(), xy).detach()


def window(centre: Sequence[float], half: int, resolution: int,
           reach: Sequence[float] | None = None) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1) inclusive: the square of half-size ``half`` around round(centre), clipped;
    with ``reach`` (a second point) the bounding box of both squares."""
    pts = [centre] if reach is None else [centre, reach]
    xs = [int(round(float(p[0]))) for p in pts]
    ys = [int(round(float(p[1]))) for p in pts]
    clip = lambda v: min(max(v, 0), resolution - 1)  # noqa: E731
    return clip(min(xs) - half), clip(max(xs) + half), clip(min(ys) - half), clip(max(ys) + half)


@torch.no_grad()
def track_points(features: torch.Tensor, reference: torch.Tensor, handles: Sequence[Sequence[float]],
                 half: int, reach: Sequence[Sequence[float]] | None = None,
                 subpixel: int = 1) -> list[list[float]]:
    """New handle positions by nearest neighbour to ``reference`` [K, C] in a square window of
    half-size ``half`` around each handle (or around handle and ``reach``): whole pixels, or
    refined to 1/``subpixel`` pixel (see the module docstring)."""
    R = features.shape[-1]
    out = []
    for i, p in enumerate(handles):
        x0, x1, y0, y1 = window(p, half, R, None if reach is None else reach[i])
        patch = features[0, :, y0:y1 + 1, x0:x1 + 1]                        # [C, h, w]
        dist = (patch - reference[i][:, None, None].to(patch.dtype)).norm(dim=0)
        k = int(dist.reshape(-1).argmin())
        w = x1 - x0 + 1
        best = [float(x0 + k % w), float(y0 + k // w)]
        if subpixel > 1 and float(dist.reshape(-1)[k]) > 0:
            best = _refine(features, reference[i], best, subpixel)
        out.append(best)
    return out


def _refine(features: torch.Tensor, ref: torch.Tensor, centre: list[float], k: int) -> list[float]:
    """The 1/k-pixel offset within half a pixel of ``centre`` whose bilinear feature is closest
    to ``ref`` (the centre itself included, so it never gets worse)."""
    R = features.shape[-1]
    steps = torch.arange(-(k // 2), k // 2 + 1, dtype=torch.float64) / k
    dy, dx = torch.meshgrid(steps, steps, indexing="ij")
    xy = torch.stack([centre[0] + dx.reshape(-1), centre[1] + dy.reshape(-1)], 1).clamp(0, R - 1)
    d = (sample_at(features, xy) - ref[None].to(features.dtype)).norm(dim=1)
    j = int(d.argmin())
    return [float(xy[j, 0]), float(xy[j, 1])]
