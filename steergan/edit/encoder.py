"""An inversion encoder: image -> W+ in one forward pass, trained on the model's own samples.

``train_encoder(model, ...)`` draws latents from the model (``mapping`` of random z, the
seed's control for methods that have one), renders them, and fits a small residual encoder to
predict the W+ back (offset from the mean w, so an untrained encoder starts at the mean image),
with an image loss on a rendered share of each batch (the latent loss alone lets errors in
directions G ignores cost as much as visible ones). ``Encoder`` files are safetensors + JSON
metadata naming the model they invert; ``encode`` gives the start that ``project`` refines
(``init_ws``), or the whole inversion when speed matters more than fidelity.

With ``real`` (images the model did not draw, e.g. the training folder), half of each batch
is those images, fitted by their reconstruction through G alone (pSp / e4e style: there is no
latent to match), each rendered with the control the inversion itself would give it (for
SpatialGAN, heatmaps from the segmenter's objects: ``real_controls``). Why: an encoder fitted
to samples alone learns what G draws, and on renders G cannot draw exactly it stayed at
16 dB however long it trained (docs/invert.md).

Models with per-object style codes (SpatialGAN's indoor variant) draw each object from its own
code, which W+ cannot stand in for. Their encoders have a style head (ours): the body's 32, 16
and 8 px features pooled under each heatmap (weights = the heatmap, normalised), an MLP ->
that object's code. ``encode_start`` gives W+ and the heatmaps with those codes; the head's last
layer starts at zero, so an untrained head gives the mean w, as the projection does.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError
from ..methods.spatial.heatmaps import Heatmaps

FORMAT, VERSION, META_KEY = "steergan-encoder", 1, "steergan_encoder"


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(cin, cout, 3, 2, 1), nn.Conv2d(cout, cout, 3, 1, 1)
        self.n1, self.n2 = nn.GroupNorm(8, cout), nn.GroupNorm(8, cout)
        self.skip = nn.Conv2d(cin, cout, 1, 2)

    def forward(self, x):
        y = F.silu(self.n1(self.c1(x)))
        return F.silu(self.skip(x) + self.n2(self.c2(y)))


POOLED = (32, 16, 8)           # feature resolutions the style head pools under each heatmap


class Encoder(nn.Module):
    """[N, 3, R, R] in [-1, 1] -> W+ [N, num_ws, w_dim] = w_avg + a predicted offset; with
    ``style_head``, also one code per heatmap (``with_styles``)."""

    def __init__(self, resolution: int, num_ws: int, w_dim: int, width: int = 32, style_head: bool = False,
                 in_channels: int = 3):
        super().__init__()
        self.resolution, self.num_ws, self.w_dim, self.width = resolution, num_ws, w_dim, width
        self.refiner, self.refine_passes = None, 0      # an ``Encoder`` of 6 channels: encoder_refine.py
        self.polisher, self.polish_passes = None, 0     # a second refiner, trained on top of the first
        layers, cin, r, pooled = [], in_channels, resolution, 0
        while r > 4:
            cout = min(width * 2 ** len(layers), 256)
            layers.append(_Block(cin, cout))
            cin, r = cout, r // 2
            pooled += cout if r in POOLED else 0
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(cin * 16, num_ws * w_dim)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)                  # starts at the mean w
        self.style_head = None
        if style_head:
            self.style_head = nn.Sequential(nn.Linear(pooled, 256), nn.SiLU(), nn.Linear(256, w_dim))
            nn.init.zeros_(self.style_head[2].weight)
            nn.init.zeros_(self.style_head[2].bias)     # starts at the mean w, too
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def _body(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        if x.shape[-1] != self.resolution:
            x = F.interpolate(x, size=(self.resolution,) * 2, mode="bilinear", align_corners=False, antialias=True)
        feats = []
        for block in self.body:
            x = block(x)
            if x.shape[-1] in POOLED:
                feats.append(x)
        return x, feats

    def _ws(self, h: torch.Tensor) -> torch.Tensor:
        return self.w_avg + self.head(h.flatten(1)).view(-1, self.num_ws, self.w_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._ws(self._body(x)[0])

    def with_styles(self, x: torch.Tensor, control) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """(W+, one code per centre of ``control`` [N, K, w_dim]); codes None without a style head.
        A removed centre pools nothing and gets the head's answer for no features."""
        h, feats = self._body(x)
        ws = self._ws(h)
        if self.style_head is None:
            return ws, None
        pooled = []
        for f in feats:
            m = control.render(f.shape[-1]).to(f.dtype)                       # [N, K, r, r]
            m = m / m.sum((-2, -1), keepdim=True).clamp(min=1e-6)
            pooled.append(torch.einsum("nkhw,nchw->nkc", m, f))
        return ws, self.w_avg + self.style_head(torch.cat(pooled, -1))


