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

Options (JSON): ``SpatialOptions`` below, declared once (the docs table is generated from it);
``null`` defaults resolve from ``sampling``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import nn

from ...errors import UserError
from ...nn import ArchConfig, LayerSpec
from ..base import EditOp, LossContext, Method, register
from ..options import option, parse_options
from .align import align_loss, align_loss_indoor
from .follow import follow_loss
from .gradcam import CAM_RESOLUTIONS, gradcam
from .heatmaps import HIERARCHICAL, MULTI, PRIORS, Heatmaps, sample_hierarchical, sample_multi_object
from .layouts import (D_PLANES, LayoutBank, foreground_layouts, from_json, heatmap_channel,
                      heatmaps_from_layouts, layouts_from_instances, object_planes)
from .objectness import load_objectness, objectness_loss
from .parts import (check_parts, layout_heatmaps, part_alignment_loss, part_layouts, part_planes,
                    part_slot_maps, with_layout_parts)
from .sel import INDOOR_MIXES, SELConcat, SELIndoor, SELIndoorNorm, SELNorm
from .separate import separation_loss

log = logging.getLogger(__name__)
LEVEL_OF_BLOCK = {4: 0, 8: 1, 16: 2}     # Sec. 4.1: levels 0/1/2 are the 4/8/16 px blocks
CHOICES = {"sampling": (HIERARCHICAL, MULTI), "sel": ("norm", "concat", "indoor", "indoor_norm"),
           "align": ("standard", "indoor", "segmenter", "none"), "prior": PRIORS, "indoor_mix": INDOOR_MIXES,
           "d_planes": D_PLANES}


@dataclass(frozen=True)
class SpatialOptions:
    sampling: str = option(HIERARCHICAL, "heatmap law: hierarchical levels (single object) or one sub-heatmap "
                           "per object", "choice", choices=CHOICES["sampling"])
    sel: Optional[str] = option(None, "spatial encoding layer; the indoor ones need multi (indoor_norm, ours: "
                                "SEL_indoor styles + a SEL_norm branch); null: norm for hierarchical, indoor "
                                "for multi", "choice", choices=CHOICES["sel"], nullable=True)
    align: Optional[str] = option(None, "alignment loss: Eq. 4 / Eq. 5 on D's GradCAM (StyleGAN2 D only), or "
                                  "segmenter (ours: a frozen segmenter's object map), or none; null: standard "
                                  "for hierarchical, indoor for multi", "choice", choices=CHOICES["align"],
                                  nullable=True)
    segmenter: Optional[str] = option(None, "for align=segmenter: a file, a bundled kind (rooms, creatures) or "
                                      "foreground (plain-background data); null = rooms", "str", nullable=True)
    align_weight: float = option(1.0, "weight of the alignment loss (official code: 1)", "float", lo=0.0, hi=1e6)
    align_interval: int = option(1, "apply it every k-th G step, scaled by k (paper: every step)", "int",
                                 lo=1, hi=10_000)
    align_second_order: bool = option(False, "also differentiate through the GradCAM weights (official: no)",
                                      "bool")
    tau: float = option(0.25, "truncation of the per-pixel alignment error (Sec. 3.3)", "float", lo=0.0, hi=1.0,
                        hi_open=True)
    n_objects: int = option(3, "sub-heatmaps for multi (Sec. 4.1: 3)", "int", lo=1, hi=64)
    prior: str = option("paper", "hierarchical sampling law: Sec. 4.1's or the official code's", "choice",
                        choices=CHOICES["prior"])
    sel_hidden: int = option(32, "channels of SEL_norm's heatmap conv (capped at the layer's width)", "int",
                             lo=1, hi=1024)
    indoor_mix: str = option("convex", "blend of SEL_indoor (see sel.SELIndoor)", "choice",
                             choices=CHOICES["indoor_mix"])
    paired: bool = option(False, "(ours; needs instance masks) D judges (image, heatmap) pairs: real images come "
                          "with their own objects' heatmaps, G draws its layouts from the data's", "bool")
    d_planes: str = option("sum", "(ours; multi + paired) what the paired D sees of the heatmaps: their clipped "
                           "sum in one plane, or one plane per object (largest first), where a small object "
                           "inside a large one's heatmap stays visible", "choice", choices=CHOICES["d_planes"])
    parts: Optional[list] = option(None, "(ours; hierarchical + paired, needs semantic and instance maps) the part "
                                   "class of each level-1 and level-2 slot, e.g. [[\"ear\", \"ear\"], [\"eye\", "
                                   "\"eye\", \"mouth\"]]: those centres get the object's aids (see parts.py)",
                                   "json", nullable=True)
    parts_weight: float = option(0.2, "weight of the parts' segmenter alignment relative to align_weight (its "
                                 "per-class BCE starts near 10 per class, the object's near 0.05)", "float",
                                 lo=0.0, hi=1e6)
    follow: float = option(0.0, "(ours) weight of the follow loss: a moved centre carries its object, unchanged, "
                           "and the rest of the image stays (see follow.py); 0 = off", "float", lo=0.0, hi=1e6)
    follow_interval: int = option(2, "apply the follow loss every k-th G step, scaled by k", "int", lo=1, hi=10_000)
    follow_batch: int = option(8, "samples of the G batch the follow loss moves (one extra G pass each)", "int",
                               lo=1, hi=4096)
    separate: float = option(0.0, "(ours; multi + segmenter alignment with a class segmenter) weight of the "
                             "separation loss: touching heatmaps draw objects of different classes, so the "
                             "segmenter sees two objects (see separate.py); 0 = off", "float", lo=0.0, hi=1e6)
    layouts: Optional[list] = option(None, "stored with a paired model: 256 of the training layouts, so "
                                     "generation and editing sample realistic layouts without the data", "json",
                                     nullable=True)


