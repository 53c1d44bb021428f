"""Co-move Ratio (SpatialGAN TPAMI, Sec. 4.2 "Quantitative Analysis of Spatial Steerability", Tab. I).

For each sample: take the image of a seed and one of its sub-heatmaps ``H_i``; the
corresponding object is the instance whose mask contains ``H_i``'s centre, its centre the mean
position of its pixels. Move ``H_i``'s centre by a random 2-D vector ``p`` and generate the new
image; among the new image's objects, the one with the smallest feature distance to the
original object is the moved object, ``q`` the movement of its centre. The sample's score is
``p . q / |p|^2`` (the projection of ``q`` on ``p`` over the desired movement); the metric is the
average over samples. 1 is ideal, 0 means the object did not follow.

Choices the paper leaves open (ours):

* ``p``: uniform direction, magnitude uniform in ``[min_shift, max_shift]`` x the image size
  (default 0.1 .. 0.25), redrawn until both the moved heatmap centre and the moved object
  centre stay inside the image (so a perfect generator can reach 1).
* ``H_i``: a uniformly random *active level-0* centre. Multi-object heatmaps: any of the K
  object centres. Hierarchical heatmaps: the level-0 centre ``c^0_0``, moved together with its
  level-1/2 descendants (the whole heatmap moves; that is what moving "the object" means for
  single-object models, and the level-0 map is the coarse layout the paper moves, Fig. 10c).
* ``alone`` / ``shared``: the figure split by whether another active centre lies on the same
  object in the before image (a generator that draws two heatmaps as one object -- a lamp's
  heatmap absorbed into a bed -- cannot carry "the" object by moving one of them).
* Samples whose ``H_i`` centre lies on no object (or outside the image) are skipped and counted
  (``skipped["no_object"]`` / ``["centre_outside"]``), as are samples whose new image has no
  object at all (``["lost"]``). ``mean``/``median`` are over the valid samples only.
* Feature (pluggable ``features(image HxWx3 uint8, mask HxW bool, cls int|None) -> 1-D array``,
  compared by Euclidean distance): mean RGB of the object's pixels (in [0, 1]), the square root
  of its area fraction and, when the segmenter reports classes, the class id times
  ``CLASS_GAP`` — an object of another class is chosen only if no object of the same class
  exists. The paper's Mask R-CNN features are not available offline.
* ``rest_change_mean`` (per sample ``rest_change``): how much of the rest of the picture a move
  disturbs, the mean absolute RGB change (in [0, 1]) outside the object's mask before, that mask
  shifted by ``p`` and the matched object's mask after, each grown by ``REST_MARGIN`` pixels. A
  clean move is near 0; a smear across the floor is not (the place the object left is the next
  figure's). The ``follow`` training loss asks for the same thing on a region it takes from the
  heatmaps; this one takes it from the segmenter.
* ``vacated_residue_mean`` (per sample ``vacated_residue``; over the ``vacated_n`` samples whose
  object left some place free): of the place the object left, the share the segmenter still
  reads as an object of its class after the move, a ghost left behind (0 for a clean move).
* Sample ``j`` draws its latent seed, ``H_i`` and ``p`` from ``numpy.random.default_rng([seed, j])``,
  so results are deterministic for a seed and batch size (and sample ``j`` does not depend on ``n``;
  other batch sizes change only float rounding inside the generator).
* A second opinion that shares nothing with the segmenter or the feature match
  (``content_mean``/``content_median``, per sample ``content_ratio``): the before image's pixel
  patch around the object centre, found again in the new image by normalised cross-correlation
  (``metrics.drag_content``), its move projected on ``p`` the same way. The two disagree where
  the object is redrawn as it moves (the patch is not found again) or where the matched object
  is a different one.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError
from .drag_content import drag_content

CLASS_GAP = 100.0
SKIP_REASONS = ("centre_outside", "no_object", "no_room", "lost")
REST_MARGIN = 2             # pixels around the object's masks that a move may touch (rims, shadows)


def default_features(image: np.ndarray, mask: np.ndarray, cls: Optional[int] = None) -> np.ndarray:
    """Mean colour (RGB in [0, 1]), sqrt(area fraction) and ``CLASS_GAP * class`` (if known)."""
    pix = image[mask].astype(np.float64) / 255.0
    f = [*pix.mean(0), math.sqrt(mask.sum() / mask.size)]
    if cls is not None:
        f.append(CLASS_GAP * float(cls))
    return np.asarray(f, np.float64)


def _segment(segmenter, images: torch.Tensor) -> list[tuple[np.ndarray, Optional[dict]]]:
    """(instance mask int [H, W], {instance: class} or None) per image."""
    if hasattr(segmenter, "segment"):
        return [(np.asarray(s.instances), dict(s.classes)) for s in segmenter.segment(images)]
    masks = segmenter(images)
    if len(masks) != len(images):
        raise UserError(f"segmenter returned {len(masks)} masks for {len(images)} images")
    return [(np.asarray(m.cpu() if isinstance(m, torch.Tensor) else m), None) for m in masks]


def _objects(inst: np.ndarray, classes: Optional[dict]) -> list[tuple[int, np.ndarray, np.ndarray, Optional[int]]]:
    """[(instance id, mask, centre (x, y) in pixels, class)] for every instance."""
    out = []
    for k in np.unique(inst):
        if k == 0:
            continue
        m = inst == k
        ys, xs = np.nonzero(m)
        centre = np.array([xs.mean() + 0.5, ys.mean() + 0.5])
        out.append((int(k), m, centre, None if classes is None else classes.get(int(k))))
    return out


def _to_uint8(images: torch.Tensor) -> torch.Tensor:
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()


def _render(model, states) -> torch.Tensor:
    """uint8 [B, 3, H, W] for edit states (batched ``render_state``)."""
    from ..methods.spatial.heatmaps import Heatmaps
    device = getattr(model, "device", "cpu")
    ws = torch.cat([model.ws_from_seed(s.seed, s.truncation) if s.seed is not None else s.ws_tensor(device)
                    for s in states]).to(device)
    hm = Heatmaps.cat([s.heatmaps for s in states]).to(device)
    with torch.no_grad():
        return _to_uint8(model.synthesize(ws, hm, noise_mode=states[0].noise_mode))


def _draw_shift(rng: np.random.Generator, starts: list[np.ndarray], size: tuple[int, int],
                lo: float, hi: float, tries: int = 1000) -> Optional[np.ndarray]:
    """p (pixels): uniform direction, |p| ~ U(lo, hi) * image size; every start + p inside the image."""
    h, w = size
    scale = min(h, w)
    for _ in range(tries):
        theta = rng.uniform(0.0, 2 * math.pi)
        mag = rng.uniform(lo, hi) * scale
        p = np.array([math.cos(theta), math.sin(theta)]) * mag
        if all(0 <= s[0] + p[0] < w and 0 <= s[1] + p[1] < h for s in starts):
            return p
    return None


def _shares_object(hm, i: int, inst: np.ndarray, obj_id: int) -> bool:
    """Whether another active level-0 centre of ``hm`` lies on instance ``obj_id`` too."""
    h, w = inst.shape
    for j in hm.level_indices(0):
        if j == i or not bool(hm.active[0, j]):
            continue
        x, y = ((hm.centres[0, j] + 1) / 2 * torch.tensor([w, h])).tolist()
        if 0 <= x < w and 0 <= y < h and int(inst[int(y), int(x)]) == obj_id:
            return True
    return False


def _landed(mask: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``mask`` shifted by ``p`` (pixels, rounded): where the object should be after the move."""
    dx, dy = int(round(p[0])), int(round(p[1]))
    h, w = mask.shape
    out = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    keep = (ys + dy >= 0) & (ys + dy < h) & (xs + dx >= 0) & (xs + dx < w)
    out[ys[keep] + dy, xs[keep] + dx] = True
    return out