def train_encoder(model, minutes: float = 10.0, steps: int = 100_000, batch: int = 16, lr: float = 1e-3,
                  image_weight: float = 1.0, truncation: float = 0.8, seed: int = 0,
                  log: Optional[Callable[[str], None]] = print, real: Optional[torch.Tensor] = None,
                  real_controls: Optional[list] = None, latent_weight: float = 1.0,
                  init: Optional[Encoder] = None, style_head: Optional[bool] = None,
                  domain_weight: float = 0.0) -> tuple[Encoder, dict]:
    """Fit an ``Encoder`` to ``model`` for ``minutes`` (or ``steps``); returns it (eval mode) and
    metadata. ``real``: uint8 [N, 3, R, R] images for the real half of each batch (``real_controls``:
    their N controls, for methods with one). ``latent_weight``: the own samples' W+ regression
    against the image losses (lower: the encoder fits pictures more and the model's latents less).
    ``init``: an encoder to go on fitting (its weights are copied; the optimiser starts fresh).
    ``style_head``: None gives one exactly to models with per-object style codes; False never.
    ``domain_weight``: keeps the guesses for real images as close to the mean w as a typical sample
    of the model is (``domain_penalty``), so that they are pivots PTI can tune from (docs/invert.md)."""
    if not (minutes > 0 and steps > 0 and batch > 0):
        raise UserError("minutes, steps and batch must be positive")
    if not latent_weight >= 0:
        raise UserError(f"latent weight must be >= 0, got {latent_weight}")
    if not domain_weight >= 0:
        raise UserError(f"domain weight must be >= 0, got {domain_weight}")
    if real is not None and (real.ndim != 4 or real.shape[1:] != (3, model.resolution, model.resolution)):
        raise UserError(f"real images must be [N, 3, {model.resolution}, {model.resolution}], got {tuple(real.shape)}")
    if real is not None and model.method.has_heatmaps and (real_controls is None or len(real_controls) != len(real)):
        raise UserError("real images for a heatmap model need one control each")
    G = model.G.requires_grad_(False)              # the encoder learns; G stays as it is
    torch.manual_seed(seed)
    codes = has_style_codes(model)
    if style_head and not codes:
        raise UserError("a style head needs a model whose heatmaps carry one style code per object")
    head = codes if style_head is None else bool(style_head)
    enc = Encoder(model.resolution, G.num_ws, G.cfg.w_dim, style_head=head).to(model.device)
    enc.w_avg.copy_(G.mapping.w_avg.detach().float())
    if init is not None:
        if (init.resolution, init.num_ws, init.w_dim, init.width) != (enc.resolution, enc.num_ws, enc.w_dim, enc.width):
            raise UserError("the encoder to start from was made for another model (its shape differs)")
        if init.refiner is not None:
            raise UserError("the encoder to start from has a refiner, fitted to its guesses as they are; "
                            "train the refiner on (--refine), or start from an encoder without one")
        # an encoder written before style heads existed gains one (starting at the mean w)
        if init.style_head is not None and enc.style_head is None:
            raise UserError("the encoder to start from has a style head; train on with one")
        missing, unexpected = enc.load_state_dict(init.state_dict(), strict=False)
        if unexpected or any(not k.startswith("style_head.") for k in missing):
            raise UserError("the encoder to start from was made for another model (its layers differ)")
    opt = torch.optim.Adam(enc.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    radius = sample_radius(model, torch.Generator().manual_seed(0)) if domain_weight > 0 and real is not None else None
    n_real = 0 if real is None else max(1, batch // 2)
    n_own = batch - n_real
    t0, step, last = time.perf_counter(), 0, {}
    while step < steps and time.perf_counter() - t0 < minutes * 60:
        loss = torch.zeros((), device=model.device)
        if n_own > 0:
            own = _own_sample_loss(model, enc, n_own, truncation, image_weight, g, latent_weight)
            loss = loss + own["total"]
            last["latent_mse"] = round(own["latent"].item(), 5)
        if n_real > 0:
            loss_real, real_ws = _real_image_loss(model, enc, real, real_controls, n_real, g)
            loss = loss + image_weight * loss_real
            last["real_mse"] = round(loss_real.item(), 5)
            if radius is not None:
                domain = domain_penalty(real_ws, enc.w_avg, radius)
                loss = loss + domain_weight * domain
                last["domain"] = round(domain.item(), 5)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        last["loss"] = round(loss.item(), 5)
        if log and step % 100 == 0:
            log(f"step {step} " + " ".join(f"{k} {v:.4f}" for k, v in last.items())
                + f" ({time.perf_counter() - t0:.0f}s)")
    meta = {"model": str(model.source), "resolution": model.resolution, "num_ws": G.num_ws, "w_dim": G.cfg.w_dim,
            "width": enc.width, "style_head": enc.style_head is not None,
            "trained": {"steps": step, "batch": batch, "lr": lr, "truncation": truncation,
                        "image_weight": image_weight, "latent_weight": latent_weight, "domain_weight": domain_weight,
                        "continued": init is not None, "real_images": 0 if real is None else len(real),
                        "seconds": round(time.perf_counter() - t0, 1),
                        "threads": torch.get_num_threads(), **last}}
    return enc.eval().requires_grad_(False), meta


def _own_sample_loss(model, enc: Encoder, n: int, truncation: float, image_weight: float,
                     g: torch.Generator, latent_weight: float = 1.0) -> dict:
    """Samples of the model: W+ regression, plus their reconstruction on a quarter of them (the
    latent loss alone lets errors in directions G ignores cost as much as visible ones)."""
    G = model.G
    ws, img, control = own_batch(model, n, truncation, g)
    pred, codes = enc.with_styles(img, control)
    latent = F.mse_loss(pred, ws)
    if codes is not None and bool(control.active.any()):      # the objects' own codes (NaN: the image's w)
        act = control.active
        latent = latent + F.mse_loss(codes[act], control.styles_or(ws[:, 0])[act])
    total = latent_weight * latent
    if image_weight > 0:
        k = max(1, n // 4)
        sub = None if control is None else control.select(list(range(k)))
        sub = sub if codes is None else with_codes(sub, codes[:k])
        total = total + image_weight * F.mse_loss(G.synthesis(pred[:k], sub, noise_mode="const"), img[:k])
    return {"total": total, "latent": latent}


@torch.no_grad()
def own_batch(model, n: int, truncation: float, g: torch.Generator):
    """``n`` samples of the model from seeds drawn from ``g``: (W+, images, collated control or None)."""
    seeds = torch.randint(0, 2 ** 31 - 1, (n,), generator=g).tolist()
    ws = torch.cat([model.ws_from_seed(s, truncation) for s in seeds])
    controls = [model.control_from_seed(s) for s in seeds]
    control = model.method.collate_control(controls) if controls[0] is not None else None
    return ws, model.G.synthesis(ws, control, noise_mode="const"), control


def real_batch(model, real: torch.Tensor, controls: Optional[list], n: int, g: torch.Generator):
    """``n`` of the ``real`` uint8 images drawn with ``g``, in [-1, 1] (mirrored at random when no
    control pins their layout), and their collated controls (None without)."""
    idx = torch.randint(0, len(real), (n,), generator=g)
    flip = torch.rand(n, generator=g) < 0.5 if controls is None else torch.zeros(n, dtype=torch.bool)
    img = real[idx].to(model.device).float() / 127.5 - 1
    img = torch.where(flip[:, None, None, None].to(img.device), img.flip(-1), img)
    control = None if controls is None else model.method.collate_control([controls[i] for i in idx.tolist()])
    return img, control


def sample_radius(model, g: torch.Generator, n: int = 1000, quantile: float = 0.5) -> float:
    """How far from the mean w the model's own latents lie: the ``quantile`` of |w - w_avg| over
    ``n`` seeds (truncation 1). The median, not a high quantile: the distances have a long tail
    (emoji: median 9.3, 95% 17.2), and guesses in that tail were the poor pivots."""
    with torch.no_grad():
        z = torch.randn(n, model.G.cfg.z_dim, generator=g).to(model.device)
        w = model.G.mapping(z)
        return float((w - model.G.mapping.w_avg).norm(dim=-1).quantile(quantile))


def domain_penalty(ws: torch.Tensor, w_avg: torch.Tensor, radius: float) -> torch.Tensor:
    """Mean over W+ rows of (max(0, |w - w_avg| - radius) / radius)^2: nothing inside the region
    the generator was trained on, a growing cost outside it (e4e, Tov et al. 2021, keeps an
    encoder's codes in that region too, with a latent discriminator; this is the cheap form).
    An encoder's guess far outside it is a pivot PTI tunes poorly (docs/invert.md)."""
    excess = ((ws - w_avg).norm(dim=-1) - radius).clamp(min=0) / radius
    return excess.square().mean()


def _real_image_loss(model, enc: Encoder, real: torch.Tensor, controls: Optional[list], n: int,
                     g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Images G did not draw: their reconstruction through G, the only signal there is (and the
    guesses, for the domain term)."""
    img, control = real_batch(model, real, controls, n, g)
    ws, codes = enc.with_styles(img, control)
    return F.mse_loss(model.G.synthesis(ws, with_codes(control, codes), noise_mode="const"), img), ws


def save_encoder(enc: Encoder, meta: dict, path) -> Path:
    from ..checkpoint import save_tagged
    for key, net, passes in (("refiner", enc.refiner, enc.refine_passes),
                             ("polisher", enc.polisher, enc.polish_passes)):
        if net is not None:                     # what load_encoder needs to rebuild it
            meta = {**meta, key: {**meta.get(key, {}), "width": net.width, "passes": passes}}
    return save_tagged(path, enc.state_dict(), META_KEY, {"format": FORMAT, "version": VERSION, **meta})


def load_encoder_meta(path) -> dict:
    """An encoder file's metadata (less its format tag)."""
    from ..checkpoint import read_tagged
    meta, _ = read_tagged(Path(path), META_KEY, FORMAT, VERSION, "encoder")
    return {k: v for k, v in meta.items() if k not in ("format", "version")}


def load_encoder(path, model=None) -> Encoder:
    """An encoder file; with ``model``, checked to fit it (W+ shape and resolution)."""
    from ..checkpoint import read_tagged
    p = Path(path)
    meta, tensors = read_tagged(p, META_KEY, FORMAT, VERSION, "encoder")
    enc = Encoder(meta["resolution"], meta["num_ws"], meta["w_dim"], meta.get("width", 32), meta.get("style_head", False))
    ref = meta.get("refiner")
    if isinstance(ref, dict):
        enc.refiner = new_refiner(enc, ref.get("width", 32))
        enc.refine_passes = int(ref.get("passes", 1))
        pol = meta.get("polisher")
        if isinstance(pol, dict):
            enc.polisher = new_refiner(enc, pol.get("width", 32))
            enc.polish_passes = int(pol.get("passes", 1))
    try:
        enc.load_state_dict(tensors)
    except RuntimeError:
        raise UserError(f"{p}: encoder weights do not fit its architecture") from None
    if model is not None and (meta["num_ws"], meta["w_dim"], meta["resolution"]) != (
            model.G.num_ws, model.G.cfg.w_dim, model.resolution):
        raise UserError(f"encoder {p} was trained for another model ({meta['model']}): its W+ shape differs")
    return enc.eval().requires_grad_(False)


def _as_input(enc: Encoder, image) -> torch.Tensor:
    t = torch.as_tensor(image)
    t = t[None] if t.ndim == 3 else t
    x = t.float() / 127.5 - 1 if t.dtype == torch.uint8 else t.float()
    return x.to(next(enc.parameters()).device)


def new_refiner(enc: Encoder, width: int = 32) -> Encoder:
    """A refiner for ``enc`` (ReStyle, Alaluf et al. 2021): an encoder of (image, current
    reconstruction) whose output is a W+ *correction* (its w_avg stays 0 and its head starts at
    zero, so an untrained refiner leaves the guess as it is)."""
    return Encoder(enc.resolution, enc.num_ws, enc.w_dim, width, in_channels=6).to(enc.w_avg.device)


def refine_step(enc: Encoder, G, x: torch.Tensor, ws: torch.Tensor, control,
                y: Optional[torch.Tensor] = None, net: Optional[Encoder] = None) -> torch.Tensor:
    """One refinement pass: render ``ws`` (unless ``y`` is that render), let the refiner (or
    ``net``, e.g. the polisher) compare it with ``x``, correct ``ws``."""
    if y is None:
        with torch.no_grad():
            y = G.synthesis(ws, control, noise_mode="const")
    return ws + (enc.refiner if net is None else net)(torch.cat([x, y], 1))


def refined(enc: Encoder, G, x: torch.Tensor, ws: torch.Tensor, control, polish: bool = True) -> torch.Tensor:
    """``ws`` after the refiner's passes and (with ``polish``) the polisher's: ReStyle in stages,
    each stage a net that was trained with the ones before it frozen."""
    stages = [(enc.refiner, enc.refine_passes)] + ([(enc.polisher, enc.polish_passes)] if polish else [])
    for net, passes in stages:
        if net is not None:
            for _ in range(passes):
                ws = refine_step(enc, G, x, ws, control, net=net)
    return ws


@torch.no_grad()
def encode(enc: Encoder, image, G=None, control=None) -> torch.Tensor:
    """uint8 [3, R, R] (or float in [-1, 1]) -> W+ [1, num_ws, w_dim] (no style codes; see
    ``encode_start``). An encoder with a refiner needs the generator ``G`` (and the control)."""
    return encode_start(enc, image, control, G)[0]


@torch.no_grad()
def encode_start(enc: Encoder, image, control=None, G=None):
    """The inversion's start: (W+ [1, num_ws, w_dim], ``control`` with the encoder's code for each
    active object). The control comes back as it was when the encoder has no style head or the
    control carries no codes (hierarchical heatmaps, other methods). An encoder with a refiner
    then corrects W+ in its passes, rendering through ``G`` each time."""
    x = _as_input(enc, image)
    if control is not None and control.device != x.device:        # the renders and the pooling read it
        control = control.to(x.device)
    if control is None or enc.style_head is None or getattr(control, "styles", None) is None:
        ws = enc(x)
    else:
        ws, codes = enc.with_styles(x, control)
        control = with_codes(control, codes)
    if enc.refiner is not None and enc.refine_passes > 0:
        if G is None:
            raise ValueError("this encoder refines its guess through the generator: pass G")
        ws = refined(enc, G, x, ws, control)
    return ws, control


def has_style_codes(model) -> bool:
    """Whether the model's heatmaps carry one style code per object (an encoder then predicts them)."""
    return bool(model.method.has_heatmaps) and getattr(model.control_from_seed(0), "styles", None) is not None


def with_codes(control, codes: Optional[torch.Tensor]):
    """``control`` with ``codes`` [N, K, w_dim] as its active objects' style codes (removed ones keep theirs)."""
    if codes is None:
        return control
    old = control.styles
    st = codes if old is None else torch.where(control.active[..., None], codes, old.to(codes.dtype))
    return Heatmaps(control.centres, control.sigmas, control.levels, control.parents, control.active, st, control.kind)
