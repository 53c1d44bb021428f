"""StyleGAN2 residual discriminator with minibatch standard deviation.

``forward(..., return_features=True)`` also returns each block's output keyed by its
resolution (the 4, 8 and 16 px maps are where SpatialGAN reads GradCAM).
``in_channels`` lets a method feed extra planes (e.g. a semantic mask) alongside RGB.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from .layers import EqualConv2d, EqualLinear
from .presets import ArchConfig
from .resample import Blur


class DownConv(nn.Module):
    """Blur then strided 3x3 conv (anti-aliased 2x downsampling), with lrelu."""

    def __init__(self, in_ch: int, out_ch: int, kernel: Sequence[float]):
        super().__init__()
        p = (len(kernel) - 2) + (3 - 1)
        self.blur = Blur(kernel, pad=((p + 1) // 2, p // 2))
        self.conv = EqualConv2d(in_ch, out_ch, 3, stride=2, activation=True)

    def forward(self, x):
        return self.conv(self.blur(x))


class ResBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel: Sequence[float]):
        super().__init__()
        self.conv1 = EqualConv2d(in_ch, in_ch, 3, padding=1, activation=True)
        self.conv2 = DownConv(in_ch, out_ch, kernel)
        p = len(kernel) - 2
        self.skip_blur = Blur(kernel, pad=((p + 1) // 2, p // 2))
        self.skip = EqualConv2d(in_ch, out_ch, 1, stride=2, bias=False)

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        return (out + self.skip(self.skip_blur(x))) / math.sqrt(2)


def minibatch_stddev(x: torch.Tensor, group: int) -> torch.Tensor:
    """Append one channel: the std over groups of samples, averaged (StyleGAN2)."""
    n, c, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.reshape(g, -1, c, h, w)
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))   # [n/g]
    y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    def __init__(self, cfg: ArchConfig, in_channels: int | None = None):
        super().__init__()
        self.cfg = cfg
        r = cfg.resolution
        ch = lambda res: cfg.channels(res, discriminator=True)  # noqa: E731
        self.in_channels = in_channels or cfg.img_channels
        self.from_rgb = EqualConv2d(self.in_channels, ch(r), 1, activation=True)
        self.block_res = [2 ** i for i in range(r.bit_length() - 1, 2, -1)]  # r, r/2, ..., 8
        self.blocks = nn.ModuleList(ResBlock(ch(res), ch(res // 2), cfg.blur_kernel)
                                    for res in self.block_res)
        c4 = ch(4)
        self.mbstd_group = cfg.mbstd_group
        self.final_conv = EqualConv2d(c4 + 1, c4, 3, padding=1, activation=True)
        self.final_fc = EqualLinear(c4 * 16, c4, activation=True)
        self.out = EqualLinear(c4, 1)

    def forward(self, img: torch.Tensor, return_features: bool = False):
        x = self.from_rgb(img)
        features = {self.cfg.resolution: x}
        for res, block in zip(self.block_res, self.blocks):
            x = block(x)
            features[res // 2] = x
        x = minibatch_stddev(x, self.mbstd_group)
        x = self.final_conv(x)
        logits = self.out(self.final_fc(x.flatten(1))).squeeze(1)
        return (logits, features) if return_features else logits
