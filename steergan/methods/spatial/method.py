"""SpatialGAN (Wang, Bhagat et al., TPAMI 2024) as a steergan ``Method``.

Single-object configuration (default): hierarchical heatmaps, SEL_norm at the 4/8/16 px
blocks (Sec. 4.1: "we only conduct encoding on the level 0, 1, 2 of G"), L_align (Eq. 4).
Indoor configuration (``sampling="multi"``): n = 3 object heatmaps with one style code
each, SEL_indoor at every styled layer ("we encode this heatmap to all the synthesis
layers", Sec. 4.1), L_align_indoor (Eq. 5). The remaining combinations are the paper's
ablations (Tab. I and V).

Cost (tiny preset, batch 32, CPU, 1 thread): G forward +10% (hierarchical SEL_norm), +64%
(multi-object SEL_indoor at every layer: per-pixel demodulation); a full training
iteration +28% for the default configuration (paper, Sec. 4.1: "around 30%"), +50% indoor.

Options (all JSON values; ``None`` defaults resolve from ``sampling``):

=====================  ==============================================================
sampling               "hierarchical" | "multi"
sel                    "norm" | "concat" | "indoor" (indoor needs multi); default norm
                       for hierarchical, indoor for multi
align                  "standard" | "indoor" | "none" (indoor needs multi)
align_weight           weight of the alignment loss (1, official code)
align_interval         apply it every k-th G step, scaled by k (lazy, as StyleGAN2's
                       regularisers). Paper and official code: every step (k = 1). Each
                       application costs one extra D forward + a backward to D's 16 px map.
align_second_order     also differentiate through the GradCAM weights (create_graph);
                       the official code treats them as constants (False, cheaper)
tau                    truncation of the per-pixel alignment error (0.25, Sec. 3.3)
n_objects              sub-heatmaps for ``multi`` (3, Sec. 4.1)
prior                  hierarchical sampling law: "paper" (Sec. 4.1) or "official" (code)
sel_hidden             channels of SEL_norm's heatmap conv (32, capped at the layer's width)
indoor_mix             "convex" | "sum" blend of SEL_indoor (see sel.SELIndoor)
=====================  ==============================================================
"""
from __future__ import annotations

import math
from typing import Any, Optional

import torch

from ...errors import UserError
from ...nn import ArchConfig, LayerSpec
from ..base import LossContext, Method, register
from .align import align_loss, align_loss_indoor
from .gradcam import CAM_RESOLUTIONS, gradcam
from .heatmaps import HIERARCHICAL, MULTI, PRIORS, Heatmaps, sample_hierarchical, sample_multi_object
from .sel import INDOOR_MIXES, SELConcat, SELIndoor, SELNorm

LEVEL_OF_BLOCK = {4: 0, 8: 1, 16: 2}     # Sec. 4.1: levels 0/1/2 are the 4/8/16 px blocks
CHOICES = {"sampling": (HIERARCHICAL, MULTI), "sel": ("norm", "concat", "indoor"),
           "align": ("standard", "indoor", "none"), "prior": PRIORS, "indoor_mix": INDOOR_MIXES}


def _choice(name: str, value) -> str:
    if value not in CHOICES[name]:
        raise UserError(f"spatial option {name}={value!r}: choose one of {', '.join(CHOICES[name])}")
    return value


def _int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise UserError(f"spatial option {name}={value!r}: expected an integer in [{lo}, {hi}]")
    return value


