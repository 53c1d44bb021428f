"""The dual-branch discriminator (SemanticStyleGAN Sec. 3.3): image and segmentation jointly.

Feeding the segmentation as extra input channels of one network does not train (the
paper: the mask's gradients are too large), so each input gets its own tower of StyleGAN2
residual blocks, the towers' 4x4 maps are summed, and one epilogue (minibatch stddev,
conv, two linear layers) scores the pair. Separate towers also let R1 weigh the two
inputs differently (``losses.dual_r1``). The segmentation tower is ``seg_width`` times as
wide as the image tower below 4x4 (the official towers are equal; narrower is cheaper on CPU).

Input: one tensor [N, 3 + K, R, R], the image then the segmentation (``Method.fake_for_d``).
"""
from __future__ import annotations

from torch import nn

from ...nn import ArchConfig
from ...nn.discriminator import ResBlock, minibatch_stddev
from ...nn.layers import EqualConv2d, EqualLinear


class Tower(nn.Module):
    """1x1 conv from the input channels, then residual blocks down to 4x4."""

    def __init__(self, in_channels: int, channels, resolution: int, blur_kernel):
        super().__init__()
        self.from_input = EqualConv2d(in_channels, channels(resolution), 1, activation=True)
        self.block_res = [2 ** i for i in range(resolution.bit_length() - 1, 2, -1)]   # R, R/2, ..., 8
        self.blocks = nn.ModuleList(ResBlock(channels(r), channels(r // 2), blur_kernel) for r in self.block_res)

    def forward(self, x):
        x = self.from_input(x)
        features = {x.shape[-1]: x}
        for r, block in zip(self.block_res, self.blocks):
            x = block(x)
            features[r // 2] = x
        return x, features


class DualDiscriminator(nn.Module):
    def __init__(self, cfg: ArchConfig, num_classes: int, seg_width: float = 0.5):
        super().__init__()
        self.cfg = cfg
        self.img_channels = cfg.img_channels
        ch = lambda r: cfg.channels(r, discriminator=True)  # noqa: E731
        seg_ch = lambda r: ch(r) if r <= 4 else max(4, round(ch(r) * seg_width))  # noqa: E731
        self.image_tower = Tower(cfg.img_channels, ch, cfg.resolution, cfg.blur_kernel)
        self.seg_tower = Tower(num_classes, seg_ch, cfg.resolution, cfg.blur_kernel)
        c4 = ch(4)
        self.mbstd_group = cfg.mbstd_group
        self.final_conv = EqualConv2d(c4 + 1, c4, 3, padding=1, activation=True)
        self.final_fc = EqualLinear(c4 * 16, c4, activation=True)
        self.out = EqualLinear(c4, 1)

    def forward(self, x, return_features: bool = False):
        """x [N, 3 + K, R, R] -> logits [N] (and the image tower's features by resolution)."""
        img, features = self.image_tower(x[:, :self.img_channels])
        seg, _ = self.seg_tower(x[:, self.img_channels:])
        y = minibatch_stddev(img + seg, self.mbstd_group)
        y = self.final_conv(y)
        logits = self.out(self.final_fc(y.flatten(1))).squeeze(1)
        return (logits, features) if return_features else logits