def _grow(mask: np.ndarray, margin: int) -> np.ndarray:
    m = torch.from_numpy(mask).float()[None, None]
    return F.max_pool2d(m, 2 * margin + 1, stride=1, padding=margin)[0, 0].numpy() > 0


def _rest_change(before: torch.Tensor, after: torch.Tensor, mask: np.ndarray, landed: np.ndarray,
                 matched: np.ndarray, margin: int = REST_MARGIN) -> float:
    """Mean absolute change (RGB in [0, 1]) of the pixels a move should leave alone: outside the
    object before, where it should land (``landed``: its mask shifted by the move) and the object
    matched after, each grown by ``margin`` pixels (shadows and anti-aliased rims). A clean move
    scores ~0; a smear over the floor raises it. NaN when nothing is left outside."""
    near = _grow(mask | landed | matched, margin)
    if near.all():
        return float("nan")
    diff = (after.float() - before.float()).abs().mean(0).numpy() / 255.0
    return float(diff[~near].mean())


def _vacated_residue(seg_after: tuple, mask: np.ndarray, landed: np.ndarray, matched: np.ndarray,
                     cls: Optional[int], margin: int = REST_MARGIN) -> float:
    """Of the place the object left (its mask before, minus where it landed and the matched
    object, grown by ``margin``), the share the segmenter still reads as an object of its class
    (any object when classes are unknown): a ghost left behind. NaN when the object left no
    place free (a move shorter than the object)."""
    vacated = mask & ~_grow(landed | matched, margin)
    if not vacated.any():
        return float("nan")
    inst, classes = seg_after
    ids = inst[vacated]
    if cls is None or classes is None:
        return float((ids > 0).mean())
    same = np.array([i > 0 and classes.get(int(i)) == cls for i in ids.tolist()])
    return float(same.mean())


