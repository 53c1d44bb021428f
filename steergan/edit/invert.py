"""Bring your own image: GAN inversion into W+ (and optionally pivotal tuning), as an edit state.

Steps, one public function each:

* ``initial_heatmaps(model, instances)``: SpatialGAN only. An instance map of the image (from a
  segmenter the caller runs; this layer does not import the metrics) -> heatmaps with one
  centre per object, measured the way the paired discriminator's layouts are
  (``layouts.layouts_from_instances``).
* ``project(model, image, ...)``: optimise W+ from the mean w (and, for SpatialGAN, the
  per-object style codes and optionally the centres) to reconstruct the image with a pixel
  MSE, optionally plus a perceptual distance on frozen EfficientNet-Lite0 features (the
  projected D's ``FeaturePyramid``; never the evaluation judge). Synthesis uses the const noise.
* ``pivotal_tune(model, ws, control, image, ...)``: PTI (Roich et al. 2021): fine-tune a copy
  of G around the pivot, with a locality term that keeps a few random latents near the pivot
  rendering what they rendered before; the coarsest blocks (below ``tune_from`` px) stay
  frozen. ``Projector`` and ``PivotalTuner`` are the same two optimisations one step at a time
  (the editor runs them as a stoppable job).
* ``inversion_state`` / ``save_tuned``: the result as an ``EditState`` with explicit W+; a
  tuned generator is written as an fp16 generator file that the state names as its model.

Images: uint8 [3, R, R] (0..255) or float [3, R, R] in [-1, 1] (what ``render_state`` returns),
at the model's resolution (the CLI crops and resizes files first).
"""
from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import torch
import torch.nn.functional as F

from ..errors import UserError
from ..methods.state import EditState
from ..methods.spatial.follow import follow_loss
from ..methods.spatial.heatmaps import HIERARCHICAL, Heatmaps, sample_hierarchical
from ..methods.spatial.layouts import foreground_layouts, heatmaps_from_layouts, layouts_from_instances

Callback = Callable[[int, float, float], None]      # (step, loss, psnr in dB)
SPACES = ("w+", "w", "z")
Z_CANDIDATES = 64           # space "z": the best of this many seeded z is where the optimisation starts
# Defaults, measured in docs/invert.md ("Faster defaults"). The perceptual term is off: on 10 held-out rooms
# (50 W+ + 100 PTI steps) pixel + 0.01 perceptual reconstructed no better than pixel alone (28.6 dB,
# SSIM 0.86-0.87 both) at 2.5x the time per step.
W_STEPS = 100               # W+ steps when W+ is the result
PIVOT_STEPS = 50            # W+ steps before PTI: tuning closes the rest of the gap
# PTI's PSNR still climbs at 100 steps: on 50 held-out rooms 150 steps gave 30.9 dB against 29.2, with
# edits that behave as well (Co-move 0.63 against 0.57, restyle outside/inside 0.011 against 0.010),
# in 5.4 s per image against 4.7 (docs/invert.md, "150 PTI steps").
PTI_STEPS = 150
PERCEPTUAL = 0.0
# PTI's locality weight is the paper's lambda_R = 0.1: weight 1 cost 2.6 dB on 4 held-out creatures
# (28.7 vs 31.2 dB); 0.1 still keeps held-out latents near the pivot to a third of the drift
# without the term. (Rendering the locality latents only every fourth step saved 20% of the time
# but let latents drift more than with no term at all on a tiny model: not used.)
PTI_LOCALITY = 0.1
# PTI tunes the layers at PTI_TUNE_FROM px and finer, at a constant learning rate: on 5 held-out rooms
# (50 W+ + 100 PTI steps) freezing the 4 and 8 px layers (the layout the pivot already has) and
# dropping the cosine ramp-down gave 28.7 dB against 27.7 with every layer and the ramp-down;
# freezing 16 px as well lost 1.5 dB (docs/invert.md, "Tuning fewer layers").
PTI_TUNE_FROM = 16
PTI_RAMPDOWN = 0.0
# PTI's learning rate by where the pivot came from (docs/invert.md, "PTI from an encoder's guess"): a
# pivot with no W+ steps (an encoder's guess) is further from the image, and 0.01 gained 0.5 dB on 8
# held-out rooms; after 50 W+ steps 0.01 was no better on rooms (28.7 both) and 0.2 dB worse on creatures.
PTI_LR = 5e-3
PTI_LR_FROM_GUESS = 1e-2
# PTI_FOLLOW: weight of the follow loss (methods/spatial/follow.py) on the tuned generator, every
# PTI_FOLLOW_EVERY-th step: one object of the image's layout moved at random must carry its pixels
# and leave the rest of the picture. Off: on 50 held-out rooms weight 0.1 made moves cleaner (rest
# change 0.0119 -> 0.0074) but cost 4.8 dB, and the Co-move Ratio did not rise (docs/invert.md,
# "Moves on a tuned generator").
PTI_FOLLOW = 0.0
PTI_FOLLOW_EVERY = 2
# Parts of the tuned blocks PTI can leave as trained (``freeze``), by the parameter names they match.
# Tuning them lets the pivot's detail hang on things that do not move with an object: the noise
# strengths scale the const noise maps, a code of pixel positions (tuning raised the 16 px ones 5-35x
# on two held-out rooms); the SpatialGAN adapters decide how a heatmap steers the features. Both tuned
# (the default): on 50 held-out rooms freezing the adapters made moves disturb the rest less (rest
# change 0.0121 -> 0.0105) for 0.7 dB, freezing the noise changed nothing (docs/invert.md, "Tuning
# around the heatmap adapters or the noise").
PTI_FREEZABLE = {"noise": ("noise.strength",), "adapters": (".adapter.",)}
PTI_FREEZE: tuple = ()
# W_FOLLOW: the same term in the W+ projection, reaching the latent instead of G (the layout's
# objects must go with their heatmaps for the latent found, every PTI_FOLLOW_EVERY-th step). Off: on
# 200 held-out rooms weights 0.1 and 0.3 carried the pixels further (content 0.68 -> 0.74 / 0.81) but
# lowered the Co-move Ratio (0.745 -> 0.703 / 0.639) and cost 0.7 / 2.0 dB (docs/invert.md, "The
# Co-move Ratio at the aim's n = 200").
W_FOLLOW = 0.0


