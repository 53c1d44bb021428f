"""LinkGAN (Zhu et al., ICCV 2023) as a steergan ``Method``: a regulariser, no architecture change.

Every ``interval``-th G step (lazy, Sec. 3.2: "once every several iterations (8 iterations in this
paper)"), take the first ``reg_batch`` latents of the G step, perturb each link's axes and,
separately, all other axes, synthesise the three images with the same (constant) noise and add
Eq. 3-6 (``regulariser``), scaled by the interval as StyleGAN2 scales its lazy terms. The perturbed
images also get the non-saturating G loss from D ("the perturbed images would be also fed into the
discriminator"), so edited samples stay realistic; D's own loss is unchanged.

Options (JSON, ``--method-options``): ``LinkOptions`` below, declared once; the docs table is
generated from it. Values the paper does not publish are ours.

Why these values (our measurements on the bundled 64 px rooms baseline, 32-axis links, one-minute
fine-tunes on one shared core with interval 2, batch 16, so only indicative): with per-pixel means,
the gradient of lambda_in = lambda_out = 1 on G is 0.14-0.23x the adversarial one, and a floor link
at lambda 1 did not move in 27 regularisation steps. At lambda 10 (1.4-2.3x the adversarial
gradient) both leakages halved but the edit shrank with them (G learns to ignore w; Table 2's ratio
stayed at 1.0). The guard at rho 0.3 (the baseline's region changes 0.15-0.35x as much as between
two real images) keeps the edit alive: with these defaults Table 2's ratio (EMA generator, n = 48)
went from 0.95 to 0.66 for a lower-left box in 32 regularisation steps, from 1.17 to 0.89 for the
floor class in 27. alpha = 1 with "resample" trains the test-time edit itself.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ...nn import ArchConfig
from ..base import EditOp, LossContext, Method, register
from ..options import option, parse_options
from .regulariser import PERTURBATIONS, class_map, link_terms, masked_sq_error, pair_mask, perturb
from .spec import ClassRegion, Link, parse_links

log = logging.getLogger("steergan.link")

@dataclass(frozen=True)
class LinkOptions:
    links: Optional[list] = option(None, "list of `{\"region\": ..., \"axes\": ...}` (see `spec`)", "json",
                                   nullable=True)
    layout: Optional[str] = option(None, "`quadrants`: the paper's four-way split of image and w (Sec. 4.2.2)",
                                   "choice", choices=("quadrants",), nullable=True)
    lambda_in: float = option(10.0, "weight of Eq. 3 (no change inside the region when other axes move)",
                              "float", lo=0.0, hi=1e6)
    lambda_out: float = option(10.0, "weight of Eq. 4 (no change outside when the link's axes move)",
                               "float", lo=0.0, hi=1e6)
    perturbation: str = option("resample", "`resample` (ours): the axes are lerped by alpha towards a fresh w "
                               "(alpha 1 trains the test-time edit); `additive`: the paper's w_i + alpha p_i",
                               "choice", choices=PERTURBATIONS)
    alpha: float = option(1.0, "perturbation strength", "float", lo=0.0, hi=1e3)
    interval: int = option(8, "lazy interval (paper: 8)", "int", lo=1, hi=10_000)
    reg_batch: int = option(16, "latents per regularisation step (first ones of the G batch)", "int",
                            lo=1, hi=1 << 16)
    adv_weight: float = option(1.0, "weight of the G loss on the perturbed images (not interval-scaled)",
                               "float", lo=0.0, hi=1e6)
    segmenter: Optional[str] = option(None, "class-region segmenter file; null = the bundled rooms segmenter",
                                      "str", nullable=True)
    degenerate_ratio: float = option(0.1, "a link is degenerate when its region changes under its own axes "
                                     "less than this times the change between two real images", "float",
                                     lo=0.0, hi=1.0)
    guard_ratio: float = option(0.3, "rho of the guard relu(sqrt(rho * real change) - sqrt(G change))",
                                "float", lo=0.0, hi=10.0)
    guard_weight: float = option(5.0, "weight of the guard (keeps the region changing under its own axes)",
                                 "float", lo=0.0, hi=1e6)


def rms_hinge(floor: torch.Tensor, change: torch.Tensor) -> torch.Tensor:
    """relu(sqrt(floor) - sqrt(change)): how far a mean squared change is below a floor, in RMS units."""
    return F.relu(floor.sqrt() - (change + 1e-12).sqrt())


@register
class LinkGAN(Method):
    name = "link"
    capabilities = ("generate", "latent", "link_resample")
    views = ("link_regions",)
    edit_ops = (EditOp("resample_link", "link_resample", "steergan.methods.link.edits:apply_link_op", seeded=True),)

    Options = LinkOptions

    def __init__(self, **options):
        o = parse_options(LinkOptions, options, "link")
        parse_links(o.links, o.layout, None)              # option errors before any network exists
        self.links_json = None if o.links is None else [dict(d) for d in o.links]
        self.layout = o.layout
        self.lambda_in, self.lambda_out, self.perturbation = o.lambda_in, o.lambda_out, o.perturbation
        self.alpha, self.interval, self.reg_batch, self.adv_weight = o.alpha, o.interval, o.reg_batch, o.adv_weight
        self.segmenter_path = o.segmenter
        self.degenerate_ratio, self.guard_ratio, self.guard_weight = o.degenerate_ratio, o.guard_ratio, o.guard_weight
        self._segmenter: Optional[nn.Module] = None
        self._links: dict[int, list[Link]] = {}
        self._alive_ema: dict[int, tuple[float, float]] = {}
        self._degenerate: dict[int, bool] = {}

    def options(self) -> dict:
        return {"links": self.links_json, "layout": self.layout, "lambda_in": self.lambda_in,
                "lambda_out": self.lambda_out, "perturbation": self.perturbation, "alpha": self.alpha,
                "interval": self.interval, "reg_batch": self.reg_batch, "adv_weight": self.adv_weight,
                "segmenter": self.segmenter_path, "degenerate_ratio": self.degenerate_ratio,
                "guard_ratio": self.guard_ratio, "guard_weight": self.guard_weight}

    # ------------------------------------------------------------------ links and masks
    def links(self, w_dim: int) -> list[Link]:
        """The links with axes resolved for a w of ``w_dim`` channels."""
        if w_dim not in self._links:
            self._links[w_dim] = parse_links(self.links_json, self.layout, w_dim)
        return self._links[w_dim]

    def build_generator(self, arch: ArchConfig):
        self.links(arch.w_dim)                 # axes beyond w are a user error, found before training
        return super().build_generator(arch)

    def set_segmenter(self, module: nn.Module) -> None:
        """Plug in any module mapping images [N, 3, H, W] in [-1, 1] to class ids [N, H, W] (or
        logits [N, C, H, W]); a ``classes`` attribute lets links name classes instead of ids."""
        self._segmenter = module

    def load_training_aids(self, device) -> None:
        if self.segmenter_path is not None:         # a file the user named: check it now
            self.segmenter(device)

    def segmenter(self, device) -> nn.Module:
        if self._segmenter is None:
            from ...nn.segnet import ClassMapNet
            self._segmenter = ClassMapNet.load(self.segmenter_path)
        return self._segmenter.to(device)

    def class_ids(self, link: Link, device) -> list[int]:
        return link.region.class_ids(getattr(self.segmenter(device), "classes", None))

    # ------------------------------------------------------------------ the regulariser
    def active(self) -> bool:
        return any(v > 0 for v in (self.lambda_in, self.lambda_out, self.adv_weight, self.guard_weight))

    def perturbed(self, G, ws: torch.Tensor, axes: torch.Tensor) -> torch.Tensor:
        n = ws.shape[0]
        if self.perturbation == "resample":
            with torch.no_grad():
                target = G.mapping(torch.randn(n, G.cfg.z_dim, device=ws.device))
            return perturb(ws, axes, self.alpha, target=target)
        return perturb(ws, axes, self.alpha, noise=torch.randn(n, ws.shape[-1], device=ws.device))

    def region_masks(self, links: list[Link], images: list[torch.Tensor],
                     maps: Optional[list[torch.Tensor]] = None) -> list[list[torch.Tensor]]:
        """For each link, its region for the pairs (images[0], images[j]), j = 1.. (boxes are shared).
        ``maps``: the images' class maps, if already known."""
        n, size, dev = images[0].shape[0], images[0].shape[-1], images[0].device
        if maps is None and any(isinstance(l.region, ClassRegion) for l in links):
            maps = class_map(self.segmenter(dev), torch.cat(images)).split(n)
        out = []
        for link in links:
            ids = self.class_ids(link, dev) if maps is not None and isinstance(link.region, ClassRegion) else None
            out.append([pair_mask(link.region, size, None if maps is None else (maps[0], maps[j]), ids, dev)
                        for j in range(1, len(images))])
        return out

    @torch.no_grad()
    def real_pair_change(self, links: list[Link], real: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per link, (inside, outside) squared change between two independent real images: what
        resampling every axis that controls that part of the image would change, had G the data's
        diversity. The yardstick of the degenerate-solution guard."""
        real = real[:, :3].float()
        other = real.roll(1, 0)                 # pairs of different real images
        maps = None
        if any(isinstance(l.region, ClassRegion) for l in links):
            m0 = class_map(self.segmenter(real.device), real)
            maps = [m0, m0.roll(1, 0)]
        out = []
        for link, (m,) in zip(links, self.region_masks(links, [real, other], maps)):
            out.append((masked_sq_error(other, real, m), masked_sq_error(other, real, 1 - m)))
        return out

    def regularise(self, G, ws: torch.Tensor, real: Optional[torch.Tensor] = None
                   ) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """(weighted Eq. 6 sum over links incl. the guard, perturbed images, per-link terms).

        With a real batch, the guard (``rms_hinge``) keeps the region
        changing under its own axes (and the rest under the rest of w), rho = ``guard_ratio``;
        zero while the link is healthy."""
        links = self.links(G.cfg.w_dim)
        n = ws.shape[0]
        batch = [ws]
        for link in links:
            axes = link.axis_mask(ws.shape[-1], ws.device)
            batch += [self.perturbed(G, ws, axes), self.perturbed(G, ws, ~axes)]
        # one synthesis pass, same constant noise for all: only w differs between the images compared
        imgs = G.synthesis(torch.cat(batch), None, noise_mode="const")
        x, perturbed_imgs = imgs[:n], imgs[n:]
        masks = self.region_masks(links, list(imgs.split(n)))
        refs = self.real_pair_change(links, real) if real is not None else None
        reg = imgs.new_zeros(())
        terms: dict[int, dict] = {}
        for k, link in enumerate(links):
            x1, x2 = perturbed_imgs[2 * k * n:(2 * k + 1) * n], perturbed_imgs[(2 * k + 1) * n:(2 * k + 2) * n]
            t = link_terms(x, x1, x2, masks[k][2 * k], masks[k][2 * k + 1])
            reg = reg + self.lambda_in * t["leak_in"] + self.lambda_out * t["leak_out"]     # Eq. 5
            if refs is not None:
                ref_in, ref_out = refs[k]
                t["region_alive"] = t["change_in"].detach() / ref_in.clamp_min(1e-8)
                t["rest_alive"] = t["change_out"].detach() / ref_out.clamp_min(1e-8)
                guard = rms_hinge(self.guard_ratio * ref_in, t["change_in"]) \
                    + rms_hinge(self.guard_ratio * ref_out, t["change_out"])
                reg = reg + self.guard_weight * guard
            terms[k] = t
        return reg, perturbed_imgs, terms

    def g_losses(self, ctx: LossContext) -> dict:
        if not self.active() or ctx.ws is None or ctx.step % self.interval:
            return {}
        ws = ctx.ws[:self.reg_batch]
        reg, perturbed_imgs, terms = self.regularise(ctx.G, ws, ctx.real)
        out: dict = {"link_reg": reg * self.interval}
        if self.adv_weight > 0:
            aug = ctx.augment or (lambda t: t)
            logits = ctx.D(aug(perturbed_imgs)).float()
            out["link_adv"] = self.adv_weight * F.softplus(-logits).mean()
        for k, t in terms.items():      # plain floats: logged, not optimised
            for name, v in t.items():
                out[f"link{k}/{name}"] = float(v.detach())
            if "region_alive" in t:
                out[f"link{k}/degenerate"] = float(self.watch_degenerate(k, t, ctx.step))
        return out

    def watch_degenerate(self, k: int, t: dict, step: int) -> bool:
        """Running check for the degenerate solution (notes Sec. 3: a region that no axis changes):
        warns once when link k's region (or the rest of the image) stops changing, once when it
        recovers. Running means over regularisation steps of ``region_alive``/``rest_alive``."""
        now = (float(t["region_alive"]), float(t["rest_alive"]))
        ema = self._alive_ema.get(k)
        ema = now if ema is None else tuple(0.9 * e + 0.1 * v for e, v in zip(ema, now))
        self._alive_ema[k] = ema
        bad = min(ema) < self.degenerate_ratio
        if bad != self._degenerate.get(k, False):
            if bad:
                what = "its region, under its own axes," if ema[0] < ema[1] else \
                    "the rest of the image, under the rest of w,"
                log.warning("link %d looks degenerate at step %d: %s changes only %.3f times as much as "
                            "between two real images (threshold %.3f)", k, step, what, min(ema),
                            self.degenerate_ratio)
            else:
                log.info("link %d recovered at step %d (alive ratios %.3f, %.3f)", k, step, *ema)
        self._degenerate[k] = bad
        return bad
