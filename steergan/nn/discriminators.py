"""The discriminator kinds a run can train with: declared once here; the trainer, the CLI
choices and saved configs all read this table.

Every kind takes ``cond_channels`` control planes after RGB (a method's heatmaps or label
map), so a method that judges (image, control) pairs works with either kind.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from .discriminator import Discriminator
from .presets import ArchConfig


def _stylegan2(arch: ArchConfig, cond_channels: int) -> nn.Module:
    return Discriminator(arch, in_channels=arch.img_channels + cond_channels)


def _projected(arch: ArchConfig, cond_channels: int) -> nn.Module:
    from .projected import ProjectedDiscriminator    # loads EfficientNet-Lite0 only when asked for
    return ProjectedDiscriminator(arch, cond_channels=cond_channels)


def _ensemble(arch: ArchConfig, cond_channels: int) -> nn.Module:
    from .ensemble import EnsembleDiscriminator
    return EnsembleDiscriminator(arch, cond_channels)


# kind -> (builder, one-line description for --help and the docs)
DISCRIMINATORS: dict[str, tuple[Callable[[ArchConfig, int], nn.Module], str]] = {
    "stylegan2": (_stylegan2, "StyleGAN2 residual D, learnt from scratch (the papers' baseline)"),
    "projected": (_projected, "frozen EfficientNet-Lite0 features + trainable patch heads "
                              "(Projected GAN; converges in far fewer images, R1 off unless --gamma)"),
    "ensemble": (_ensemble, "the projected D and a StyleGAN2 D side by side, losses weighed half and half, "
                            "R1 on the StyleGAN2 D (Kumari et al. 2022; from scratch it kept emoji varied "
                            "but not blocks: docs/quality.md)"),
}
DEFAULT_DISCRIMINATOR = "stylegan2"


def discriminator_kinds() -> list[str]:
    return list(DISCRIMINATORS)


def build_discriminator(kind: str, arch: ArchConfig, cond_channels: int = 0) -> nn.Module:
    if kind not in DISCRIMINATORS:
        raise ValueError(f"unknown discriminator {kind!r}; available: {', '.join(DISCRIMINATORS)}")
    return DISCRIMINATORS[kind][0](arch, cond_channels)