def default_steps(pti: bool, from_encoder: bool = False) -> int:
    """W+ steps when none are asked for: ``W_STEPS`` when W+ is the result, ``PIVOT_STEPS`` before
    PTI, and none before PTI from an encoder's guess: on 10 Twitter faces the domain-term encoder's
    guess tuned to 31.9 dB and the same guess after 50 W+ steps to 30.8 (the steps leave the region
    the generator works in; docs/invert.md, "An encoder's guess far from the mean w")."""
    if pti:
        return 0 if from_encoder else PIVOT_STEPS
    return W_STEPS


def pti_lr(pivot_steps: int) -> float:
    """PTI's learning rate after ``pivot_steps`` W+ steps (0: straight from a guess)."""
    return PTI_LR_FROM_GUESS if pivot_steps == 0 else PTI_LR


# ---------------------------------------------------------------------- images and scores

def as_target(image: Any, resolution: int, device: Any = "cpu") -> torch.Tensor:
    """uint8 or [-1, 1] float image [3, R, R] (or [1, 3, R, R]) -> float [1, 3, R, R] in [-1, 1]."""
    t = torch.as_tensor(image)
    if t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or t.shape[:2] != (1, 3):
        raise UserError(f"image must be [3, R, R], got {tuple(torch.as_tensor(image).shape)}")
    if t.shape[-2:] != (resolution, resolution):
        raise UserError(f"image is {t.shape[-1]}x{t.shape[-2]}; this model makes {resolution}x{resolution} "
                        "images (crop and resize it first)")
    t = t.float() / 127.5 - 1 if t.dtype == torch.uint8 else t.float()
    return t.to(device)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB between images in [-1, 1] (peak = the [0, 1] range), after clamping."""
    mse = ((a.detach().clamp(-1, 1) - b.detach().clamp(-1, 1)) / 2).square().mean().item()
    return 10 * math.log10(1 / max(mse, 1e-12))


# ---------------------------------------------------------------------- perceptual features

@functools.lru_cache(maxsize=1)
def _pyramid():
    from ..nn.projected import FeaturePyramid     # imports the EfficientNet packages on first use
    return FeaturePyramid()


class Perceptual:
    """Distance between images on the frozen EfficientNet-Lite0 pyramid: each of the four maps
    is unit-normalised over channels (as LPIPS does) and compared by MSE, summed over scales.
    ``size``: the side the images are resized to first (64 keeps a 64 px image as it is)."""

    def __init__(self, size: int = 64, device: Any = "cpu"):
        from ..nn.pretrained import effnet_input
        self.net = _pyramid().to(device)
        self.size, self._input = int(size), effnet_input

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = images
        if x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False,
                              antialias=x.shape[-1] > self.size)
        return [f / (f.square().sum(1, keepdim=True) + 1e-8).sqrt() for f in self.net(self._input(x))]

    def distance(self, images: torch.Tensor, target_feats: list[torch.Tensor]) -> torch.Tensor:
        """Per-image distance [N] to the target's features (computed once with ``features``)."""
        return sum((f - t).square().sum(1).mean((1, 2)) for f, t in zip(self.features(images), target_feats))


