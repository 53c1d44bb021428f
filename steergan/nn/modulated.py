"""StyleGAN2's styled layers: modulated convolution, noise, toRGB.

Modulation is applied to the activations (``x * s``) and demodulation to the output,
the "non-fused" form of StyleGAN2. It is mathematically equal to modulating the weights,
runs as one ordinary batched convolution (fast on CPU, no grouped conv), and it also
accepts a *spatial* style map [N, C, H, W], which SpatialGAN's indoor layers need.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .adapters import LayerAdapter
from .layers import EqualLinear, bias_lrelu
from .resample import Blur, Upsample2x


def adapted_styles(adapter: Optional[LayerAdapter], affine: nn.Module, x: torch.Tensor, w: torch.Tensor,
                   control: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, styles) of a styled layer after its method adapter, if any, had its say."""
    if adapter is None:
        return x, affine(w)
    return adapter.before_conv(x, control), adapter.styles(affine, w, control)


class ModulatedConv2d(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int,
                 demodulate: bool = True, upsample: bool = False,
                 blur_kernel: Sequence[float] = (1, 3, 3, 1)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size ** 2)
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.demodulate, self.upsample = demodulate, upsample
        self.padding = kernel_size // 2
        if upsample:
            # transposed conv (stride 2) then blur: 4x cheaper than upsample-then-conv.
            p = (len(blur_kernel) - 2) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + 1, p // 2 + 1), up=2)

    def forward(self, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        weight = self.weight * self.scale
        s = styles if styles.ndim == 4 else styles[:, :, None, None]
        x = x * s
        if self.upsample:
            x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
            x = self.blur(x)
        else:
            x = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            wsq = weight.square().sum(dim=(2, 3))                       # [O, I]
            if styles.ndim == 2:
                d = torch.rsqrt(styles.square() @ wsq.t() + 1e-8)       # [N, O]
                x = x * d[:, :, None, None]
            else:  # per-pixel demodulation for spatial styles
                # sum_i s_i(p)^2 w_oi^2 as a 1x1 conv; for upsampling layers it runs at the
                # input resolution and is then repeated 2x2 (1x1 conv and nearest upsampling commute).
                d2 = F.conv2d(styles.square(), wsq[:, :, None, None])
                if self.upsample:
                    d2 = F.interpolate(d2, scale_factor=2, mode="nearest")
                x = x * torch.rsqrt(d2 + 1e-8)
        return x

    def pointwise(self, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        """A 1x1 layer on pixel tokens: x [N or 1, P, C_in], styles [N, C_in] -> [N, P, C_out].

        The styles are folded into per-sample weights (StyleGAN2's "fused" modulation), so a
        per-pixel MLP (SemanticStyleGAN's local generators) runs as one batched matmul with no
        extra passes over its activations: 2x faster than ``forward`` there on CPU.
        """
        if self.weight.shape[-1] != 1 or self.upsample:
            raise ValueError("pointwise() needs a 1x1 layer without upsampling")
        w = (self.weight[:, :, 0, 0] * self.scale)[None] * styles[:, None, :]     # [N, O, I]
        if self.demodulate:
            w = w * torch.rsqrt(w.square().sum(dim=2, keepdim=True) + 1e-8)
        return torch.matmul(x, w.transpose(1, 2))


class NoiseInjection(nn.Module):
    """Per-pixel noise with a learned strength (zero at init)."""

    def __init__(self, resolution: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        # fixed noise for deterministic ("const") synthesis, as editing needs.
        self.register_buffer("const_noise", torch.randn(1, 1, resolution, resolution))

    def forward(self, x: torch.Tensor, mode: str = "random") -> torch.Tensor:
        if mode == "none":
            return x
        if mode == "const":
            noise = self.const_noise.to(x.dtype)
        else:
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        return x + noise * self.strength


class StyledConv(nn.Module):
    """Modulated conv + noise + bias + lrelu, with an optional method adapter."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 upsample: bool = False, adapter: Optional[LayerAdapter] = None,
                 blur_kernel: Sequence[float] = (1, 3, 3, 1)):
        super().__init__()
        self.adapter = adapter
        extra = adapter.extra_in_channels if adapter is not None else 0
        self.conv = ModulatedConv2d(in_channels + extra, out_channels, 3, w_dim,
                                    upsample=upsample, blur_kernel=blur_kernel)
        self.noise = NoiseInjection(resolution)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, control: Any = None,
                noise_mode: str = "random") -> torch.Tensor:
        x, styles = adapted_styles(self.adapter, self.conv.affine, x, w, control)
        x = self.conv(x, styles)
        x = self.noise(x, noise_mode)
        x = bias_lrelu(x, self.bias)
        if self.adapter is not None:
            x = self.adapter.after_conv(x, control)
        return x


class ToRGB(nn.Module):
    """1x1 modulated conv (no demodulation) to RGB, summed into the upsampled skip."""

    def __init__(self, in_channels: int, w_dim: int, upsample: bool = True, out_channels: int = 3,
                 blur_kernel: Sequence[float] = (1, 3, 3, 1), adapter: Optional[LayerAdapter] = None):
        super().__init__()
        self.adapter = adapter
        extra = adapter.extra_in_channels if adapter is not None else 0
        self.conv = ModulatedConv2d(in_channels + extra, out_channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, out_channels, 1, 1))
        self.upsample = Upsample2x(blur_kernel) if upsample else None

    def forward(self, x: torch.Tensor, w: torch.Tensor, skip: Optional[torch.Tensor],
                control: Any = None) -> torch.Tensor:
        x, styles = adapted_styles(self.adapter, self.conv.affine, x, w, control)
        out = self.conv(x, styles) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out
