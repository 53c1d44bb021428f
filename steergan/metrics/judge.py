"""The evaluation-only judge: a network no training loss anywhere reads.

Why it exists: ``fd_effnet`` reads EfficientNet-Lite0, the network inside the projected
discriminator, and ``fd_seg`` reads the rooms / creatures segmenter that SpatialGAN's
segmenter alignment trains against. A model trained with both can lower both without
looking more like its data. ``fd_judge`` is the Fréchet distance in the features of a
third network: a residual encoder with GroupNorm (not the segmenter's U-Net, not
EfficientNet), trained from its own seed on renders of both procedural scene kinds from a
render seed that no dataset or hold-out set uses (``RENDER_SEED``).

Two tasks, so that its features know both what is in a scene and how clean it looks:
- composition (on clean renders): for every class of both kinds, whether it is present, how
  much of the image it covers and its mean colour, plus the scene kind;
- appearance: half of each batch is degraded by one of ``DEGRADATIONS`` (blur, speckle,
  colour cast, blotches, blocks) at a random strength, and the judge names which. Version 1
  had the composition task alone and ranked a garish, speckled model above a clean one that
  drew fewer objects (its features saw the objects, not the speckle; README history).
Features: the encoder's pooled 256-d embedding.

It lives in ``metrics`` (upper layer): ``nn``, ``methods`` and ``train`` never import it,
which ``tests/test_judge.py`` checks. Only meaningful on the procedural scene kinds.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError
from .extractors import _TorchExtractor, file_digest, net_input
from .fit import TimedCosine

FORMAT = "steergan-judge"
VERSION = 2
DEGRADATIONS = ("clean", "blur", "speckle", "colour_cast", "blotches", "blocks")
META_KEY = "steergan_judge"
KINDS = ("rooms", "creatures")
RENDER_SEED = 7          # datasets use seed 0, hold-out sets seed 1: never 7
TRAIN_SEED = 2024        # the judge's own initialisation seed
BUNDLED = Path(__file__).resolve().parent.parent / "assets" / "judge.safetensors"


def _gn(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(8, ch)


class PreActBlock(nn.Module):
    """Pre-activation residual block (GroupNorm, SiLU), optional stride-2 downsampling."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.n1, self.c1 = _gn(cin), nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.n2, self.c2 = _gn(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.skip = nn.Conv2d(cin, cout, 1, stride, bias=False) if (stride != 1 or cin != cout) else nn.Identity()

    def forward(self, x):
        y = self.c1(F.silu(self.n1(x)))
        return self.skip(x) + self.c2(F.silu(self.n2(y)))


class JudgeNet(nn.Module):
    """64 px image -> 256-d embedding (``embed``) -> per-class targets (``forward``)."""

    def __init__(self, num_classes: int, widths=(32, 64, 128, 256)):
        super().__init__()
        self.num_classes = num_classes
        self.stem = nn.Conv2d(3, widths[0], 3, 1, 1)
        blocks, cin = [], widths[0]
        for w in widths:                                     # 64 -> 32 -> 16 -> 8 -> 4 px
            blocks += [PreActBlock(cin, w, 2), PreActBlock(w, w, 1)]
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.norm = _gn(cin)
        self.dim = cin
        # presence logit, area fraction, mean RGB per class; then one logit per scene kind
        self.head = nn.Linear(cin, num_classes * 5 + len(KINDS) + len(DEGRADATIONS))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(self.norm(self.blocks(self.stem(x)))).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.head(self.embed(x))
        k = self.num_classes
        nk = 5 * k + len(KINDS)
        return {"presence": out[:, :k], "area": out[:, k:2 * k], "colour": out[:, 2 * k:5 * k].reshape(-1, k, 3),
                "kind": out[:, 5 * k:nk], "degradation": out[:, nk:]}


def class_names() -> list[str]:
    """Every class of both kinds, prefixed by its kind ("rooms/bed", "creatures/eye", ...)."""
    from ..data.scenes import classes as scene_classes
    return [f"{kind}/{c}" for kind in KINDS for c in scene_classes(kind)]


def targets(semantic: np.ndarray, image: np.ndarray, offset: int, num_classes: int):
    """One render's targets: presence [K], area [K], mean colour in [-1, 1] [K, 3]."""
    ids = semantic.ravel().astype(np.int64) + offset
    area = np.bincount(ids, minlength=num_classes).astype(np.float32) / ids.size
    rgb = image.reshape(-1, 3).astype(np.float64) / 127.5 - 1
    colour = np.zeros((num_classes, 3), np.float32)
    for c in range(3):
        colour[:, c] = np.bincount(ids, weights=rgb[:, c], minlength=num_classes) / np.maximum(
            area * ids.size, 1)
    return (area > 0).astype(np.float32), area, colour


def render_training_set(n_per_kind: int, resolution: int = 64, seed: int = RENDER_SEED):
    from ..data.scenes import classes as scene_classes, render
    names = class_names()
    k = len(names)
    imgs, pres, areas, cols, kinds = [], [], [], [], []
    offset = 0
    for kind_id, kind in enumerate(KINDS):
        for i in range(n_per_kind):
            s = render(kind, i, resolution, seed)
            p, a, c = targets(s.semantic, s.image, offset, k)
            imgs.append(s.image.transpose(2, 0, 1))
            pres.append(p), areas.append(a), cols.append(c), kinds.append(kind_id)
        offset += len(scene_classes(kind))
    return (torch.from_numpy(np.stack(imgs)), torch.from_numpy(np.stack(pres)), torch.from_numpy(np.stack(areas)),
            torch.from_numpy(np.stack(cols)), torch.tensor(kinds))


