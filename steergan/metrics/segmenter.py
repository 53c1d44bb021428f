"""A small instance-ish segmenter for the procedural scenes (stand-in for Mask R-CNN).

The Co-move Ratio (SpatialGAN TPAMI Sec. 4.2) needs an instance segmentation of generated
images. The paper uses an off-the-shelf Mask R-CNN on LSUN Bedroom; our procedural ``rooms``
(and ``creatures``) scenes come with exact masks, so a tiny U-Net trained on renders does the
job offline: it predicts the semantic class of every pixel, and instances are the connected
components (4-connectivity) of each non-background class. Two touching objects of the same
class therefore merge into one instance; components smaller than the scene renderer's
"visible" threshold (4 px at 64 px, scaled with the area) are dropped.

API
---
``Segmenter`` (protocol): ``seg(images)`` with ``images`` uint8 ``[N, 3, H, W]`` (torch or
numpy) -> list of N int32 instance masks ``[H, W]`` (0 = no object, 1..K objects).

``SceneSegmenter`` additionally has ``segment(images) -> list[Segmentation]`` (instances,
semantic map and the class of every instance), ``SceneSegmenter.train(kind, n, steps, seed)``,
``save(path)`` / ``SceneSegmenter.load(path)`` (safetensors, fp16 weights, JSON metadata in
the header; never pickle) and ``evaluate_segmenter(seg, n, seed)`` (pixel accuracy and mean
IoU against ground-truth renders).

The bundled ``assets/segmenter_rooms.safetensors`` (0.2M parameters, fp16) was trained with
``SceneSegmenter.train("rooms", time_limit=295)`` (2000 renders of seed 0, 1097 steps of batch 16,
5 minutes on one shared CPU thread). On 200 held-out renders of seed 1: pixel accuracy 0.965,
mean IoU 0.759 over the 8 classes (wall 0.96, floor 0.96, bed 0.88, window 0.77, painting 0.71,
lamp 0.46, table 0.54, plant 0.80; thin lamp poles and table legs are the hard part at 64 px).
Its metadata (``eval``) records these numbers. ``assets/segmenter_creatures.safetensors`` was
trained the same way with ``SceneSegmenter.train("creatures", time_limit=240)`` (885 steps, one
thread, the machine shared): pixel accuracy 0.990, mean IoU 0.878 over 5 classes (background
0.99, head 0.95, ear 0.78, eye 0.83, mouth 0.83) on 200 renders of seed 1.

``ForegroundSegmenter`` needs no training: objects are the connected regions that differ from a
plain background colour (imported emoji on white).
"""
from __future__ import annotations

import functools

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Protocol, Sequence, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError
from .fit import TimedCosine
from ..nn.segnet import ASSETS, FORMAT, META_KEY, VERSION, TinyUNet, read_segnet  # noqa: F401 (re-exported)

BACKGROUND = {"rooms": ("wall", "floor"), "creatures": ("background",)}


@runtime_checkable
class Segmenter(Protocol):
    def __call__(self, images) -> list:  # uint8 [N, 3, H, W] -> list of int [H, W] instance masks
        ...


@dataclass
class Segmentation:
    """One image: ``instances`` int32 [H, W] (0 = none), ``semantic`` uint8 [H, W] class ids,
    ``classes`` {instance id: class id}."""

    instances: np.ndarray
    semantic: np.ndarray
    classes: dict = field(default_factory=dict)


# ---------------------------------------------------------------------- connected components

def min_pixels(height: int, width: int) -> int:
    """The scene renderer's visibility threshold: 4 px at 64x64, scaled with the area."""
    return max(4, round(4 * height * width / 64 ** 2))


