"""Mapping network z -> w, with the running mean of w used by truncation."""
from __future__ import annotations

import torch
from torch import nn

from .layers import EqualLinear
from .presets import ArchConfig


class MappingNetwork(nn.Module):
    def __init__(self, cfg: ArchConfig, w_avg_beta: float = 0.995):
        super().__init__()
        layers, dim = [], cfg.z_dim
        for _ in range(cfg.mapping_layers):
            layers.append(EqualLinear(dim, cfg.w_dim, lr_mul=cfg.mapping_lr_mul, activation=True))
            dim = cfg.w_dim
        self.net = nn.Sequential(*layers)
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))
        self.w_avg_beta = w_avg_beta

    def forward(self, z: torch.Tensor, truncation: float = 1.0, update_w_avg: bool = False) -> torch.Tensor:
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)  # pixel norm
        w = self.net(z)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(0).to(self.w_avg.dtype), 1 - self.w_avg_beta)
        if truncation != 1.0:
            w = self.w_avg.to(w.dtype).lerp(w, truncation)
        return w
