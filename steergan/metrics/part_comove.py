"""Part-level Co-move Ratio: move one deeper heatmap centre, find where its part went (ours).

The Co-move Ratio (``comove``) moves a level-0 centre and follows the object. Here a level-1
(or level-2) centre moves alone and the metric follows a *part*, found by a segmenter that
shares nothing with the generator's controls:

* the part under a centre: among the image's part instances (``part_classes``; default every
  class but the background and the class of the largest instance, the body), the one whose
  centroid is nearest to the centre, within ``reach`` x the image size (else the sample is
  skipped as ``no_part``);
* the move ``p``: uniform direction, magnitude uniform in [min_shift, max_shift] x the image
  size (parts live on their object: smaller than the object moves), redrawn until the centre
  and the part stay inside;
* where it went: the parts of that class before and after are paired by the assignment with
  the least total squared displacement (brute force: a class has a handful of parts), and
  ``q`` is the displacement of the moved part's partner. Score ``p . q / |p|^2`` as in the
  paper's metric: 1 the part followed, 0 it stayed. ``others_px`` is the median displacement of
  every other paired part and of the body, in pixels: a part edit should leave them alone.
"""
from __future__ import annotations

import itertools
from typing import Optional, Sequence

import numpy as np

from ..errors import UserError
from .comove import _draw_shift, _render


def _parts(seg, names: Sequence[str]) -> list[tuple[str, np.ndarray, int]]:
    """[(class name, centroid (x, y) px, area)] for every instance of one segmentation."""
    out = []
    for k, c in seg.classes.items():
        m = seg.instances == k
        if m.any():
            ys, xs = np.nonzero(m)
            out.append((names[int(c)], np.array([xs.mean() + 0.5, ys.mean() + 0.5]), int(m.sum())))
    return out


def _pair(before: list[np.ndarray], after: list[np.ndarray]) -> dict[int, int]:
    """before index -> after index, minimising the total squared displacement."""
    if not before or not after:
        return {}
    small, large, flip = (before, after, False) if len(before) <= len(after) else (after, before, True)
    if len(large) > 7:                                     # greedy beyond a handful
        pairs, used = {}, set()
        for i, b in enumerate(small):
            j = min((j for j in range(len(large)) if j not in used), key=lambda j: np.sum((large[j] - b) ** 2))
            pairs[i] = j
            used.add(j)
    else:
        best = min(itertools.permutations(range(len(large)), len(small)),
                   key=lambda perm: sum(np.sum((large[j] - small[i]) ** 2) for i, j in enumerate(perm)))
        pairs = dict(enumerate(best))
    return {j: i for i, j in pairs.items()} if flip else pairs


