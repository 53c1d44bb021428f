"""DiffAugment (Zhao et al., NeurIPS 2020): differentiable colour, translation and cutout.

The same random transform family is applied to real and fake images before D, so D
cannot overfit a small dataset while G still gets gradients through the transform.
Channels after the first ``color_channels`` (e.g. a label map packed after RGB) get the
same geometric ops as the image and no colour op.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..nn.resample import make_kernel, upfirdn2d

POLICIES = ("color", "translation", "cutout")


def _color(x: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
    n = x.shape[0]
    r = lambda: torch.rand(n, 1, 1, 1, generator=g).to(x.device, x.dtype)  # noqa: E731
    x = x + (r() - 0.5)                                     # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (r() * 2) + mean                       # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * (r() + 0.5) + mean                     # contrast
    return x


def _translation(x: torch.Tensor, g: torch.Generator | None, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = torch.randint(-sh, sh + 1, (n, 1, 1), generator=g).to(x.device)
    ty = torch.randint(-sw, sw + 1, (n, 1, 1), generator=g).to(x.device)
    bi, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    return padded.permute(0, 2, 3, 1)[bi, gx, gy].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, g: torch.Generator | None, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=g).to(x.device)
    oy = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=g).to(x.device)
    bi, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, 0, h - 1)
    gy = torch.clamp(gy + oy - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, device=x.device, dtype=x.dtype)
    mask[bi, gx, gy] = 0
    return x * mask.unsqueeze(1)


def gaussian_blur(x: torch.Tensor, sigma: float, channels: int = 3) -> torch.Tensor:
    """The first ``channels`` channels blurred by a Gaussian of ``sigma`` px (separable, reflect
    padding, the kernel cut at 2 sigma or the image's size); later channels (a label map or
    heatmaps packed after RGB) pass unchanged."""
    if sigma <= 0:
        return x
    radius = max(1, min(int(math.ceil(2 * sigma)), min(x.shape[-2:]) - 1))   # reflect needs pad < size
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    img, rest = x[:, :channels], x[:, channels:]
    img = F.pad(img, [radius, radius, radius, radius], mode="reflect")
    img = upfirdn2d(img, make_kernel(torch.exp(-0.5 * (t / sigma) ** 2)))   # the backbone's separable FIR filter
    return torch.cat([img, rest], dim=1) if rest.shape[1] else img


class DiffAugment:
    def __init__(self, policy: str = "color,translation,cutout", generator: torch.Generator | None = None,
                 color_channels: int = 3):
        self.ops = [p for p in policy.split(",") if p]
        unknown = set(self.ops) - set(POLICIES)
        if unknown:
            from ..errors import UserError
            raise UserError(f"unknown DiffAugment policy {sorted(unknown)}; use any of {', '.join(POLICIES)}")
        self.generator = generator
        self.color_channels = color_channels

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        c = self.color_channels
        for op in self.ops:
            if op == "color" and x.shape[1] > c:
                x = torch.cat([_color(x[:, :c], self.generator), x[:, c:]], dim=1)
            else:
                x = {"color": _color, "translation": _translation, "cutout": _cutout}[op](x, self.generator)
        return x
