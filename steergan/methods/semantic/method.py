"""SemanticStyleGAN (Shi, Yang, Wan, Shen, CVPR 2022) as a steergan ``Method``.

Per class k a local generator turns (base, shape_k, texture_k) codes into a pseudo-depth
and a feature map on a coarse grid; a softmax over depths fuses them; a render network
draws the image and a segmentation, and a dual-branch D judges (image, label map) pairs.
Needs label maps for every training image (scene datasets bring them).

Options (JSON): ``SemanticOptions`` below, declared once (the docs table is generated from it);
defaults are the official ones scaled for 64 px on CPU.

Training also wants ``--mix 0.3`` (per-class style mixing, official) and optionally
``--pl-weight 0.5`` (official path-length weight; measured w.r.t. the compact W+).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

import torch

from ...errors import UserError
from ...nn import ArchConfig
from ..base import EditOp, LossContext, Method, register
from ..options import option, parse_options
from .aids import MaskConsistency, class_balance, class_shares, texture_seeking
from .discriminator import DualDiscriminator
from .generator import SemanticGenerator
from .layout import LatentLayout
from .losses import dual_r1, mask_regulariser, one_hot_labels

@dataclass(frozen=True)
class SemanticOptions:
    classes: Optional[list] = option(None, "class names in id order (class 0 = background); null: taken from "
                                     "the dataset", "json", nullable=True)
    coarse_size: Optional[int] = option(None, "local-generator grid and coarse-mask size, a power of two; null: "
                                        "R/4 (16 at 64 px; official 64 at 256 px)", "int", lo=4, hi=1024,
                                        nullable=True)
    render_start: Optional[int] = option(None, "render-net start resolution, a power of two; null: "
                                         "min(max(R/16, 8), coarse/2)", "int", lo=2, hi=512, nullable=True)
    local_channels: int = option(32, "width of the local MLPs (official 64)", "int", lo=1, hi=1024)
    feature_channels: int = option(32, "channels of f_k and the fused feature (official 512)", "int", lo=1, hi=4096)
    base_layers: int = option(2, "layers driven by the shared base codes (official 2)", "int", lo=0, hi=16)
    shape_layers: int = option(2, "layers before the depth read-out (official 4)", "int", lo=1, hi=16)
    texture_layers: int = option(2, "layers after it (official 4)", "int", lo=1, hi=16)
    lambda_mask: float = option(100.0, "weight of L_mask = ||pool(seg) - (2m-1)||^2 (official 100)", "float",
                                lo=0.0, hi=1e6)
    r1_seg_ratio: float = option(100.0, "R1 weight of the label map / of the image (official 1000 / 10)",
                                 "float", lo=0.0, hi=1e6)
    seg_width: float = option(0.5, "width of the StyleGAN2 D's segmentation tower relative to the image "
                              "tower (official 1)", "float", lo=0.01, hi=4.0)
    consistency: float = option(0.0, "ours, off by default: weight of a frozen segmenter's cross-entropy "
                                "against the generator's own label map (the image learns to draw what its mask "
                                "says; read mIoU with another segmenter then)", "float", lo=0.0, hi=1e4)
    consistency_segmenter: str = option("rooms", "segmenter file or bundled kind for consistency", "str")
    texture_seeking: float = option(0.0, "ours, off by default: weight of mode seeking on one class's texture "
                                    "code (keeps texture codes alive)", "float", lo=0.0, hi=1e4)
    class_balance: float = option(0.0, "ours, off by default: weight of KL(the data's class shares || the label "
                                  "maps' shares), which brings back a class that never wins the depth fusion",
                                  "float", lo=0.0, hi=1e4)


PART_CAPABILITY = {"shape": "class_shape", "texture": "class_texture"}     # set_code's "part"


def _part_capability(op: dict) -> str:
    part = op.get("part")
    if not isinstance(part, str) or part not in PART_CAPABILITY:
        raise UserError(f"set_code part must be one of {', '.join(PART_CAPABILITY)}, got {part!r}")
    return PART_CAPABILITY[part]


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@register
class SemanticStyleGAN(Method):
    name = "semantic"
    capabilities = ("generate", "latent", "class_shape", "class_texture", "class_depth", "class_build_up")
    views = ("semantic_layers", "build_up")
    edit_ops = (EditOp("set_code", lambda op: _part_capability(op), "steergan.methods.semantic.edits:apply_code_op",
                       seeded=True),)
    uses_masks = True

    Options = SemanticOptions

    def __init__(self, **options):
        o = parse_options(SemanticOptions, options, "semantic")
        self.opts: dict[str, Any] = {k: v for k, v in asdict(o).items() if k != "classes"}
        for key in ("coarse_size", "render_start"):
            if self.opts[key] is not None and not _is_pow2(self.opts[key]):
                raise UserError(f"semantic option {key}={self.opts[key]} must be a power of two")
        self.classes: Optional[list[str]] = None
        self._consistency: Optional[MaskConsistency] = None
        self._class_share: Optional[torch.Tensor] = None      # the data's pixel share per class (bind_masks)
        if o.classes is not None:
            self._set_classes(o.classes)

    def _set_classes(self, classes) -> None:
        if not isinstance(classes, (list, tuple)) or len(classes) < 2 or \
                not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
            raise UserError(f"semantic option classes must list at least 2 distinct names, got {classes!r}")
        self.classes = list(classes)

    def options(self) -> dict:
        return {"classes": self.classes, **self.opts}

    def require_classes(self) -> list[str]:
        if self.classes is None:
            raise UserError("method 'semantic' needs its class list: train on a dataset with label maps, "
                            "or pass {\"classes\": [...]} in --method-options")
        return self.classes

    @property
    def layout(self) -> LatentLayout:
        return LatentLayout(len(self.require_classes()), self.opts["base_layers"], self.opts["shape_layers"],
                            self.opts["texture_layers"])

    def class_index(self, name_or_index) -> int:
        """A class given by name or id -> its id (UserError naming the classes otherwise)."""
        names = self.require_classes()
        if isinstance(name_or_index, str) and name_or_index in names:
            return names.index(name_or_index)
        try:
            k = int(name_or_index)
        except (TypeError, ValueError):
            k = -1
        if not 0 <= k < len(names) or isinstance(name_or_index, bool):
            raise UserError(f"unknown class {name_or_index!r}; classes: "
                            + ", ".join(f"{i}={c}" for i, c in enumerate(names)))
        return k

    # ------------------------------------------------------------------ data
    def bind_classes(self, classes: list[str]) -> None:
        if self.classes is not None and list(classes) != self.classes:
            raise UserError(f"the dataset's classes {list(classes)} differ from the method's {self.classes}")
        self._set_classes(classes)

    def bind_masks(self, masks: torch.Tensor) -> None:
        self._class_share = class_shares(masks, len(self.require_classes()))

    def real_for_d(self, images: torch.Tensor, masks: Optional[torch.Tensor]) -> torch.Tensor:
        if masks is None:
            raise UserError("method 'semantic' judges (image, label map) pairs: the real batch has no label maps")
        return torch.cat([images, one_hot_labels(masks, len(self.classes)).to(images.dtype)], dim=1)

    # ------------------------------------------------------------------ networks
    def grid_sizes(self, resolution: int) -> tuple[int, int]:
        """(coarse_size, render_start) for an output resolution, defaults resolved and checked."""
        coarse = self.opts["coarse_size"] or resolution // 4
        start = self.opts["render_start"] or min(max(resolution // 16, 8), coarse // 2)
        if not start < coarse < resolution:
            raise UserError(f"semantic options need render_start < coarse_size < resolution, got "
                            f"{start}, {coarse}, {resolution}")
        return coarse, start

    def build_generator(self, arch: ArchConfig) -> SemanticGenerator:
        coarse, start = self.grid_sizes(arch.resolution)
        return SemanticGenerator(arch, self.layout, coarse_size=coarse, render_start=start,
                                 local_channels=self.opts["local_channels"],
                                 feature_channels=self.opts["feature_channels"])

    def d_cond_channels(self) -> int:
        return len(self.require_classes())            # the label map, one-hot, after RGB

    def build_discriminator(self, arch: ArchConfig, kind: str = "stylegan2"):
        if kind == "stylegan2":                       # the paper's dual-branch D
            return DualDiscriminator(arch, self.d_cond_channels(), self.opts["seg_width"])
        return super().build_discriminator(arch, kind)   # projected: label map through its condition tower

    def fake_for_d(self, G, ws: torch.Tensor, control: Any) -> tuple[torch.Tensor, dict]:
        out = G.synthesis.compose(ws)
        return torch.cat([out.image, out.segmentation], dim=1), {"segmentation": out.segmentation,
                                                                 "coarse_mask": out.coarse_mask}

    # ------------------------------------------------------------------ losses
    def r1_penalty(self, real_logits, real, gamma):
        img_channels = real.shape[1] - len(self.require_classes())
        penalty, r1_img, r1_seg = dual_r1(real_logits, real, img_channels, gamma, gamma * self.opts["r1_seg_ratio"])
        return penalty, {"r1_img": r1_img.item(), "r1_seg": r1_seg.item()}

    def load_training_aids(self, device) -> None:
        if self.opts["consistency"] > 0:
            self.consistency_net(device)

    def consistency_net(self, device) -> MaskConsistency:
        if self._consistency is None:
            self._consistency = MaskConsistency.load(self.opts["consistency_segmenter"], self.require_classes())
        return self._consistency.to(device)

    def g_losses(self, ctx: LossContext) -> dict[str, torch.Tensor]:
        if "segmentation" not in ctx.extras:
            return {}
        seg, image = ctx.extras["segmentation"], ctx.fake[:, :-len(self.require_classes())]
        terms = {}
        if self.opts["lambda_mask"] > 0:
            loss = mask_regulariser(seg.float(), ctx.extras["coarse_mask"].float())
            terms["mask"] = loss * self.opts["lambda_mask"]
        if self.opts["consistency"] > 0:
            terms["consistency"] = self.consistency_net(image.device).loss(image, seg) * self.opts["consistency"]
        if self.opts["class_balance"] > 0 and self._class_share is not None:
            terms["class_balance"] = self.opts["class_balance"] * class_balance(
                seg, self._class_share.to(image.device))
        if self.opts["texture_seeking"] > 0:
            terms["texture_seeking"] = self.opts["texture_seeking"] * texture_seeking(
                ctx.G.synthesis, ctx.G.layout, ctx.ws, image, seg)
        return terms