def part_co_move_ratio(model, n: int, segmenter, level: int = 1, seed: int = 0,
                       part_classes: Optional[Sequence[str]] = None, min_shift: float = 0.05,
                       max_shift: float = 0.12, reach: float = 0.15, batch: int = 16,
                       truncation: float = 1.0, noise_mode: str = "const") -> dict:
    """Part-level Co-move Ratio over ``n`` samples of a hierarchical heatmap model (module
    docstring). ``segmenter``: a ``SceneSegmenter`` (``segment`` with classes and ``classes``)."""
    from ..methods.spatial.edits import apply_ops, state_from_seed
    if "heatmap_move" not in tuple(getattr(model, "capabilities", ()) or ()):
        raise UserError("the part-level Co-move Ratio needs a model with movable heatmaps")
    if not hasattr(segmenter, "segment") or not hasattr(segmenter, "classes"):
        raise UserError("the part-level Co-move Ratio needs a class segmenter (rooms, creatures or a file)")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UserError(f"n must be a positive integer, got {n!r}")
    if not (0 < min_shift <= max_shift <= 1):
        raise UserError(f"need 0 < min_shift <= max_shift <= 1, got {min_shift}, {max_shift}")
    names = list(segmenter.classes)
    wanted = None if part_classes is None else set(part_classes)
    if wanted is not None and not wanted <= set(names):
        raise UserError(f"part classes {sorted(wanted - set(names))} are not among the segmenter's {names}")
    records = []
    for start in range(0, n, batch):
        js = list(range(start, min(n, start + batch)))
        rngs = [np.random.default_rng([int(seed), j, level]) for j in js]
        states = [state_from_seed(model, int(r.integers(0, 2 ** 31 - 1)), truncation, noise_mode) for r in rngs]
        if level not in states[0].heatmaps.levels:
            raise UserError(f"the model's heatmaps have no level {level}")
        imgs0 = _render(model, states)
        h, w = imgs0.shape[-2:]
        segs0 = segmenter.segment(imgs0)
        moved, pending = [], []
        for rng, st, seg in zip(rngs, states, segs0):
            rec = {"seed": st.seed, "ratio": None, "skipped": None}
            records.append(rec)
            hm = st.heatmaps
            cands = [i for i in hm.level_indices(level) if bool(hm.active[0, i])]
            i = cands[int(rng.integers(len(cands)))] if cands else None
            objs = _parts(seg, names)
            if i is None or not objs:
                rec["skipped"] = "no_part"
                continue
            body = max(objs, key=lambda o: o[2])[0]
            parts = [o for o in objs if (o[0] in wanted if wanted is not None else o[0] != body)]
            cx, cy = hm.centres[0, i].tolist()
            centre = np.array([(cx + 1) / 2 * w, (cy + 1) / 2 * h])
            near = min(parts, key=lambda o: np.linalg.norm(o[1] - centre), default=None)
            if near is None or np.linalg.norm(near[1] - centre) > reach * min(h, w):
                rec["skipped"] = "no_part"
                continue
            p = _draw_shift(rng, [centre, near[1]], (h, w), min_shift, max_shift)
            if p is None:
                rec["skipped"] = "no_room"
                continue
            delta = [float(p[0] * 2 / w), float(p[1] * 2 / h)]
            moved.append(apply_ops(st, [{"op": "move", "index": i, "delta": delta}]))
            pending.append((rec, p, near, objs))
            rec.update(index=i, part_class=near[0], p=p.tolist())
        if moved:
            segs1 = segmenter.segment(_render(model, moved))
            for (rec, p, near, objs), seg in zip(pending, segs1):
                after = _parts(seg, names)
                others = []
                q = None
                for cls in {o[0] for o in objs}:
                    b = [o[1] for o in objs if o[0] == cls]
                    a = [o[1] for o in after if o[0] == cls]
                    pairs = _pair(b, a)
                    for bi, ai in pairs.items():
                        d = a[ai] - b[bi]
                        if cls == near[0] and np.array_equal(b[bi], near[1]):
                            q = d
                        else:
                            others.append(float(np.linalg.norm(d)))
                if q is None:
                    rec["skipped"] = "lost"
                    continue
                rec.update(q=q.tolist(), ratio=float(p @ q / (p @ p)),
                           others_px=float(np.median(others)) if others else 0.0)
    valid = [r for r in records if r["skipped"] is None]
    ratios = np.array([r["ratio"] for r in valid], np.float64)
    others = np.array([r["others_px"] for r in valid], np.float64)
    nan = float("nan")
    by_class = {}
    for cls in sorted({r["part_class"] for r in valid}):
        v = np.array([r["ratio"] for r in valid if r["part_class"] == cls])
        by_class[cls] = {"mean": float(v.mean()), "median": float(np.median(v)), "n": int(len(v))}
    return {"level": level, "mean": float(ratios.mean()) if len(ratios) else nan,
            "median": float(np.median(ratios)) if len(ratios) else nan,
            "others_px_median": float(np.median(others)) if len(others) else nan,
            "by_class": by_class, "n": n, "n_valid": len(valid),
            "skipped": {k: sum(r["skipped"] == k for r in records) for k in ("no_part", "no_room", "lost")},
            "seed": seed, "min_shift": min_shift, "max_shift": max_shift, "reach": reach}