def _label_numpy(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """4-connected components of a boolean mask (two-pass union-find; scipy fallback)."""
    h, w = mask.shape
    lab = np.zeros((h, w), np.int32)
    parent = [0]

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for y in range(h):
        row, up = mask[y], lab[y - 1] if y else None
        for x in range(w):
            if not row[x]:
                continue
            left = lab[y, x - 1] if x and row[x - 1] else 0
            top = up[x] if up is not None and mask[y - 1, x] else 0
            if left and top:
                a, b = find(left), find(top)
                lab[y, x] = min(a, b)
                parent[max(a, b)] = min(a, b)
            elif left or top:
                lab[y, x] = left or top
            else:
                parent.append(len(parent))
                lab[y, x] = len(parent) - 1
    roots = np.array([find(i) for i in range(len(parent))], np.int32)
    uniq, dense = np.unique(roots, return_inverse=True)
    dense = dense.astype(np.int32)              # root 0 (background) maps to 0
    return dense[lab], len(uniq) - 1


_scipy_label = None


def label_components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """4-connected components of a boolean mask: (labels int32, count); scipy if importable."""
    global _scipy_label
    if _scipy_label is None:
        try:
            from scipy.ndimage import label as _lbl
            _scipy_label = _lbl
        except ImportError:  # pragma: no cover - scipy is a test extra
            _scipy_label = False
    if _scipy_label is False:
        return _label_numpy(mask)
    lab, n = _scipy_label(mask)
    return lab.astype(np.int32), int(n)


def instances_from_semantic(semantic: np.ndarray, background_ids: Sequence[int],
                            min_size: Optional[int] = None) -> tuple[np.ndarray, dict]:
    """Connected components of every non-background class -> (instances int32 [H, W], {id: class})."""
    semantic = np.asarray(semantic)
    h, w = semantic.shape
    min_size = min_pixels(h, w) if min_size is None else min_size
    out = np.zeros((h, w), np.int32)
    classes: dict[int, int] = {}
    for c in np.unique(semantic):
        if int(c) in background_ids:
            continue
        lab, n = label_components(semantic == c)
        if n == 0:
            continue
        sizes = np.bincount(lab.ravel(), minlength=n + 1)
        for k in range(1, n + 1):
            if sizes[k] >= min_size:
                iid = len(classes) + 1
                out[lab == k] = iid
                classes[iid] = int(c)
    return out, classes


# ---------------------------------------------------------------------- network
# ``TinyUNet`` and the file format live in ``steergan.nn.segnet`` (methods use them too).

def _as_uint8_batch(images) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(images)) if not isinstance(images, torch.Tensor) else images
    if t.ndim != 4 or t.shape[1] != 3:
        raise UserError(f"segmenter input must be uint8 images [N, 3, H, W], got {tuple(t.shape)}")
    if t.dtype != torch.uint8:
        raise UserError(f"segmenter input must be uint8, got {t.dtype}")
    return t.detach().cpu()


# ---------------------------------------------------------------------- segmenters

class ForegroundSegmenter:
    """Plain-background images (imported emoji): every connected region whose colour differs
    from ``background`` by more than ``tol`` (max over channels, 0..255) is an object."""

    def __init__(self, background=(255, 255, 255), tol: int = 24):
        self.background = np.asarray(background, np.int16).reshape(3, 1, 1)
        self.tol = int(tol)

    def __call__(self, images) -> list[np.ndarray]:
        batch = _as_uint8_batch(images).numpy().astype(np.int16)
        # a two-class map (0 = background, 1 = object) split into components like a scene segmenter's
        return [instances_from_semantic((np.abs(img - self.background).max(0) > self.tol).astype(np.uint8), (0,))[0]
                for img in batch]


def load_segmenter(name: Optional[str] = None):
    """``"foreground"`` -> ``ForegroundSegmenter()``; else ``SceneSegmenter.load(name)`` (a file
    or a bundled kind; ``None`` = rooms)."""
    return ForegroundSegmenter() if name == "foreground" else SceneSegmenter.load(name)


