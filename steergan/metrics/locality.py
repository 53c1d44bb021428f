"""How local an edit is: masked MSE inside and outside a region (LowRankGAN's metric, used by
LinkGAN Tab. 2 and 3), for any two image batches and a mask batch.

``locality(before, after, mask)``: ``before``/``after`` float [N, 3, H, W] in [-1, 1] (or uint8),
``mask`` bool or float [N or 1, (1,) H, W] (float = per-pixel weight in [0, 1]). Errors are
measured on images scaled to [0, 1] (the papers do not say; ours, stated so figures compare),
averaged over the masked pixels and channels of each sample, then over the samples that have
pixels on **both** sides: a sample with an empty region (an object switched off, a class
absent) would otherwise count as zero leakage outside while missing from the inside average,
which understates the ratio (the restyle row read 0.008 that way; 0.015 on paired samples). Returned: ``inside``, ``outside``, ``ratio`` = outside / inside (lower = more local;
LinkGAN's eyes: 2.24 / 5.25 = 0.43), ``n_paired`` (samples that counted, on both sides) and
``n_skipped`` (samples whose region or its complement was empty).

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
    """{"inside", "outside", "ratio" (outside / inside), "n_paired", "n_skipped"} (see module doc)."""
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
        inside, outside = torch.cat(self.inside), torch.cat(self.outside)
        both = ~torch.isnan(inside) & ~torch.isnan(outside)        # the same samples on both sides
        inside_mean, n = _nanmean(inside[both])
        outside_mean, _ = _nanmean(outside[both])
        if inside_mean > 0:
            ratio = outside_mean / inside_mean
        else:
            ratio = math.nan if outside_mean == 0 or math.isnan(outside_mean) else math.inf
        return {"inside": inside_mean, "outside": outside_mean, "ratio": ratio, "n_paired": n,
                "n_skipped": int((~both).sum())}