@register
class SpatialGAN(Method):
    name = "spatial"
    capabilities = ("generate", "latent", "heatmap_move", "heatmap_sigma", "heatmap_remove", "heatmap_style")
    has_heatmaps = True
    edit_ops = tuple(EditOp(name, cap, "steergan.methods.spatial.edits:apply_heatmap_op", seeded=name == "set_style")
                     for name, cap in (("move", "heatmap_move"), ("set_centre", "heatmap_move"),
                                       ("set_sigma", "heatmap_sigma"), ("remove", "heatmap_remove"),
                                       ("restore", "heatmap_remove"), ("set_style", "heatmap_style")))

    Options = SpatialOptions

    def __init__(self, **options):
        o = parse_options(SpatialOptions, options, "spatial")
        self.sampling = o.sampling
        multi = o.sampling == MULTI
        self.sel = o.sel if o.sel is not None else ("indoor" if multi else "norm")
        self.align = o.align if o.align is not None else ("indoor" if multi else "standard")
        if not multi and ("indoor" in (self.sel, self.align) or self.sel == "indoor_norm"):
            raise UserError("spatial options sel='indoor'/'indoor_norm' and align='indoor' need sampling='multi' "
                            "(they work on per-object sub-heatmaps)")
        self.align_weight, self.align_interval = o.align_weight, o.align_interval
        self.align_second_order, self.tau, self.n_objects = o.align_second_order, o.tau, o.n_objects
        self.prior, self.sel_hidden, self.indoor_mix, self.paired = o.prior, o.sel_hidden, o.indoor_mix, o.paired
        if o.segmenter is not None and self.align != "segmenter":
            raise UserError("spatial option segmenter only applies with align='segmenter'")
        self.segmenter_path = o.segmenter
        self.parts = check_parts(o.parts)
        self.d_planes = o.d_planes
        if self.d_planes != "sum" and not (multi and self.paired):
            raise UserError(f"spatial option d_planes={self.d_planes!r} needs sampling='multi' and paired=true")
        self.parts_weight = o.parts_weight
        self.follow, self.follow_interval, self.follow_batch = o.follow, o.follow_interval, o.follow_batch
        self.separate = o.separate
        if self.separate > 0 and not (multi and self.align == "segmenter"):
            raise UserError("spatial option separate needs sampling='multi' and align='segmenter'")
        if self.parts is not None and (multi or not self.paired):
            raise UserError("spatial option parts needs sampling='hierarchical' and paired=true")
        layouts = o.layouts
        self._objectness: Optional[nn.Module] = None
        self.layouts = layouts
        self._bank: Optional[LayoutBank] = None
        if layouts is not None:
            if not self.paired:
                raise UserError("spatial option layouts only applies with paired=true")
            slots = self.n_objects if multi else (7 if self.parts else 1)   # objects, the one, or all centres
            self._bank = LayoutBank(*from_json(layouts, slots))
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
                **({"parts": [list(p) for p in self.parts], "parts_weight": self.parts_weight} if self.parts else {}),
                **({"segmenter": self.segmenter_path} if self.align == "segmenter" else {}),
                **({"d_planes": self.d_planes} if self.d_planes != "sum" else {}),
                **({"follow": self.follow, "follow_interval": self.follow_interval, "follow_batch": self.follow_batch}
                   if self.follow > 0 else {}),
                **({"separate": self.separate} if self.separate > 0 else {}),
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
        if self.parts:
            return 1 + len(self.parts)               # the object's plane, then one per part level
        if self.d_planes == "objects":               # (only ever set with paired=true)
            return self.n_objects                    # one plane per object slot
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

    def training_masks(self, load) -> torch.Tensor:
        if not self.parts:
            return super().training_masks(load)
        instances, _ = load("instances")
        semantic, classes = load("semantic")
        return part_slot_maps(instances, semantic, classes, self.parts)

    def bind_masks(self, masks: torch.Tensor) -> None:
        """Training: every image's layout; G samples from all of them, the config keeps 256."""
        c, s, a = self._layouts(masks)
        dropped = int((masks.flatten(1).amax(1) > self.n_objects).sum()) if self.sampling == MULTI else 0
        if dropped:
            log.warning("%d images have more than n_objects=%d objects; the extra ones are ignored",
                        dropped, self.n_objects)
        self._bank = LayoutBank(c, s, a)
        self.layouts = self._bank.subset_json(keep_slots=bool(self.parts))

    def _layouts(self, masks: torch.Tensor):
        if self.parts:
            return part_layouts(masks, self.parts)
        if self.sampling == MULTI:
            return layouts_from_instances(masks, self.n_objects)
        return foreground_layouts(masks)

    def _d_planes(self, hm: Heatmaps, resolution: int) -> torch.Tensor:
        if self.parts:
            return part_planes(hm, self.parts, resolution)
        return object_planes(hm, resolution) if self.d_planes == "objects" else heatmap_channel(hm, resolution)

    def real_for_d(self, images: torch.Tensor, masks: Optional[torch.Tensor]) -> torch.Tensor:
        layout = self._layouts(masks.to(images.device))
        hm = layout_heatmaps(*layout) if self.parts else heatmaps_from_layouts(*layout)
        return torch.cat([images, self._d_planes(hm, images.shape[-1]).to(images.dtype)], 1)

    def fake_for_d(self, G, ws: torch.Tensor, control) -> tuple[torch.Tensor, dict]:
        img = G.synthesis(ws, control)
        if not self.paired:
            return img, {}
        return torch.cat([img, self._d_planes(control, img.shape[-1]).to(img.dtype)], 1), {"image": img}

    # ------------------------------------------------------------------ control state
    def sample_control(self, batch: int, G, device: torch.device,
                       generator: Optional[torch.Generator] = None) -> Heatmaps:
        if self.sampling == HIERARCHICAL:
            root, layout = None, None
            if self._bank is not None:
                layout = self._bank.sample(batch, generator)
                root = (layout[0][:, 0], layout[1][:, 0])
            elif self.paired:
                raise UserError("this paired SpatialGAN has no stored layouts (train it on data with instance maps)")
            hm = sample_hierarchical(batch, generator, prior=self.prior, root=root)
            if self.parts and layout is not None:
                hm = with_layout_parts(hm, *layout, self.parts)
            return hm.to(device)
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

    def start_control(self, model, seed: int, truncation: float = 1.0) -> Heatmaps:
        """A seed's heatmaps for editing, per-object style codes truncated like the latent."""
        from .edits import seed_heatmaps
        return seed_heatmaps(model, seed, truncation)

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

    def load_training_aids(self, device) -> None:
        if self.align == "segmenter" and self.align_weight > 0:
            self.objectness(device)

    def objectness(self, device) -> nn.Module:
        if self._objectness is None:
            self._objectness = load_objectness(self.segmenter_path)
        return self._objectness.to(device)

    def g_losses(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        losses = self._alignment_losses(ctx)
        if self.follow > 0 and ctx.control is not None and ctx.ws is not None and ctx.step % self.follow_interval == 0:
            k = min(self.follow_batch, len(ctx.control))
            term = follow_loss(ctx.G, ctx.ws[:k], ctx.control.select(list(range(k))))
            losses["follow"] = term * (self.follow * self.follow_interval)
        return losses

    def _alignment_losses(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        if self.align == "none" or self.align_weight == 0 or ctx.fake is None or ctx.control is None:
            return {}
        if ctx.step % self.align_interval:
            return {}
        if self.align == "segmenter":
            image = ctx.extras.get("image", ctx.fake[:, :3])
            level0 = ctx.control.level_indices(0) if self.sampling == HIERARCHICAL else None
            net = self.objectness(image.device)
            scale = self.align_weight * self.align_interval
            if not self.parts and not self.separate:
                return {"align_seg": objectness_loss(net(image), ctx.control, indices=level0) * scale}
            if not hasattr(net, "log_probs"):
                raise UserError("spatial options parts and separate need a class segmenter for alignment, "
                                "not 'foreground'")
            logp = net.log_probs(image)
            out = {"align_seg": objectness_loss(net.objectness(logp), ctx.control, indices=level0) * scale}
            if self.parts:
                parts = part_alignment_loss(lambda c: logp[:, net.classes.index(c)].exp().clamp(1e-6, 1 - 1e-6),
                                            net.classes, ctx.control, self.parts)
                out["align_parts"] = parts * (scale * self.parts_weight)
            if self.separate:
                out["separate"] = separation_loss(logp, ~net.bg, ctx.control) * (self.separate * self.align_interval)
            return out
        loss, _ = self.alignment(ctx.D, ctx.fake, ctx.control)
        return {"align": loss * (self.align_weight * self.align_interval)}

    def d_losses(self, ctx: LossContext) -> dict[str, Any]:
        return {}
