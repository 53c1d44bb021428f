"""Local generators g_k (SemanticStyleGAN Sec. 3.1): per-pixel modulated MLPs on a coarse grid.

Input: Fourier features of the coordinates of a ``coarse x coarse`` grid, shared by all
classes. Each g_k is a stack of modulated 1x1 layers (the backbone's ``ModulatedConv2d``
with kernel 1, run by its ``pointwise`` path: a per-pixel MLP whose layers are modulated
and demodulated by W+ codes; no noise). A linear head reads the pseudo-depth d_k after the
shape layers; another, the feature head f_k = A_k h_k + b_k, is applied in ``fusion``.

Everything here works on pixel tokens [N, P, C] (P = S*S, row-major: y then x).
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ...nn.layers import LRELU_GAIN, EqualLinear
from ...nn.modulated import ModulatedConv2d


def fourier_encoding(size: int, n_freqs: int) -> torch.Tensor:
    """[size * size, 2 (2 n_freqs + 1)]: (x, y) in [-1, 1] and sin/cos(2^j x), j < n_freqs."""
    t = torch.linspace(-1, 1, size)
    y, x = torch.meshgrid(t, t, indexing="ij")
    coords = torch.stack([x.flatten(), y.flatten()], dim=1)          # x right, y down
    bands = [coords]
    for j in range(n_freqs):
        bands += [torch.sin(coords * 2 ** j), torch.cos(coords * 2 ** j)]
    return torch.cat(bands, dim=1)


class FourierFeatures(nn.Module):
    """The shared input of every local generator: a learned linear projection of the grid's
    Fourier features. Frequencies stop at log2(size) so the grid does not alias."""

    def __init__(self, size: int, channels: int):
        super().__init__()
        self.register_buffer("encoding", fourier_encoding(size, int(math.log2(size))), persistent=False)
        self.project = EqualLinear(self.encoding.shape[1], channels)

    def forward(self) -> torch.Tensor:
        return self.project(self.encoding)[None]                         # [1, P, C]


class LocalLayer(nn.Module):
    """Modulated 1x1 layer + bias + lrelu: one layer of a per-pixel MLP."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 1, w_dim)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.conv.pointwise(x, self.conv.affine(w)) + self.bias, 0.2) * LRELU_GAIN


class LocalGenerator(nn.Module):
    """g_k: (Fourier features, the class's per-layer codes) -> (last hidden state h_k, pseudo-depth d_k)."""

    def __init__(self, channels: int, feature_channels: int, w_dim: int, n_layers: int, depth_after: int,
                 has_depth: bool):
        super().__init__()
        self.layers = nn.ModuleList(LocalLayer(channels, channels, w_dim) for _ in range(n_layers))
        self.depth_after = depth_after
        self.to_depth = EqualLinear(channels, 1) if has_depth else None
        self.to_feature = EqualLinear(channels, feature_channels)

    def forward(self, x: torch.Tensor, ws: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """x [1 or N, P, C]; ws [N, n_layers, w_dim] -> (h_k [N, P, C], d_k [N, P, 1] or None)."""
        depth = None
        for i, layer in enumerate(self.layers):
            x = layer(x, ws[:, i])
            if i + 1 == self.depth_after and self.to_depth is not None:
                depth = self.to_depth(x)        # depends on base + shape codes only
        return x, depth