# ---------------------------------------------------------------------- heatmaps from the image

def _largest_first(instances: torch.Tensor, keep: int) -> torch.Tensor:
    """Relabel instance ids 1..n by decreasing area, dropping all but the ``keep`` largest."""
    ids, counts = torch.unique(instances[instances > 0], return_counts=True)
    order = ids[torch.argsort(counts, descending=True, stable=True)][:keep]
    out = torch.zeros_like(instances, dtype=torch.uint8)
    for new, old in enumerate(order.tolist(), 1):
        out[instances == old] = new
    return out


def initial_heatmaps(model, instances: Any, style_codes: bool = True) -> Heatmaps:
    """Heatmaps [1 image] for a SpatialGAN model from an instance map [H, W] of the image
    (0 = no object, k > 0 = object k; e.g. a scene segmenter's output).

    Multi-object models: the ``n_objects`` largest objects, one centre each (mean pixel
    position) with sigma = RMS spread, the paired D's layout rule; unused slots are inactive
    (the editor can restore them). Hierarchical models: the level-0 centre covers the union
    of all objects; deeper centres come from the model's prior around it (seed 0).
    Per-object style codes (models with ``heatmap_style``) start at the mean w when
    ``style_codes``, else unset (NaN = the image's own w)."""
    if not model.method.has_heatmaps:
        raise UserError(f"{model.method.name} models have no heatmaps")
    inst = torch.as_tensor(instances)
    if inst.ndim != 2 or inst.shape[0] != inst.shape[1]:
        raise UserError(f"instance map must be square [H, W], got {tuple(inst.shape)}")
    inst = inst.long().cpu()
    ref = model.control_from_seed(0)
    if ref.kind == HIERARCHICAL:
        c, s, a = foreground_layouts((inst > 0).to(torch.uint8)[None])
        if not bool(a.any()):        # nothing found: the middle of the image, the prior's width
            c, s = torch.zeros(1, 1, 2), ref.sigmas[:, :1].cpu()
        hm = sample_hierarchical(1, torch.Generator().manual_seed(0), prior=model.method.options()["prior"],
                                 root=(c[:, 0], s[:, 0]))
    else:
        k = ref.num_centres
        hm = heatmaps_from_layouts(*layouts_from_instances(_largest_first(inst, k)[None], k))
    if ref.styles is not None:
        w = model.G.mapping.w_avg.detach().float().cpu()
        st = w.expand(1, hm.num_centres, -1).clone() if style_codes else \
            torch.full((1, hm.num_centres, w.shape[0]), float("nan"))
        hm = Heatmaps(hm.centres, hm.sigmas, hm.levels, hm.parents, hm.active, st, hm.kind)
    return hm


# ---------------------------------------------------------------------- projection

@dataclass
class Projection:
    ws: torch.Tensor                       # W+ [1, num_ws, w_dim]
    control: Optional[Heatmaps]            # fitted heatmaps (SpatialGAN) or None
    history: list = field(default_factory=list)   # per step {"step", "loss", "psnr"}
    image: Optional[torch.Tensor] = None   # the reconstruction [1, 3, R, R] in [-1, 1]


def _lr_at(step: int, steps: int, lr: float, rampdown: float = 0.25, rampup: float = 0.05) -> float:
    """StyleGAN2 projector's schedule: a short linear warm-up, a cosine ramp-down at the end."""
    t = step / max(steps, 1)
    down = min(1.0, (1 - t) / rampdown) if rampdown else 1.0
    up = min(1.0, (step + 1) / (rampup * steps)) if rampup else 1.0
    return lr * 0.5 * (1 - math.cos(down * math.pi)) * up