def _float(name: str, value, lo: float, hi: float, hi_open: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not lo <= value <= hi or (hi_open and value == hi):
        raise UserError(f"spatial option {name}={value!r}: expected a number in [{lo}, {hi}{')' if hi_open else ']'}")
    return float(value)


@register
class SpatialGAN(Method):
    name = "spatial"
    capabilities = ("generate", "latent", "heatmap_move", "heatmap_sigma", "heatmap_remove", "heatmap_style")

    def __init__(self, sampling: str = HIERARCHICAL, sel: Optional[str] = None, align: Optional[str] = None,
                 align_weight: float = 1.0, align_interval: int = 1, align_second_order: bool = False,
                 tau: float = 0.25, n_objects: int = 3, prior: str = "paper", sel_hidden: int = 32,
                 indoor_mix: str = "convex", **unknown):
        if unknown:
            raise UserError(f"unknown spatial option(s) {sorted(unknown)}; known: sampling, sel, align, "
                            "align_weight, align_interval, align_second_order, tau, n_objects, prior, "
                            "sel_hidden, indoor_mix")
        self.sampling = _choice("sampling", sampling)
        multi = sampling == MULTI
        self.sel = _choice("sel", sel if sel is not None else ("indoor" if multi else "norm"))
        self.align = _choice("align", align if align is not None else ("indoor" if multi else "standard"))
        if not multi and "indoor" in (self.sel, self.align):
            raise UserError("spatial options sel='indoor' and align='indoor' need sampling='multi' "
                            "(they work on per-object sub-heatmaps)")
        self.align_weight = _float("align_weight", align_weight, 0.0, 1e6)
        self.align_interval = _int("align_interval", align_interval, 1, 10_000)
        if not isinstance(align_second_order, bool):
            raise UserError(f"spatial option align_second_order={align_second_order!r}: expected true/false")
        self.align_second_order = align_second_order
        self.tau = _float("tau", tau, 0.0, 1.0, hi_open=True)
        self.n_objects = _int("n_objects", n_objects, 1, 64)
        self.prior = _choice("prior", prior)
        self.sel_hidden = _int("sel_hidden", sel_hidden, 1, 1024)
        self.indoor_mix = _choice("indoor_mix", indoor_mix)
        caps = ["generate", "latent", "heatmap_move", "heatmap_sigma"]
        if multi:
            caps.append("heatmap_remove")          # Sec. 4.2, Fig. 9b: multi-object only
            if self.sel == "indoor":
                caps.append("heatmap_style")       # per-object codes only act through SEL_indoor
        self.capabilities = tuple(caps)

    def options(self) -> dict:
        return {"sampling": self.sampling, "sel": self.sel, "align": self.align,
                "align_weight": self.align_weight, "align_interval": self.align_interval,
                "align_second_order": self.align_second_order, "tau": self.tau,
                "n_objects": self.n_objects, "prior": self.prior, "sel_hidden": self.sel_hidden,
                "indoor_mix": self.indoor_mix}

    # ------------------------------------------------------------------ networks
    def adapter_factory(self, arch: ArchConfig):
        multi = self.sampling == MULTI

        def factory(spec: LayerSpec):
            if spec.kind == "rgb" and self.sel != "indoor":
                return None                          # SEL_norm/concat act on conv features only
            if multi:
                source = "sum"                       # one heatmap for every layer (Sec. 3.2)
            elif spec.resolution in LEVEL_OF_BLOCK:
                source = LEVEL_OF_BLOCK[spec.resolution]
            else:
                return None                          # no SEL above 16 px (Sec. 4.1)
            if self.sel == "indoor":
                return SELIndoor(spec, self.indoor_mix)
            if self.sel == "concat":
                return SELConcat(spec, source)
            return SELNorm(spec, source, min(self.sel_hidden, max(8, spec.in_channels)))
        return factory

    # ------------------------------------------------------------------ control state
    def sample_control(self, batch: int, G, device: torch.device,
                       generator: Optional[torch.Generator] = None) -> Heatmaps:
        if self.sampling == HIERARCHICAL:
            return sample_hierarchical(batch, generator, prior=self.prior, device=device)
        hm = sample_multi_object(batch, self.n_objects, generator, device=device)
        if self.sel == "indoor":                     # one appearance code per object (Sec. 3.2)
            z_dim = G.cfg.z_dim
            z = torch.randn(batch * self.n_objects, z_dim, generator=generator).to(device)
            w = G.mapping(z).reshape(batch, self.n_objects, -1)
            hm = Heatmaps(hm.centres, hm.sigmas, hm.levels, hm.parents, hm.active, w, hm.kind)
        return hm

    def collate_control(self, controls: list) -> Heatmaps:
        return Heatmaps.cat(controls)

    # ------------------------------------------------------------------ losses
    def cam_resolutions(self, image_resolution: int) -> tuple[int, ...]:
        return tuple(r for r in CAM_RESOLUTIONS if r <= image_resolution)

    def alignment(self, D, fake: torch.Tensor, control: Heatmaps) -> tuple[torch.Tensor, dict]:
        """Unweighted alignment loss on un-augmented fakes (an augmentation such as a
        translation would move D's attention away from the heatmap it is compared to)."""
        cams = gradcam(D, fake, self.cam_resolutions(fake.shape[-1]), create_graph=self.align_second_order)
        size = fake.shape[-1]
        if self.align == "indoor":
            return align_loss_indoor(cams, control, self.tau, size)
        return align_loss(cams, control, self.tau, size)

    def g_losses(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        if self.align == "none" or self.align_weight == 0 or ctx.fake is None or ctx.control is None:
            return {}
        if ctx.step % self.align_interval:
            return {}
        loss, _ = self.alignment(ctx.D, ctx.fake, ctx.control)
        return {"align": loss * (self.align_weight * self.align_interval)}

    def d_losses(self, ctx: LossContext) -> dict[str, Any]:
        return {}
