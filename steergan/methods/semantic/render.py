"""The render network R (SemanticStyleGAN Sec. 3.2): fused feature -> image and segmentation.

A StyleGAN2 skip generator without style input: the fused feature f is average-pooled to
``start`` px (16 at 64 px output) so early convolutions see across classes, f itself is
concatenated again at the step whose input has the coarse size, and two skip branches
sum upsampled per-resolution outputs into RGB and a K-channel segmentation. The
segmentation branch adds the coarse masks (as 2m - 1) when it reaches the coarse size, so
the final segmentation is upsample(coarse mask) + residuals ("residual refine").

"No style modulation": every layer is the backbone's ``StyledConv`` / ``ToRGB`` with
w_dim = 1 and w = 0, so its style is the affine's bias alone, a learned per-channel
constant initialised to 1 (the official FixedStyledConv), with demodulation and noise.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...nn import ArchConfig
from ...nn.modulated import StyledConv, ToRGB


class RenderNet(nn.Module):
    def __init__(self, cfg: ArchConfig, feature_channels: int, num_classes: int, coarse_size: int, start: int):
        super().__init__()
        self.coarse_size, self.start = coarse_size, start
        self.resolutions = [2 ** i for i in range(start.bit_length(), cfg.resolution.bit_length())]
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.to_segs = nn.ModuleList()
        in_ch = feature_channels
        for i, res in enumerate(self.resolutions):
            out_ch = cfg.channels(res)
            if res // 2 == coarse_size:            # f joins again at its own resolution
                in_ch += feature_channels
            self.convs.append(StyledConv(in_ch, out_ch, 1, res, upsample=True, blur_kernel=cfg.blur_kernel))
            self.convs.append(StyledConv(out_ch, out_ch, 1, res, blur_kernel=cfg.blur_kernel))
            self.to_rgbs.append(ToRGB(out_ch, 1, upsample=i > 0, out_channels=cfg.img_channels,
                                      blur_kernel=cfg.blur_kernel))
            self.to_segs.append(ToRGB(out_ch, 1, upsample=i > 0, out_channels=num_classes,
                                      blur_kernel=cfg.blur_kernel))
            in_ch = out_ch

    def forward(self, f: torch.Tensor, coarse_mask: torch.Tensor, noise_mode: str = "random"):
        """f [N, F, S, S], coarse masks [N, K, S, S] in [0, 1] -> (image, segmentation, {res: features})."""
        x = F.adaptive_avg_pool2d(f, self.start)
        w0 = f.new_zeros(f.shape[0], 1)
        img = seg = None
        features = {}
        for i, res in enumerate(self.resolutions):
            if x.shape[-1] == self.coarse_size:
                x = torch.cat([x, f], dim=1)
            x = self.convs[2 * i](x, w0, None, noise_mode)
            x = self.convs[2 * i + 1](x, w0, None, noise_mode)
            img = self.to_rgbs[i](x, w0, img)
            seg = self.to_segs[i](x, w0, seg)
            if res == self.coarse_size:            # y = upsample(2m - 1) + residuals (Sec. 3.2)
                seg = seg + (2 * coarse_mask - 1)
            features[res] = x
        return img, seg, features
