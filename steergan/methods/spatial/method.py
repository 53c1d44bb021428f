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
sel                    "norm" | "concat" | "indoor" | "indoor_norm" (indoor ones need multi;
                       indoor_norm, ours: SEL_indoor styles + a SEL_norm branch); default norm
                       for hierarchical, indoor for multi
align                  "standard" | "indoor" | "segmenter" | "none" (indoor needs multi;
                       segmenter (ours): Eq. 4 with a frozen segmenter's object
                       probability in place of D's GradCAM, see ``objectness``)
segmenter              segmenter for align="segmenter": a file, a bundled kind ("rooms",
                       "creatures"), or "foreground" (plain-background data such as the
                       imported emoji: distance from the background colour); null = rooms
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
paired                 (ours, not in the paper; needs instance masks) D judges (image,
                       heatmap) pairs: real images come with heatmaps of their own objects
                       (``layouts``), G draws its heatmaps from the same layouts. The
                       paper's alignment is self-supervised; this is the supervised route
                       for data that has object masks (scene datasets, or --masks DIR of
                       instance-id PNGs). Multi-object: one slot per instance id.
                       Hierarchical: the level-0 centre and sigma come from the union of
                       all instances (the whole object), the deeper centres from the prior
                       around it, and D sees the level-0 map only.
layouts                stored with a paired model: 256 of the training layouts, so
                       generation and editing sample realistic layouts without the data
=====================  ==============================================================
"""
from __future__ import annotations

import logging
import math
from typing import Any, Optional

import torch
from torch import nn

from ...errors import UserError
from ...nn import ArchConfig, LayerSpec
from ..base import EditOp, LossContext, Method, register
from .align import align_loss, align_loss_indoor
from .gradcam import CAM_RESOLUTIONS, gradcam
from .heatmaps import HIERARCHICAL, MULTI, PRIORS, Heatmaps, sample_hierarchical, sample_multi_object
from .layouts import (LayoutBank, foreground_layouts, from_json, heatmap_channel, heatmaps_from_layouts,
                      layouts_from_instances)
from .objectness import load_objectness, objectness_loss
from .sel import INDOOR_MIXES, SELConcat, SELIndoor, SELIndoorNorm, SELNorm

log = logging.getLogger(__name__)
LEVEL_OF_BLOCK = {4: 0, 8: 1, 16: 2}     # Sec. 4.1: levels 0/1/2 are the 4/8/16 px blocks
CHOICES = {"sampling": (HIERARCHICAL, MULTI), "sel": ("norm", "concat", "indoor", "indoor_norm"),
           "align": ("standard", "indoor", "segmenter", "none"), "prior": PRIORS, "indoor_mix": INDOOR_MIXES}


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
    has_heatmaps = True
    edit_ops = tuple(EditOp(name, cap, "steergan.methods.spatial.edits:apply_heatmap_op", seeded=name == "set_style")
                     for name, cap in (("move", "heatmap_move"), ("set_centre", "heatmap_move"),
                                       ("set_sigma", "heatmap_sigma"), ("remove", "heatmap_remove"),
                                       ("restore", "heatmap_remove"), ("set_style", "heatmap_style")))

    def __init__(self, sampling: str = HIERARCHICAL, sel: Optional[str] = None, align: Optional[str] = None,
                 align_weight: float = 1.0, align_interval: int = 1, align_second_order: bool = False,
                 tau: float = 0.25, n_objects: int = 3, prior: str = "paper", sel_hidden: int = 32,
                 indoor_mix: str = "convex", paired: bool = False, layouts: Optional[list] = None,
                 segmenter: Optional[str] = None, **unknown):
        if unknown:
            raise UserError(f"unknown spatial option(s) {sorted(unknown)}; known: sampling, sel, align, "
                            "align_weight, align_interval, align_second_order, tau, n_objects, prior, "
                            "sel_hidden, indoor_mix, paired, layouts, segmenter")
        self.sampling = _choice("sampling", sampling)
        multi = sampling == MULTI
        self.sel = _choice("sel", sel if sel is not None else ("indoor" if multi else "norm"))
        self.align = _choice("align", align if align is not None else ("indoor" if multi else "standard"))
        if not multi and ("indoor" in (self.sel, self.align) or self.sel == "indoor_norm"):
            raise UserError("spatial options sel='indoor'/'indoor_norm' and align='indoor' need sampling='multi' "
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
        if not isinstance(paired, bool):
            raise UserError(f"spatial option paired={paired!r}: expected true/false")
        self.paired = paired
        if segmenter is not None and not isinstance(segmenter, str):
            raise UserError(f"spatial option segmenter={segmenter!r}: expected a file path or null")
        if segmenter is not None and self.align != "segmenter":
            raise UserError("spatial option segmenter only applies with align='segmenter'")
        self.segmenter_path = segmenter
        self._objectness: Optional[nn.Module] = None
        self.layouts = layouts
        self._bank: Optional[LayoutBank] = None
        if layouts is not None:
            if not paired:
                raise UserError("spatial option layouts only applies with paired=true")
            self._bank = LayoutBank(*from_json(layouts, self.n_objects if multi else 1))   # objects, or the one
        caps = ["generate", "latent", "heatmap_move", "heatmap_sigma"]
        if multi:
            caps.append("heatmap_remove")          # Sec. 4.2, Fig. 9b: multi-object only
            if self.sel in ("indoor", "indoor_norm"):
                caps.append("heatmap_style")       # per-object codes only act through SEL_indoor
        self.capabilities = tuple(caps)

    def options(self) -> dict:
        return {"sampling": self.sampling, "sel": self.sel, "align": self.align,
                "align_weight": self.align_weight, "align_interval": self.align_interval,
                "align_second_order": self.align_second_order, "tau": self.tau,
                "n_objects": self.n_objects, "prior": self.prior, "sel_hidden": self.sel_hidden,
                "indoor_mix": self.indoor_mix, "paired": self.paired,
                **({"segmenter": self.segmenter_path} if self.align == "segmenter" else {}),
                **({"layouts": self.layouts} if self.paired and self.layouts is not None else {})}

    # ------------------------------------------------------------------ networks
    def adapter_factory(self, arch: ArchConfig):
        multi = self.sampling == MULTI

        def factory(spec: LayerSpec):
            if spec.kind == "rgb" and self.sel not in ("indoor", "indoor_norm"):
                return None                          # SEL_norm/concat act on conv features only
            if multi:
                source = "sum"                       # one heatmap for every layer (Sec. 3.2)
            elif spec.resolution in LEVEL_OF_BLOCK:
                source = LEVEL_OF_BLOCK[spec.resolution]
            else:
                return None                          # no SEL above 16 px (Sec. 4.1)
            if self.sel == "indoor":
                return SELIndoor(spec, self.indoor_mix)
            if self.sel == "indoor_norm":
                if spec.kind == "rgb":
                    return SELIndoor(spec, self.indoor_mix)      # toRGB: styles only, as SEL_norm
                return SELIndoorNorm(spec, self.indoor_mix, min(self.sel_hidden, max(8, spec.in_channels)))
            if self.sel == "concat":
                return SELConcat(spec, source)
            return SELNorm(spec, source, min(self.sel_hidden, max(8, spec.in_channels)))
        return factory

    def d_cond_channels(self) -> int:
        return 1 if self.paired else 0               # the heatmap plane of the paired D

    def check_discriminator(self, kind: str) -> None:
        if kind != "stylegan2" and self.align in ("standard", "indoor"):
            raise UserError(f"spatial align={self.align!r} reads GradCAM from the StyleGAN2 discriminator's "
                            f"blocks; with --discriminator {kind} use align='segmenter' or 'none'")

    # ------------------------------------------------------------------ paired D
    @property
    def uses_masks(self) -> bool:                   # the trainer loads instance maps for paired D
        return self.paired

    mask_kind = "instances"

    def bind_masks(self, masks: torch.Tensor) -> None:
        """Training: every image's layout; G samples from all of them, the config keeps 256."""
        c, s, a = self._layouts(masks)
        dropped = int((masks.flatten(1).amax(1) > self.n_objects).sum()) if self.sampling == MULTI else 0
        if dropped:
            log.warning("%d images have more than n_objects=%d objects; the extra ones are ignored",
                        dropped, self.n_objects)
        self._bank = LayoutBank(c, s, a)
        self.layouts = self._bank.subset_json()

    def _layouts(self, masks: torch.Tensor):
        if self.sampling == MULTI:
            return layouts_from_instances(masks, self.n_objects)
        return foreground_layouts(masks)

    def real_for_d(self, images: torch.Tensor, masks: Optional[torch.Tensor]) -> torch.Tensor:
        hm = heatmaps_from_layouts(*self._layouts(masks.to(images.device)))
        return torch.cat([images, heatmap_channel(hm, images.shape[-1]).to(images.dtype)], 1)

    def fake_for_d(self, G, ws: torch.Tensor, control) -> tuple[torch.Tensor, dict]:
        img = G.synthesis(ws, control)
        if not self.paired:
            return img, {}
        return torch.cat([img, heatmap_channel(control, img.shape[-1]).to(img.dtype)], 1), {"image": img}

    # ------------------------------------------------------------------ control state
    def sample_control(self, batch: int, G, device: torch.device,
                       generator: Optional[torch.Generator] = None) -> Heatmaps:
        if self.sampling == HIERARCHICAL:
            root = None
            if self._bank is not None:
                c, s, _ = self._bank.sample(batch, generator)
                root = (c[:, 0], s[:, 0])
            elif self.paired:
                raise UserError("this paired SpatialGAN has no stored layouts (train it on data with instance maps)")
            return sample_hierarchical(batch, generator, prior=self.prior, device=device, root=root)
        if self._bank is not None:
            hm = heatmaps_from_layouts(*self._bank.sample(batch, generator)).to(device)
        elif self.paired:
            raise UserError("this paired SpatialGAN has no stored layouts (train it on data with instance maps)")
        else:
            hm = sample_multi_object(batch, self.n_objects, generator, device=device)
        if self.sel in ("indoor", "indoor_norm"):    # one appearance code per object (Sec. 3.2)
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

    def set_segmenter(self, module: nn.Module) -> None:
        """Plug in the object-probability network of align="segmenter": any module mapping images
        [N, 3, H, W] in [-1, 1] to P(object) [N, H, W], differentiably (see ``ObjectnessNet``)."""
        self._objectness = module

    def objectness(self, device) -> nn.Module:
        if self._objectness is None:
            self._objectness = load_objectness(self.segmenter_path)
        return self._objectness.to(device)

    def g_losses(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        if self.align == "none" or self.align_weight == 0 or ctx.fake is None or ctx.control is None:
            return {}
        if ctx.step % self.align_interval:
            return {}
        if self.align == "segmenter":
            image = ctx.extras.get("image", ctx.fake[:, :3])
            level0 = ctx.control.level_indices(0) if self.sampling == HIERARCHICAL else None
            loss = objectness_loss(self.objectness(image.device)(image), ctx.control, indices=level0)
            return {"align_seg": loss * (self.align_weight * self.align_interval)}
        loss, _ = self.alignment(ctx.D, ctx.fake, ctx.control)
        return {"align": loss * (self.align_weight * self.align_interval)}

    def d_losses(self, ctx: LossContext) -> dict[str, Any]:
        return {}