class SceneSegmenter:
    """Semantic U-Net + connected components; callable as a ``Segmenter``."""

    def __init__(self, net: TinyUNet, kind: str, classes: Sequence[str], background: Sequence[str],
                 resolution: int = 64, meta: Optional[dict] = None):
        self.net = net.eval().requires_grad_(False)
        self.kind, self.classes = kind, list(classes)
        self.background = tuple(background)
        unknown = [b for b in self.background if b not in self.classes]
        if unknown:
            raise UserError(f"background classes {unknown} are not among {self.classes}")
        self.background_ids = tuple(self.classes.index(b) for b in self.background)
        self.resolution = int(resolution)
        self.meta = dict(meta or {})

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    # -------------------------------------------------------------- inference
    @torch.no_grad()
    def predict_semantic(self, images, batch: int = 64) -> torch.Tensor:
        """uint8 [N, 3, H, W] -> class ids uint8 [N, H, W] (input resized to the net's resolution)."""
        imgs = _as_uint8_batch(images)
        n, _, h, w = imgs.shape
        out = []
        for i in range(0, n, batch):
            x = imgs[i:i + batch].float() / 127.5 - 1
            if (h, w) != (self.resolution, self.resolution):
                x = F.interpolate(x, size=(self.resolution, self.resolution), mode="bilinear",
                                  align_corners=False, antialias=True)
            logits = self.net(x)
            if (h, w) != (self.resolution, self.resolution):
                logits = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)
            out.append(logits.argmax(1).to(torch.uint8))
        return torch.cat(out) if out else torch.empty(0, h, w, dtype=torch.uint8)

    def segment(self, images) -> list[Segmentation]:
        sem = self.predict_semantic(images).numpy()
        res = []
        for s in sem:
            inst, cls = instances_from_semantic(s, self.background_ids)
            res.append(Segmentation(inst, s, cls))
        return res

    def __call__(self, images) -> list[np.ndarray]:
        return [s.instances for s in self.segment(images)]

    # -------------------------------------------------------------- files
    def save(self, path, fp16: bool = True) -> Path:
        from ..checkpoint import save_tagged
        sd = {k: v.detach().cpu() for k, v in self.net.state_dict().items()}
        if fp16:
            sd = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
        meta = {"format": FORMAT, "version": VERSION, "kind": self.kind, "classes": self.classes,
                "background": list(self.background), "resolution": self.resolution,
                "arch": {"name": "TinyUNet", "width": self.net.head.in_channels}, **self.meta}
        return save_tagged(path, sd, META_KEY, meta)

    @classmethod
    def load(cls, path=None) -> "SceneSegmenter":
        """A segmenter file; ``None`` or ``"rooms"`` = the bundled rooms segmenter."""
        net, meta = read_segnet(path)
        rest = {k: v for k, v in meta.items() if k not in ("format", "version", "kind", "classes", "background",
                                                           "resolution", "arch")}
        return cls(net, meta["kind"], meta["classes"], meta["background"], meta.get("resolution", 64), rest)

    # -------------------------------------------------------------- training
    @classmethod
    def train(cls, kind: str = "rooms", n: int = 2000, steps: int = 1100, seed: int = 0, resolution: int = 64,
              batch: int = 16, width: int = 16, lr: float = 4e-3, class_weight_power: float = 0.25,
              time_limit: Optional[float] = None,
              log: Optional[Callable[[str], None]] = print) -> "SceneSegmenter":
        """Train on ``n`` renders of ``(kind, seed)``; stop after ``steps`` or ``time_limit`` seconds
        (rendering included; the cosine learning-rate schedule follows whichever ends first,
        re-estimated every 10 steps from the measured speed)."""
        from ..data.scenes import classes as scene_classes, render
        if kind not in BACKGROUND:
            raise UserError(f"no segmenter recipe for scene kind {kind!r} (known: {', '.join(BACKGROUND)})")
        t0 = time.perf_counter()
        names = scene_classes(kind)
        imgs = np.empty((n, 3, resolution, resolution), np.uint8)
        sems = np.empty((n, resolution, resolution), np.uint8)
        for i in range(n):
            s = render(kind, i, resolution, seed)
            imgs[i], sems[i] = s.image.transpose(2, 0, 1), s.semantic
        t_data = time.perf_counter() - t0
        if log:
            log(f"rendered {n} {kind} images in {t_data:.1f}s")
        X, Y = torch.from_numpy(imgs), torch.from_numpy(sems).long()
        # inverse-frequency^power class weights: small objects (lamps, plants) still count
        freq = torch.bincount(Y.flatten(), minlength=len(names)).float()
        weight = (freq.sum() / freq.clamp_min(1)) ** class_weight_power
        weight = weight / (weight * freq).sum() * freq.sum()

        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        net = TinyUNet(len(names), width)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        schedule, step = TimedCosine(opt, lr, steps, time_limit, t0), 0
        while step < schedule.total:
            idx = torch.randint(0, n, (batch,), generator=g)
            x = X[idx].float() / 127.5 - 1
            y = Y[idx]
            flip = torch.rand(batch, generator=g) < 0.5
            x[flip], y[flip] = x[flip].flip(-1), y[flip].flip(-1)
            # photometric jitter + occasional blur (generated images are softer than renders)
            x = (x + 1) * (0.8 + 0.4 * torch.rand(batch, 1, 1, 1, generator=g)) - 1
            x = x + 0.1 * (torch.rand(batch, 3, 1, 1, generator=g) - 0.5)
            blur = torch.rand(batch, generator=g) < 0.3
            if bool(blur.any()):
                xb = F.interpolate(F.avg_pool2d(x[blur], 2), scale_factor=2, mode="bilinear", align_corners=False)
                x[blur] = xb
            x = x + 0.03 * torch.randn(x.shape, generator=g)
            net.train()
            loss = F.cross_entropy(net(x.clamp(-1, 1)), y, weight=weight)
            step = schedule.optimise(loss, step, log)
        meta = {"trained": {"renders": n, "render_seed": seed, "steps": step, "batch": batch, "lr": lr,
                            "width": width, "class_weight_power": class_weight_power,
                            "seconds": round(time.perf_counter() - t0, 1), "threads": torch.get_num_threads()}}
        return cls(net, kind, names, BACKGROUND[kind], resolution, meta)