class _ImageFit:
    """What ``Projector`` and ``PivotalTuner`` share: the target image, the optional perceptual
    features, the step count and the history, and one optimiser step on the reconstruction loss."""

    def __init__(self, model, image, steps: int, pixel: float, perceptual: float, feature_size: int):
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise UserError(f"steps must be an integer >= 0, got {steps!r}")
        self.steps, self.pixel, self.perceptual = steps, pixel, perceptual
        self.target = as_target(image, model.resolution, model.device)
        self.percep = Perceptual(feature_size, model.device) if perceptual > 0 else None
        self.target_feats = self.percep.features(self.target) if self.percep else None
        self.history: list = []
        self.image: Optional[torch.Tensor] = None

    @property
    def done(self) -> bool:
        return len(self.history) >= self.steps

    def _init_follow(self, model, control: Optional[Heatmaps], weight: float, every: int, seed: int) -> None:
        """The follow term (``methods/spatial/follow.py``) of this fit: it needs heatmaps that move
        (SpatialGAN) and an object on them, else it is off whatever ``weight`` says."""
        movable = control is not None and "heatmap_move" in model.capabilities and bool(control.active.any())
        self.follow = weight if movable else 0.0
        self.follow_every = max(1, int(every))
        self._follow_rng = torch.Generator().manual_seed(seed + 1)

    def _follow_term(self, step: int, ws: torch.Tensor, control: Heatmaps, before: torch.Tensor,
                     **kw) -> Optional[torch.Tensor]:
        """The weighted follow loss on every ``follow_every``-th step (``kw``: ``follow_loss``'s)."""
        if not (self.follow > 0 and step % self.follow_every == 0):
            return None
        return self.follow * follow_loss(self.G, ws, control, self._follow_rng, before=before, **kw)

    def _fit(self, img: torch.Tensor, extra: Optional[torch.Tensor] = None) -> dict:
        """One step of ``self.opt``: the pixel (and perceptual) loss of ``img`` against the target,
        plus ``extra``; records the step."""
        loss = self.pixel * F.mse_loss(img, self.target)
        if self.percep:
            loss = loss + self.perceptual * self.percep.distance(img, self.target_feats).mean()
        if extra is not None:
            loss = loss + extra
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.image = img.detach()
        self.history.append({"step": len(self.history) + 1, "loss": loss.item(), "psnr": psnr(img, self.target)})
        return self.history[-1]


