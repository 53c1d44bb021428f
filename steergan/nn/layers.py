"""Equalised-learning-rate layers (Karras et al. 2018, StyleGAN2 Sec. B).

Weights are stored at unit variance and scaled at run time by ``1/sqrt(fan_in)``,
so Adam sees every layer at the same effective learning rate.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_GAIN = math.sqrt(2.0)


def bias_lrelu(x: torch.Tensor, bias: torch.Tensor | None, gain: float = LRELU_GAIN) -> torch.Tensor:
    """Add a per-channel bias, then leaky ReLU(0.2) scaled to keep unit variance."""
    if bias is not None:
        x = x + bias.view(1, -1, *([1] * (x.ndim - 2)))
    return F.leaky_relu(x, 0.2) * gain


class EqualLinear(nn.Module):
    """Fully connected layer with equalised lr; ``lr_mul`` slows the mapping network."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0,
                 lr_mul: float = 1.0, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_mul
        if self.activation:
            return bias_lrelu(F.linear(x, self.weight * self.scale), bias)
        return F.linear(x, self.weight * self.scale, bias)


class EqualConv2d(nn.Module):
    """Plain conv with equalised lr (used by the discriminator and method add-ons)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, bias: bool = True, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size ** 2)
        self.stride, self.padding, self.activation = stride, padding, activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.scale
        if self.activation:
            return bias_lrelu(F.conv2d(x, w, stride=self.stride, padding=self.padding), self.bias)
        return F.conv2d(x, w, self.bias, stride=self.stride, padding=self.padding)
