"""Adversarial losses and the lazy regularisers of StyleGAN2 (Karras et al. 2020, Sec. 3)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def g_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(D(G(z)))."""
    return F.softplus(-fake_logits).mean()


def d_logistic(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||grad_x D(x)||^2 on real images (multiply by gamma/2)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.square().sum(dim=(1, 2, 3)).mean()


def path_length_penalty(fake: torch.Tensor, ws: torch.Tensor, mean_path_length: torch.Tensor,
                        decay: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """Path-length regulariser: Jacobian norms of G w.r.t. W+ should be constant.

    Returns (penalty, updated running mean); the caller stores the mean.
    """
    noise = torch.randn_like(fake) / math.sqrt(fake.shape[2] * fake.shape[3])
    (grad,) = torch.autograd.grad((fake * noise).sum(), ws, create_graph=True)
    lengths = grad.square().sum(dim=2).mean(dim=1).sqrt()
    new_mean = mean_path_length.lerp(lengths.detach().mean(), decay)
    return (lengths - new_mean).square().mean(), new_mean


def mode_seeking(fake: torch.Tensor, ws: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Mode-seeking term (MSGAN, Mao et al. 2019): 1 / (image distance / latent distance) over the
    pairs (first half of the batch, second half); minimising it pushes apart the images of
    different latents, the direction a collapsing generator stops moving in. Distances are mean
    absolute differences (images [-1, 1]; ``ws`` [N, num_ws, w_dim], its first row)."""
    h = fake.shape[0] // 2
    if h == 0:
        return fake.sum() * 0
    ratio = (fake[:h] - fake[h:2 * h]).abs().mean() / (ws[:h, 0] - ws[h:2 * h, 0]).abs().mean().clamp_min(eps)
    return 1 / (ratio + eps)


def lazy_adam_params(lr: float, betas: tuple[float, float], interval: int) -> tuple[float, tuple[float, float]]:
    """Correct lr and betas when a regulariser runs every ``interval`` steps (StyleGAN2 App. B)."""
    if interval <= 0:
        return lr, betas
    ratio = interval / (interval + 1)
    return lr * ratio, (betas[0] ** ratio, betas[1] ** ratio)