class Projector(_ImageFit):
    """``project`` one step at a time (the editor runs it as a stoppable job): ``step()`` ->
    {"step", "loss", "psnr"}, ``done``, ``image`` (the latest render, [1, 3, R, R]), ``result()``."""

    def __init__(self, model, image, steps: int = W_STEPS, lr: float = 0.1, pixel: float = 1.0,
                 perceptual: float = PERCEPTUAL, feature_size: int = 128, heatmaps: Optional[Heatmaps] = None,
                 fit_styles: bool = True, fit_centres: bool = False, centre_lr: float = 0.01, space: str = "w+",
                 init_ws: Optional[torch.Tensor] = None, fit_ws: bool = True, follow: float = W_FOLLOW,
                 follow_every: int = PTI_FOLLOW_EVERY, seed: int = 0, coarse_w: int = 0):
        super().__init__(model, image, steps, pixel, perceptual, feature_size)
        G, dev = model.G, model.device
        if isinstance(coarse_w, bool) or not isinstance(coarse_w, int) or not 0 <= coarse_w <= G.num_ws:
            raise UserError(f"coarse_w must be an integer in [0, {G.num_ws}], got {coarse_w!r}")
        if coarse_w and space != "w+":
            raise UserError("coarse_w ties W+ rows together: it needs space 'w+'")
        # "w+" with coarse_w = k: the first k rows (the coarsest layers, where the layout is drawn)
        # share one w, as in a sample; the finer rows stay free
        self.coarse_w = coarse_w
        if not (0 <= follow <= 100):
            raise UserError(f"follow must be in [0, 100], got {follow}")
        self.G, self.lr = G, lr
        if space not in SPACES:
            raise UserError(f"space must be one of {', '.join(SPACES)}, got {space!r}")
        # "w": one w for every layer (the space the generator was trained on: edits behave as on
        # samples, reconstructions are coarser); "w+": one w per layer (closer, less editable);
        # "z": the mapping network's input, so every w found is one the mapping makes (LinkGAN's
        # links were learnt on those only; the coarsest reconstructions)
        self.num_ws, self.space = G.num_ws, space
        # the heatmaps every render uses (SpatialGAN; seed 0's layout without an instance map)
        self.hm = None
        if model.method.has_heatmaps:
            self.hm = (heatmaps if heatmaps is not None else model.control_from_seed(0)).detach().to(dev)
        start = G.mapping.w_avg.detach().float()[None, None].repeat(1, G.num_ws, 1)
        if init_ws is not None:                    # e.g. an encoder's guess (edit.encoder.encode)
            if tuple(init_ws.shape) != tuple(start.shape):
                raise UserError(f"init_ws must be W+ {tuple(start.shape)}, got {tuple(init_ws.shape)}")
            start = init_ws.detach().float().cpu()
        if space == "z":
            if init_ws is not None:
                raise UserError("space 'z' starts from the best of a few seeded z, not from init_ws (an encoder's W+)")
            start = self._best_z(G, self.hm, dev)
        elif space == "w":
            start = start.mean(1, keepdim=True)
        # fit_ws=False keeps the latent where it starts (e.g. an encoder's W+) and fits the rest
        self._w = start.to(dev).clone().requires_grad_(fit_ws)
        params = [{"params": [self._w], "lr_scale": 1.0}] if fit_ws else []
        self.styles = self.centres = self.log_sigmas = None
        hm = self.hm
        if hm is not None:
            if fit_styles and hm.styles is not None:
                self.styles = torch.where(hm.styles.isnan(), G.mapping.w_avg.to(dev), hm.styles).clone()
                params.append({"params": [self.styles.requires_grad_(True)], "lr_scale": 1.0})
            if fit_centres:
                self.centres = hm.centres.clone().requires_grad_(True)
                self.log_sigmas = hm.sigmas.log().clone().requires_grad_(True)
                params.append({"params": [self.centres, self.log_sigmas], "lr_scale": centre_lr / lr})
        if not params:
            raise UserError("nothing to fit: fit_ws=False needs per-object style codes or fit_centres")
        self.opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999))
        self._init_follow(model, hm if fit_ws else None, follow, follow_every, seed)   # it fits the latent

    def _best_z(self, G, heatmaps: Optional[Heatmaps], dev) -> torch.Tensor:
        """Of ``Z_CANDIDATES`` seeded z, the one whose image is closest to the target in pixels
        (the mapping normalises z, so there is no neutral z to start from as w_avg is in W)."""
        z = torch.randn(Z_CANDIDATES, G.cfg.z_dim, generator=torch.Generator().manual_seed(0)).to(dev)
        with torch.no_grad():
            ctrl = None if heatmaps is None else Heatmaps.cat([heatmaps] * Z_CANDIDATES)
            imgs = G.synthesis(G.mapping_ws(z), ctrl, noise_mode="const")
            best = int((imgs - self.target).square().flatten(1).mean(1).argmin())
        return z[best:best + 1]

    @property
    def ws(self) -> torch.Tensor:
        """W+ [1, num_ws, w_dim] (one w repeated in ``space="w"``, the mapping of z in ``"z"``)."""
        if self.space == "z":
            return self.G.mapping_ws(self._w)
        if self.space == "w":
            return self._w.expand(1, self.num_ws, -1)
        k = self.coarse_w
        if k:     # the rows' mean: equal gradients keep rows that start equal equal under Adam
            return torch.cat([self._w[:, :k].mean(1, keepdim=True).expand(-1, k, -1), self._w[:, k:]], 1)
        return self._w

    def control(self) -> Optional[Heatmaps]:
        hm = self.hm
        if hm is None:
            return None
        return Heatmaps(hm.centres if self.centres is None else self.centres,
                        hm.sigmas if self.log_sigmas is None else self.log_sigmas.exp(),
                        hm.levels, hm.parents, hm.active, hm.styles if self.styles is None else self.styles, hm.kind)

    def step(self) -> dict:
        step = len(self.history)
        for g in self.opt.param_groups:
            g["lr"] = _lr_at(step, self.steps, self.lr) * g["lr_scale"]
        ws, ctrl = self.ws, self.control()
        img = self.G.synthesis(ws, ctrl, noise_mode="const")
        return self._fit(img, self._follow_term(step, ws, ctrl, img, latent_grad=True))

    def result(self) -> "Projection":
        """The latent and control as they are now (after any number of steps)."""
        with torch.no_grad():
            ctrl = self.control()
            ctrl = None if ctrl is None else ctrl.detach()
            ws = self.ws.detach().clone()
            out = self.G.synthesis(ws, ctrl, noise_mode="const")
        return Projection(ws, ctrl, list(self.history), out)


