"""The baseline: plain StyleGAN2, no spatial control (the papers' "no move possible" row)."""
from __future__ import annotations

from .base import Method, register


@register
class StyleGAN2(Method):
    name = "stylegan2"
    capabilities = ("generate", "latent")