def degrade(x: torch.Tensor, kind: int, strength: float, g: torch.Generator) -> torch.Tensor:
    """One image [3, R, R] in [-1, 1] with degradation ``kind`` (index into DEGRADATIONS) at
    ``strength`` in [0.2, 1]: the artefacts a weak generator draws."""
    c, h, w = x.shape
    if kind == 1:                                   # blur: down and up by 2-4x
        f = 2 if strength < 0.6 else 4
        y = F.interpolate(F.avg_pool2d(x[None], f), size=(h, w), mode="bilinear", align_corners=False)[0]
    elif kind == 2:                                 # speckle: coloured per-pixel noise
        y = x + 0.5 * strength * torch.randn(x.shape, generator=g)
    elif kind == 3:                                 # colour cast / oversaturation
        gain = 1 + strength * (torch.rand(3, 1, 1, generator=g) * 2 - 1)
        mean = x.mean(0, keepdim=True)
        y = mean + (x - mean) * (1 + 2 * strength) * gain + 0.4 * strength * (torch.rand(3, 1, 1, generator=g) - 0.5)
    elif kind == 4:                                 # blotches: smooth random colour fields
        field = torch.randn(1, 3, 4, 4, generator=g)
        y = x + strength * F.interpolate(field, size=(h, w), mode="bicubic", align_corners=False)[0]
    elif kind == 5:                                 # blocks: nearest-neighbour upsampling
        f = 2 if strength < 0.6 else 4
        y = F.interpolate(x[None, :, ::f, ::f], size=(h, w), mode="nearest")[0]
    else:
        y = x
    return y.clamp(-1, 1)


def train_judge(n_per_kind: int = 3000, steps: int = 2000, batch: int = 32, lr: float = 2e-3,
                time_limit: Optional[float] = None, seed: int = TRAIN_SEED,
                log: Optional[Callable[[str], None]] = print) -> tuple[JudgeNet, dict]:
    """Train the judge; stop after ``steps`` or ``time_limit`` seconds (cosine lr over whichever
    ends first). Returns the net (eval mode) and its metadata."""
    t0 = time.perf_counter()
    X, P, A, C, Kd = render_training_set(n_per_kind)
    if log:
        log(f"rendered {len(X)} images in {time.perf_counter() - t0:.0f}s")
    names = class_names()
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    net = JudgeNet(len(names))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    schedule, step = TimedCosine(opt, lr, steps, time_limit, t0), 0
    net.train()
    while step < schedule.total:
        idx = torch.randint(0, len(X), (batch,), generator=g)
        x = X[idx].float() / 127.5 - 1
        flip = torch.rand(batch, generator=g) < 0.5
        x[flip] = x[flip].flip(-1)
        kinds = torch.where(torch.rand(batch, generator=g) < 0.5, 0,
                            torch.randint(1, len(DEGRADATIONS), (batch,), generator=g))
        strengths = 0.2 + 0.8 * torch.rand(batch, generator=g)
        x = torch.stack([degrade(x[i], int(kinds[i]), float(strengths[i]), g) for i in range(batch)])
        out = net(x)
        clean = (kinds == 0).float()                     # composition targets hold for clean renders
        present = P[idx] * clean[:, None]
        per = lambda v: (v * clean).sum() / clean.sum().clamp_min(1)    # noqa: E731
        loss = (per(F.binary_cross_entropy_with_logits(out["presence"], P[idx], reduction="none").mean(1))
                + 20 * per(F.mse_loss(out["area"], A[idx], reduction="none").mean(1))
                + ((out["colour"] - C[idx]).square().mean(-1) * present).sum() / present.sum().clamp_min(1)
                + per(F.cross_entropy(out["kind"], Kd[idx], reduction="none"))
                + F.cross_entropy(out["degradation"], kinds))
        step = schedule.optimise(loss, step, log)
    meta = {"classes": names, "kinds": list(KINDS), "resolution": 64,
            "trained": {"renders_per_kind": n_per_kind, "render_seed": RENDER_SEED, "init_seed": seed,
                        "steps": step, "batch": batch, "lr": lr, "degradations": list(DEGRADATIONS),
                        "seconds": round(time.perf_counter() - t0, 1), "threads": torch.get_num_threads()}}
    return net.eval(), meta


def save_judge(net: JudgeNet, meta: dict, path) -> Path:
    from ..checkpoint import save_tagged
    tensors = {k: v.detach().to(torch.float16) for k, v in net.state_dict().items()}
    return save_tagged(path, tensors, META_KEY, {"format": FORMAT, "version": VERSION, **meta})


def read_judge(path=None) -> tuple[JudgeNet, dict]:
    from ..checkpoint import read_tagged
    p = Path(path) if path else BUNDLED
    if not p.is_file():
        raise UserError(f"judge network not found: {p}")
    meta, tensors = read_tagged(p, META_KEY, FORMAT, VERSION, "judge")
    net = JudgeNet(len(meta["classes"]))
    try:
        net.load_state_dict(tensors)
    except RuntimeError:
        raise UserError(f"{p}: judge weights do not fit its architecture") from None
    return net.eval(), meta


class JudgeExtractor(_TorchExtractor):
    """``fd_judge``: the judge's pooled 256-d embedding of images resized to 64 px."""

    name = "fd_judge"

    def __init__(self, path=None, device="cpu", batch_size: int = 64):
        net, meta = read_judge(path)
        self.weights = file_digest(Path(path) if path else BUNDLED)
        self.dim = net.dim
        self.resolution = int(meta.get("resolution", 64))
        super().__init__(net, device, batch_size)

    def _forward(self, x):
        return self.net.embed(net_input(x, self.resolution))
