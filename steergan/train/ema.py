"""Exponential moving average of generator weights, with StyleGAN2-ADA's ramp-up."""
from __future__ import annotations

import torch
from torch import nn


def ema_beta(batch: int, images_seen: int, ema_kimg: float, rampup: float | None) -> float:
    """Half-life of ``ema_kimg`` thousand images, shortened early in training (ramp-up)."""
    ema_nimg = ema_kimg * 1000
    if rampup:
        ema_nimg = min(ema_nimg, images_seen * rampup)
    return 0.5 ** (batch / max(ema_nimg, 1e-8))


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, beta: float) -> None:
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.copy_(p.detach().lerp(p_ema, beta))
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)