# ---------------------------------------------------------------------- evaluation

def confusion(pred: np.ndarray, true: np.ndarray, num_classes: int) -> np.ndarray:
    return np.bincount(true.astype(np.int64).ravel() * num_classes + pred.astype(np.int64).ravel(),
                       minlength=num_classes ** 2).reshape(num_classes, num_classes)


def scores_from_confusion(cm: np.ndarray, classes: Sequence[str]) -> dict:
    """Pixel accuracy, per-class IoU and their mean over classes present in the ground truth."""
    tp = np.diag(cm).astype(np.float64)
    union = cm.sum(0) + cm.sum(1) - tp
    present = cm.sum(1) > 0
    iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    return {"pixel_accuracy": float(tp.sum() / max(cm.sum(), 1)),
            "mean_iou": float(np.nanmean(np.where(present, iou, np.nan))),
            "iou": {c: (None if not present[k] else round(float(iou[k]), 4)) for k, c in enumerate(classes)}}


def evaluate_segmenter(seg: SceneSegmenter, n: int = 200, seed: int = 1, resolution: Optional[int] = None,
                       start: int = 0) -> dict:
    """Semantic accuracy on renders ``start .. start+n-1`` of ``(seg.kind, seed)``; mean IoU is over classes."""
    from ..data.scenes import render
    res = resolution or seg.resolution
    samples = [render(seg.kind, i, res, seed) for i in range(start, start + n)]
    imgs = np.stack([s.image.transpose(2, 0, 1) for s in samples])
    pred = seg.predict_semantic(torch.from_numpy(imgs)).numpy()
    cm = sum(confusion(p, s.semantic, len(seg.classes)) for p, s in zip(pred, samples))
    out = scores_from_confusion(cm, seg.classes)
    out.update(n=n, seed=seed, resolution=res)
    return out


@functools.lru_cache(maxsize=2)
def _cached_segmenter(name: str):
    return load_segmenter(name)


def model_instances(model, image: torch.Tensor) -> torch.Tensor:
    """The instance map that ``model``'s segmenter (its ``segmenter`` option, else the rooms one)
    finds in a uint8 image [3, R, R]: SpatialGAN's heatmap initialisation for an inversion (the
    edit layer takes the map as input; the CLI and the editor compute it here, one cached
    segmenter per process)."""
    name = model.method.options().get("segmenter") or "rooms"
    return torch.as_tensor(_cached_segmenter(name)(image[None])[0])