def project(model, image, steps: int = W_STEPS, lr: float = 0.1, pixel: float = 1.0, perceptual: float = PERCEPTUAL,
            feature_size: int = 128, heatmaps: Optional[Heatmaps] = None, fit_styles: bool = True,
            fit_centres: bool = False, centre_lr: float = 0.01, callback: Optional[Callback] = None,
            space: str = "w+", init_ws: Optional[torch.Tensor] = None, follow: float = W_FOLLOW,
            coarse_w: int = 0) -> Projection:
    """Optimise W+ (from the mean w) so that G renders ``image``; deterministic (no random noise).

    SpatialGAN models render with ``heatmaps`` (default: ``initial_heatmaps`` needs an instance
    map, so without one the layout of seed 0 is used); their per-object style codes are fitted
    too (``fit_styles``), and with ``fit_centres`` the active centres and sigmas as well. ``space``:
    "w+" (one w per layer, the default) or "w" (one w for all: edits behave more like a sample's).
    ``init_ws``: where to start instead of the mean w (an encoder's W+, ``edit.encoder.encode``);
    with ``steps=0`` the result is that start itself. ``follow``: weight of the follow term (a
    moved object must carry its pixels, ``methods/spatial/follow.py``) on the latent. ``coarse_w``:
    in "w+", the first this many rows share one w."""
    p = Projector(model, image, steps, lr, pixel, perceptual, feature_size, heatmaps, fit_styles, fit_centres,
                  centre_lr, space, init_ws, follow=follow, coarse_w=coarse_w)
    while not p.done:
        h = p.step()
        if callback:
            callback(h["step"], h["loss"], h["psnr"])
    return p.result()


# ---------------------------------------------------------------------- pivotal tuning

def _round_fp16(module: torch.nn.Module) -> None:
    """Round every float tensor to fp16 and back, so the module is what its fp16 file reloads."""
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())


def freeze_parts(synthesis: torch.nn.Module, parts: Sequence[str]) -> None:
    """Freeze the parameters of the named ``PTI_FREEZABLE`` parts."""
    unknown = [p for p in parts if p not in PTI_FREEZABLE]
    if unknown:
        raise UserError(f"cannot freeze {', '.join(map(repr, unknown))} in PTI; choose from "
                        f"{', '.join(PTI_FREEZABLE)}")
    keys = [k for p in parts for k in PTI_FREEZABLE[p]]
    for name, t in synthesis.named_parameters():
        if any(k in name for k in keys):
            t.requires_grad_(False)


def freeze_coarse_layers(synthesis: torch.nn.Module, tune_from: int) -> None:
    """Freeze the constant input and every conv and toRGB of the blocks coarser than ``tune_from``
    px (``tune_from`` <= 4 freezes nothing): PTI then neither moves nor back-propagates into them."""
    if tune_from > 4:
        synthesis.const.requires_grad_(False)
    for spec in synthesis.layer_specs:
        if spec.resolution < tune_from:
            synthesis.convs[spec.index].requires_grad_(False)
    for block, res in enumerate(synthesis.resolutions):
        if res < tune_from:
            synthesis.to_rgbs[block].requires_grad_(False)


