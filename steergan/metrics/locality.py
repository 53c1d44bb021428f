"""How local an edit is: masked MSE inside and outside a region (LowRankGAN's metric, used by
LinkGAN Tab. 2 and 3), for any two image batches and a mask batch.

``locality(before, after, mask)``: ``before``/``after`` float [N, 3, H, W] in [-1, 1] (or uint8),
``mask`` bool or float [N or 1, (1,) H, W] (float = per-pixel weight in [0, 1]). Errors are
measured on images scaled to [0, 1] (the papers do not say; ours, stated so figures compare),
averaged over the masked pixels and channels of each sample, then over the samples that have
such pixels. Returned: ``inside``, ``outside``, ``ratio`` = outside / inside (lower = more local;
LinkGAN's eyes: 2.24 / 5.25 = 0.43), ``n_inside``/``n_outside`` (samples that counted).

Used by the LinkGAN table and, for restyle edits, by the SpatialGAN and SemanticStyleGAN
comparisons: the metric does not know which model made the images.
"""
from __future__ import annotations

import math

import torch

from ..errors import UserError


def _unit(images: torch.Tensor) -> torch.Tensor:
    if images.dtype == torch.uint8:
        return images.float() / 255.0
    return (images.float().clamp(-1, 1) + 1) / 2


def _mask(mask: torch.Tensor, n: int, size: tuple[int, int]) -> torch.Tensor:
    m = torch.as_tensor(mask)
    if m.ndim == 3:
        m = m[:, None]
    if m.ndim != 4 or m.shape[1] != 1 or tuple(m.shape[-2:]) != tuple(size) or m.shape[0] not in (1, n):
        raise UserError(f"mask of shape {tuple(m.shape)} does not fit {n} images of {size[0]}x{size[1]}")
    m = m.float()
    if m.min() < 0 or m.max() > 1:
        raise UserError("mask values must lie in [0, 1]")
    return m.expand(n, 1, *size)


def masked_mse(before: torch.Tensor, after: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-sample mean squared error [N] over the masked pixels (NaN for an empty mask)."""
    if before.shape != after.shape or before.ndim != 4:
        raise UserError(f"image batches differ or are not [N, C, H, W]: {tuple(before.shape)} vs {tuple(after.shape)}")
    m = _mask(mask, before.shape[0], before.shape[-2:]).to(before.device)
    err = (_unit(after) - _unit(before)).square().mean(1, keepdim=True)
    weight = m.sum((1, 2, 3))
    total = (err * m).sum((1, 2, 3))
    return torch.where(weight > 0, total / weight.clamp_min(1e-12), torch.full_like(total, math.nan))


def _nanmean(v: torch.Tensor) -> tuple[float, int]:
    ok = ~torch.isnan(v)
    return (float(v[ok].mean()) if ok.any() else math.nan), int(ok.sum())


def locality(before: torch.Tensor, after: torch.Tensor, mask: torch.Tensor) -> dict:
    """{"inside", "outside", "ratio" (outside / inside), "n_inside", "n_outside"} (see module doc)."""
    acc = LocalityAccumulator()
    acc.add(before, after, mask)
    return acc.result()


class LocalityAccumulator:
    """Per-sample masked errors gathered batch by batch; ``result()`` as ``locality``."""

    def __init__(self):
        self.inside: list[torch.Tensor] = []
        self.outside: list[torch.Tensor] = []

    def add(self, before: torch.Tensor, after: torch.Tensor, mask: torch.Tensor) -> None:
        m = _mask(mask, before.shape[0], before.shape[-2:])
        self.inside.append(masked_mse(before, after, m).cpu())
        self.outside.append(masked_mse(before, after, 1 - m).cpu())

    def result(self) -> dict:
        if not self.inside:
            raise UserError("no samples were measured")
        inside, n_in = _nanmean(torch.cat(self.inside))
        outside, n_out = _nanmean(torch.cat(self.outside))
        ratio = outside / inside if inside > 0 else (math.nan if outside == 0 or math.isnan(outside) else math.inf)
        return {"inside": inside, "outside": outside, "ratio": ratio, "n_inside": n_in, "n_outside": n_out}