def _summary(values: np.ndarray) -> dict:
    return {"mean": float(values.mean()) if len(values) else float("nan"),
            "median": float(np.median(values)) if len(values) else float("nan"), "n": int(len(values))}


def co_move_ratio(model, n: int, segmenter, seed: int = 0, max_shift: float = 0.25,
                  features: Optional[Callable[..., Any]] = None, *, min_shift: float = 0.1, batch: int = 16,
                  truncation: float = 1.0, noise_mode: str = "const", per_sample: bool = False,
                  progress: Optional[Callable[[int, int], None]] = None, start_states=None) -> dict:
    """Co-move Ratio of a heatmap model over ``n`` samples (see the module docstring).

    ``model``: a ``SteerModel`` (or anything with ``capabilities`` containing "heatmap_move",
    ``control_from_seed``, ``ws_from_seed``, ``synthesize`` and ``source``); ``segmenter``: a
    ``Segmenter`` (uint8 [N, 3, H, W] -> instance masks), optionally with ``segment`` giving classes.
    Returns ``{"mean", "median", "std", "n", "n_valid", "n_skipped", "skipped": {reason: count}, ...}``
    plus ``per_sample`` (a list of dicts) when asked. ``start_states``: edit states to edit instead
    of seeds' (e.g. inverted images; ``n`` is then their count); the rest is unchanged.
    """
    from ..methods.spatial.edits import apply_ops, state_from_seed
    caps = tuple(getattr(model, "capabilities", ()) or ())
    if "heatmap_move" not in caps:
        raise UserError(f"model {getattr(model, 'source', model)!s} has no movable heatmaps "
                        f"(capabilities: {', '.join(caps) or 'none'}); the Co-move Ratio needs 'heatmap_move'")
    if start_states is not None:
        n = len(start_states)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UserError(f"n must be a positive integer, got {n!r}")
    if not (0 < min_shift <= max_shift <= 1):
        raise UserError(f"need 0 < min_shift <= max_shift <= 1, got {min_shift}, {max_shift}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise UserError(f"batch must be a positive integer, got {batch!r}")
    feat = features or default_features
    model_id = str(getattr(model, "source", type(model).__name__))

    records: list[dict] = []
    for start in range(0, n, batch):
        js = list(range(start, min(n, start + batch)))
        rngs = [np.random.default_rng([int(seed), j]) for j in js]
        states, picks = [], []
        for rng in rngs:
            latent_seed = int(rng.integers(0, 2 ** 31 - 1))
            st = state_from_seed(model, latent_seed, truncation, noise_mode, model_id=model_id) \
                if start_states is None else start_states[len(states) + start]
            hm = st.heatmaps
            cands = [i for i in hm.level_indices(0) if bool(hm.active[0, i])]
            if not cands:
                raise UserError("the model's heatmaps have no active level-0 centre to move")
            picks.append(cands[int(rng.integers(len(cands)))])
            states.append(st)
        imgs0 = _render(model, states)
        h, w = imgs0.shape[-2:]
        segs0 = _segment(segmenter, imgs0)

        moved, pending = [], []
        for k, (j, rng, st, i) in enumerate(zip(js, rngs, states, picks)):
            rec = {"sample": j, "seed": st.seed, "index": i, "ratio": None, "skipped": None}
            records.append(rec)
            cx, cy = st.heatmaps.centres[0, i].tolist()
            hx, hy = (cx + 1) / 2 * w, (cy + 1) / 2 * h                 # pixel coordinates
            if not (0 <= hx < w and 0 <= hy < h):
                rec["skipped"] = "centre_outside"
                continue
            inst, classes = segs0[k]
            obj_id = int(inst[int(hy), int(hx)])
            if obj_id == 0:
                rec["skipped"] = "no_object"
                continue
            mask = inst == obj_id
            rec["shared"] = _shares_object(st.heatmaps, i, inst, obj_id)
            ys, xs = np.nonzero(mask)
            centre = np.array([xs.mean() + 0.5, ys.mean() + 0.5])
            p = _draw_shift(rng, [np.array([hx, hy]), centre], (h, w), min_shift, max_shift)
            if p is None:
                rec["skipped"] = "no_room"
                continue
            cls = None if classes is None else classes.get(obj_id)
            f0 = np.asarray(feat(imgs0[k].permute(1, 2, 0).numpy(), mask, cls), np.float64)
            delta = [float(p[0] * 2 / w), float(p[1] * 2 / h)]
            moved.append(apply_ops(st, [{"op": "move", "index": i, "delta": delta}]))
            pending.append((rec, p, centre, f0, cls, imgs0[k], mask))
            rec.update(p=[float(p[0]), float(p[1])], object_centre=centre.tolist(), object_class=cls)

        if moved:
            imgs1 = _render(model, moved)
            segs1 = _segment(segmenter, imgs1)
            for k, (rec, p, centre, f0, cls, before, mask) in enumerate(pending):
                objs = _objects(*segs1[k])
                if not objs:
                    rec["skipped"] = "lost"
                    continue
                img = imgs1[k].permute(1, 2, 0).numpy()
                dists = [float(np.linalg.norm(np.asarray(feat(img, m, c), np.float64) - f0)) for _, m, _, c in objs]
                best = int(np.argmin(dists))
                q = objs[best][2] - centre
                content = drag_content(before, imgs1[k], centre, centre + p)
                landed, matched = _landed(mask, p), objs[best][1]
                rec.update(q=[float(q[0]), float(q[1])], matched_class=objs[best][3],
                           feature_distance=dists[best], ratio=float(p @ q / (p @ p)),
                           content_ratio=float(content["content_progress"]),
                           rest_change=_rest_change(before, imgs1[k], mask, landed, matched),
                           vacated_residue=_vacated_residue(segs1[k], mask, landed, matched, cls))
        if progress is not None:
            progress(js[-1] + 1, n)

    ratios = np.array([r["ratio"] for r in records if r["skipped"] is None], np.float64)
    shared = np.array([bool(r.get("shared")) for r in records if r["skipped"] is None], dtype=bool)
    content = np.array([r["content_ratio"] for r in records if r["skipped"] is None], np.float64)
    rest = np.array([r["rest_change"] for r in records if r["skipped"] is None], np.float64)
    residue = np.array([r["vacated_residue"] for r in records if r["skipped"] is None], np.float64)
    skipped = {reason: sum(r["skipped"] == reason for r in records) for reason in SKIP_REASONS}
    out = {"mean": float(ratios.mean()) if len(ratios) else float("nan"),
           "median": float(np.median(ratios)) if len(ratios) else float("nan"),
           "std": float(ratios.std()) if len(ratios) else float("nan"),
           "content_mean": float(content.mean()) if len(content) else float("nan"),
           "content_median": float(np.median(content)) if len(content) else float("nan"),
           "rest_change_mean": float(np.nanmean(rest)) if np.isfinite(rest).any() else float("nan"),
           "vacated_residue_mean": float(np.nanmean(residue)) if np.isfinite(residue).any() else float("nan"),
           "vacated_n": int(np.isfinite(residue).sum()),
           "n": n, "n_valid": int(len(ratios)), "n_skipped": int(n - len(ratios)), "skipped": skipped,
           "seed": seed, "min_shift": min_shift, "max_shift": max_shift,
           # split by whether another heatmap centre lies on the same object (two heatmaps drawn
           # as one object: moving one of them cannot carry "the" object)
           "alone": _summary(ratios[~shared]), "shared": _summary(ratios[shared])}
    if per_sample:
        out["per_sample"] = records
    return out