class PivotalTuner(_ImageFit):
    """``pivotal_tune`` one step at a time (the editor runs it as a stoppable job after the
    projection): ``step()`` -> {"step", "loss", "psnr"}, ``done``, ``image`` (the latest render of
    the pivot, [1, 3, R, R]), ``result()`` (the tuned generator, frozen; fp16-rounded with ``fp16``)."""

    def __init__(self, model, ws: torch.Tensor, control: Optional[Heatmaps], image, steps: int = PTI_STEPS,
                 lr: float = PTI_LR, pixel: float = 1.0, perceptual: float = PERCEPTUAL, feature_size: int = 128,
                 locality: float = PTI_LOCALITY, n_local: int = 4, local_reach: float = 0.5, seed: int = 0,
                 rampdown: float = PTI_RAMPDOWN, betas=(0.9, 0.999), fp16: bool = True,
                 tune_from: int = PTI_TUNE_FROM, pivot_lr: float = 0.0, locality_every: int = 1,
                 follow: float = PTI_FOLLOW, follow_every: int = PTI_FOLLOW_EVERY, freeze: Sequence[str] = PTI_FREEZE):
        super().__init__(model, image, steps, pixel, perceptual, feature_size)
        self.locality_every = locality_every
        self._init_follow(model, control, follow, follow_every, seed)
        G0, dev = model.G, model.device
        self.lr, self.rampdown, self.locality, self.fp16 = lr, rampdown, locality, fp16
        self.ws = ws.detach().to(dev)
        self.ctrl = None if control is None else control.detach().to(dev)
        # locality: latents part of the way from the pivot to random samples keep their images
        self.local_ws, self.local_targets = [], []
        if locality > 0 and n_local > 0:
            g = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                z = torch.randn(n_local, G0.cfg.z_dim, generator=g).to(dev)
                w_rand = G0.mapping_ws(z)
                self.local_ws = list(self.ws + local_reach * (w_rand - self.ws))
                for w in self.local_ws:
                    self.local_targets.append(G0.synthesis(w[None], self.ctrl, noise_mode="const"))
        self.G = copy.deepcopy(G0).train(False).requires_grad_(True)
        self.G.mapping.requires_grad_(False)           # the pivot is fixed: only synthesis moves
        freeze_coarse_layers(self.G.synthesis, tune_from)
        freeze_parts(self.G.synthesis, freeze)
        params = [{"params": [p for p in self.G.parameters() if p.requires_grad], "lr_scale": 1.0}]
        if pivot_lr > 0:        # the pivot moves with the weights (ablation option)
            self.ws = self.ws.clone().requires_grad_(True)
            params.append({"params": [self.ws], "lr": pivot_lr, "lr_scale": pivot_lr / lr})
        self.opt = torch.optim.Adam(params, lr=lr, betas=betas)
        self.both = None if self.ctrl is None else self.ctrl.collate([self.ctrl, self.ctrl])
        # The frozen blocks see the same latents and heatmaps at every step (the pivot is fixed), so
        # their output is rendered once here: 11% of a step on `rooms` at 64 px
        # (bench/pti_step_speed.py).
        self.tune_from = tune_from if pivot_lr == 0 and tune_from in G0.synthesis.resolutions[1:] else 4
        self._heads = None
        if self.tune_from > 4:
            with torch.no_grad():
                lat = [self.ws] + [w[None] for w in self.local_ws]
                self._heads = [self.G.synthesis.run_blocks(w, self.ctrl, "const", stop_res=self.tune_from)
                               for w in lat]
        self._result = None

    def _render(self, rows: list[int]) -> torch.Tensor:
        """The pivot (row 0) and locality latents (row k + 1) through the tuned blocks, as a batch."""
        ws = torch.cat([self.ws if r == 0 else self.local_ws[r - 1][None] for r in rows])
        ctrl = self.ctrl if len(rows) == 1 else self.both
        if self._heads is None:
            return self.G.synthesis(ws, ctrl, noise_mode="const")
        x = torch.cat([self._heads[r][0] for r in rows])
        img = torch.cat([self._heads[r][1] for r in rows])
        return self.G.synthesis.run_blocks(ws, ctrl, "const", start_res=self.tune_from, x=x, img=img)[1]

    def step(self) -> dict:
        if self._result is not None:
            raise UserError("this tuning is finished: its generator was taken")
        step = len(self.history)
        if self.rampdown:
            for g in self.opt.param_groups:
                g["lr"] = _lr_at(step, self.steps, self.lr, self.rampdown, rampup=0.0) * g["lr_scale"]
        if self.local_ws and step % self.locality_every == 0:
            k = (step // self.locality_every) % len(self.local_ws)
            out = self._render([0, k + 1])
            img, local = out[:1], out[1:]
        else:
            img, local = self._render([0]), None
        extra = None if local is None else self.locality * F.mse_loss(local, self.local_targets[k])
        term = self._follow_term(step, self.ws, self.ctrl, img, render=self._render_layout)
        if term is not None:
            extra = term if extra is None else extra + term
        return self._fit(img, extra)

    def _render_layout(self, ws: torch.Tensor, control: Heatmaps) -> torch.Tensor:
        """``ws`` under another layout: the frozen blocks without a graph, the tuned ones with one."""
        if self.tune_from == 4:
            return self.G.synthesis(ws, control, noise_mode="const")
        with torch.no_grad():
            x, img = self.G.synthesis.run_blocks(ws, control, "const", stop_res=self.tune_from)
        return self.G.synthesis.run_blocks(ws, control, "const", start_res=self.tune_from, x=x, img=img)[1]

    def result(self):
        """The tuned generator as it is now (eval mode, frozen; fp16-rounded with ``fp16``, so it is
        exactly what ``save_tuned`` writes). Ends the tuning: later ``step()`` calls are refused."""
        if self._result is None:
            G = self.G.eval().requires_grad_(False)
            if self.fp16:
                _round_fp16(G)
            self._result, self.opt = G, None
        return self._result


def pivotal_tune(model, ws: torch.Tensor, control: Optional[Heatmaps], image, steps: int = PTI_STEPS,
                 lr: float = PTI_LR, pixel: float = 1.0, perceptual: float = PERCEPTUAL, feature_size: int = 128,
                 locality: float = PTI_LOCALITY, n_local: int = 4, local_reach: float = 0.5, seed: int = 0,
                 rampdown: float = PTI_RAMPDOWN, betas=(0.9, 0.999), fp16: bool = True,
                 callback: Optional[Callback] = None, history: Optional[list] = None, tune_from: int = PTI_TUNE_FROM,
                 follow: float = PTI_FOLLOW, follow_every: int = PTI_FOLLOW_EVERY, freeze: Sequence[str] = PTI_FREEZE):
    """PTI: a copy of ``model.G`` fine-tuned so that the pivot ``ws`` renders ``image``.

    Locality: ``n_local`` latents a fraction ``local_reach`` of the way from the pivot towards
    random samples (fixed by ``seed``) keep their original outputs (pixel L2 against the frozen
    G, one of them per step, rendered in the same batch as the pivot). Only the blocks at
    ``tune_from`` px and finer are tuned (``freeze_coarse_layers``), at a constant learning rate
    unless ``rampdown`` > 0 (the share of steps of a cosine ramp-down). With ``fp16`` the tuned
    weights end rounded to fp16, exactly what ``save_tuned`` writes, so a state saved with the
    file reloads bit-exactly. ``freeze`` names parts of the tuned blocks to leave as trained
    (``PTI_FREEZABLE``). Returns the tuned generator (eval mode, frozen)."""
    t = PivotalTuner(model, ws, control, image, steps, lr, pixel, perceptual, feature_size, locality, n_local,
                     local_reach, seed, rampdown, betas, fp16, tune_from, follow=follow, follow_every=follow_every,
                     freeze=freeze)
    while not t.done:
        h = t.step()
        if history is not None:
            history.append(h)
        if callback:
            callback(h["step"], h["loss"], h["psnr"])
    return t.result()


def tuned_model(model, G, source: str):
    """A ``SteerModel`` around a tuned generator (same method and config)."""
    from ..models import SteerModel
    return SteerModel(G, model.method, model.config, source, model.device)


def save_tuned(model, G, path, extra: Optional[dict] = None) -> Path:
    """Write a tuned generator as an fp16 generator file (``load_model(path)`` reads it back)."""
    from .. import checkpoint as ckpt_io
    cfg = {k: v for k, v in model.config.items() if k not in ("format", "version", "kind", "arch", "method")}
    cfg = ckpt_io.base_config("generator", model.config["arch"], model.method.to_dict(),
                              **{**cfg, "pti": {"base": model.source, **(extra or {})}})
    return ckpt_io.save_generator_file(Path(path), cfg, G.state_dict(), fp16=True)


def inversion_state(model_id: str, ws: torch.Tensor, control: Optional[Heatmaps]) -> EditState:
    """The edit state of an inversion: explicit W+ (one image), fitted heatmaps, const noise."""
    if ws.ndim != 3 or ws.shape[0] != 1:
        raise UserError(f"ws must be W+ [1, num_ws, w_dim], got {tuple(ws.shape)}")
    hm = None if control is None else control.detach().to("cpu")
    return EditState(str(model_id), ws=ws[0].detach().float().cpu().tolist(), heatmaps=hm,
                     noise_mode="const").validate()
