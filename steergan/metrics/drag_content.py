"""Where did the dragged content go? A check of a drag that does not use the generator.

A drag session judges itself with its own point tracker (nearest neighbour in the generator's
features, ``steergan/edit/tracking.py``); that tracker can report "reached" while the content
under the handle barely moved (it latches onto look-alike features). ``drag_content`` measures
the move on the pixels alone, before vs after:

* **Content tracking.** The template is the *before* image patch of radius ``patch_radius``
  around the rounded handle (default ``max(2, round(4 R / 64))``: 4 px at 64 px, a 9x9 patch;
  clipped at the image border, the handle keeps its offset inside the clipped patch). It is
  searched in the *after* image by zero-mean normalised cross-correlation over all three
  channels (one score in [-1, 1] per position), at every integer displacement within
  ``ceil(|target - handle|) + margin`` of the handle on each axis (default margin: the patch
  radius, so an overshoot is seen; a wider window found more far-off look-alikes in 168 rooms
  drags), keeping the whole patch inside the image. Scores within ``1e-6`` of the best count as
  ties and the smallest displacement wins: a flat template (a uniform wall) matches everywhere
  and then reads as "did not move", which never flatters a drag.
* **Sub-pixel refinement** (a second reading beside the integer one): on each axis a parabola
  through the best score and its two neighbours puts the peak between grid positions (the
  usual refinement of template matching; at most half a pixel, none at the window's edge or
  where the scores do not curve down). Targets are rarely on the pixel grid, so whole-pixel
  displacements alone read a perfect drag to (12.4, 30.6) as up to 0.7 px off.
* ``content_end``: the handle plus the best displacement; ``content_progress``: its projection
  on ``target - handle`` over ``|target - handle|`` (1 = all the way, 0 = not at all, < 0 =
  away); ``content_end_distance``: pixels from ``content_end`` to the target (and
  ``content_end_subpixel`` / ``content_end_distance_subpixel``, the refined reading); ``ncc``: the best
  score (low = the content was not found again, e.g. it was destroyed); ``template_std``: the
  template's standard deviation on [0, 1] (near 0 = flat, the position is not identifiable).
* ``scene_change``: the share of pixels *away from the drag* whose mean absolute RGB
  difference (on [0, 1]) exceeds ``change_threshold`` (default 0.1, about 25 of 255 grey
  levels: a visible change; on the bundled rooms model, hybrid drags whose content arrived
  within 2 px change a median 2% of the far pixels, DragGAN-alone drags ~35%). "Near the
  drag" is the capsule of radius ``near = max(8 R / 64, |target - handle| / 2)`` around the
  segment from handle to target (the union of discs around the handle, the target and the
  line between): the dragged object itself and what it uncovers lie there for an object up
  to ~16 px across. With instance masks the dragged object's own pixels (before and after)
  are excluded too.
* Optional instance masks (int [R, R], 0 = none; e.g. ``load_segmenter(...).segment(images)``):
  the object is the before-instance under the handle, its after-instance the one under
  ``content_end`` (else the one that overlaps most with the before mask shifted by the content
  displacement); ``object_progress`` is the projection of its centroid move, like
  ``content_progress``.

Both are noisy on deforming 64 px objects: on those 168 rooms drags ``content_progress`` and
``object_progress`` differ by a median 0.2-0.3. Read them as averages over many drags.

Points are ``(x, y)`` pixels (x right, y down), as in ``steergan.edit.drag``.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

TIE = 1e-6


def _as_float(img, value_range) -> torch.Tensor:
    """[3, R, R] float on [0, 1]; uint8 is /255, float is mapped from ``value_range``."""
    t = torch.as_tensor(np.asarray(img) if not isinstance(img, torch.Tensor) else img).detach().cpu()
    if t.dim() == 4 and t.shape[0] == 1:
        t = t[0]
    if t.dim() != 3 or t.shape[0] != 3:
        raise ValueError(f"expected an image [3, H, W], got {tuple(t.shape)}")
    if t.dtype == torch.uint8:
        return t.double() / 255.0
    lo, hi = value_range
    return (t.double() - lo) / (hi - lo)


def default_patch_radius(resolution: int) -> int:
    return max(2, round(4 * resolution / 64))


def _parabola_peak(left: float, mid: float, right: float) -> float:
    """Offset in (-0.5, 0.5) of the vertex of the parabola through (-1, left), (0, mid), (1, right);
    0 where the three do not curve down."""
    curve = left - 2 * mid + right
    if not curve < 0:
        return 0.0
    return max(-0.5, min(0.5, 0.5 * (left - right) / curve))


def subpixel_offset(score: torch.Tensor, ix: int, iy: int) -> tuple[float, float]:
    """Sub-pixel (dx, dy) of the peak at column ``ix``, row ``iy`` of a score grid [rows, cols],
    one parabola per axis (none at the grid's edge)."""
    rows, cols = score.shape
    ox = _parabola_peak(float(score[iy, ix - 1]), float(score[iy, ix]), float(score[iy, ix + 1])) \
        if 0 < ix < cols - 1 else 0.0
    oy = _parabola_peak(float(score[iy - 1, ix]), float(score[iy, ix]), float(score[iy + 1, ix])) \
        if 0 < iy < rows - 1 else 0.0
    return ox, oy


def ncc_search(before: torch.Tensor, after: torch.Tensor, centre: Sequence[int], radius: int,
               search: int, subpixel: bool = False):
    """Best integer displacement (dx, dy) of the ``before`` patch around ``centre`` in ``after``
    (both [C, H, W] float), its NCC score and the template's std. See the module docstring.
    With ``subpixel``, a fourth value: the displacement refined to sub-pixel (x, y) floats."""
    _, H, W = before.shape
    cx, cy = int(centre[0]), int(centre[1])
    x0, x1 = max(cx - radius, 0), min(cx + radius, W - 1)
    y0, y1 = max(cy - radius, 0), min(cy + radius, H - 1)
    tpl = before[:, y0:y1 + 1, x0:x1 + 1]
    h, w = tpl.shape[1:]
    # displacements keeping the patch inside the image
    dx_lo, dx_hi = max(-search, -x0), min(search, W - 1 - x1)
    dy_lo, dy_hi = max(-search, -y0), min(search, H - 1 - y1)
    region = after[:, y0 + dy_lo:y1 + dy_hi + 1, x0 + dx_lo:x1 + dx_hi + 1]
    cols = F.unfold(region[None], (h, w))[0]                     # [C h w, positions]
    t = tpl.reshape(-1, 1)
    t = t - t.mean()
    cols = cols - cols.mean(0, keepdim=True)
    n = t.shape[0]
    score = (t * cols).sum(0) / ((t.norm() * cols.norm(dim=0)).clamp(min=1e-12))
    nx = dx_hi - dx_lo + 1
    ks = torch.arange(score.numel())
    dxs, dys = ks % nx + dx_lo, ks // nx + dy_lo
    best = float(score.max())
    tied = score >= best - TIE
    k = int(torch.where(tied, (dxs ** 2 + dys ** 2).double(), torch.tensor(math.inf,
                                                                      dtype=torch.float64)).argmin())
    found = (int(dxs[k]), int(dys[k])), best, float(t.norm() / math.sqrt(n))
    if not subpixel:
        return found
    ox, oy = subpixel_offset(score.view(-1, nx), k % nx, k // nx)
    return (*found, (found[0][0] + ox, found[0][1] + oy))


def near_drag_mask(resolution: int, handle: Sequence[float], target: Sequence[float],
                   near: float) -> torch.Tensor:
    """bool [R, R]: pixels within ``near`` of the segment handle -> target."""
    R = resolution
    ys, xs = torch.meshgrid(torch.arange(R, dtype=torch.float64), torch.arange(R, dtype=torch.float64),
                            indexing="ij")
    p = torch.tensor([float(handle[0]), float(handle[1])], dtype=torch.float64)
    v = torch.tensor([float(target[0]), float(target[1])], dtype=torch.float64) - p
    qx, qy = xs - p[0], ys - p[1]
    L2 = float(v @ v)
    s = ((qx * v[0] + qy * v[1]) / L2).clamp(0, 1) if L2 > 0 else torch.zeros_like(qx)
    return (qx - s * v[0]) ** 2 + (qy - s * v[1]) ** 2 <= near * near


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def _progress(move: np.ndarray, d: np.ndarray) -> float:
    """Projection of ``move`` on ``d``, in units of ``|d|``."""
    L2 = float(d @ d)
    return float(move @ d) / L2 if L2 > 0 else 0.0


def drag_content(before, after, handle: Sequence[float], target: Sequence[float], *,
                 patch_radius: Optional[int] = None, margin: Optional[int] = None,
                 change_threshold: float = 0.1, near: Optional[float] = None,
                 instances_before=None, instances_after=None, value_range=(0.0, 1.0)) -> dict:
    """The content move of one handle -> target drag, measured on the images alone (see the
    module docstring for every choice). ``before``/``after``: uint8 or float [3, R, R]."""
    a, b = _as_float(before, value_range), _as_float(after, value_range)
    if a.shape != b.shape:
        raise ValueError(f"before {tuple(a.shape)} and after {tuple(b.shape)} differ")
    R = a.shape[-1]
    r = default_patch_radius(R) if patch_radius is None else int(patch_radius)
    m = r if margin is None else int(margin)
    h = np.array([float(handle[0]), float(handle[1])])
    t = np.array([float(target[0]), float(target[1])])
    d = t - h
    dist = float(np.linalg.norm(d))
    c = np.clip(np.round(h).astype(int), 0, R - 1)
    (dx, dy), score, std, fine = ncc_search(a, b, c, r, int(math.ceil(dist)) + m, subpixel=True)
    end = h + np.array([dx, dy], dtype=np.float64)
    end_fine = h + np.array(fine, dtype=np.float64)
    out = {"content_end": end.tolist(), "content_progress": _progress(end - h, d),
           "content_end_distance": float(np.linalg.norm(t - end)),
           "content_end_subpixel": end_fine.tolist(),
           "content_end_distance_subpixel": float(np.linalg.norm(t - end_fine)), "ncc": score, "template_std": std,
           "drag_distance": dist}

    rho = max(8.0 * R / 64, dist / 2) if near is None else float(near)
    excluded = near_drag_mask(R, h, t, rho)
    if instances_before is not None and instances_after is not None:
        ib, ia = np.asarray(instances_before), np.asarray(instances_after)
        obj = object_move(ib, ia, h, end, d)
        out.update({k: v for k, v in obj.items() if not k.startswith("_")})
        for mk in ("_before_mask", "_after_mask"):
            if obj.get(mk) is not None:
                excluded |= torch.from_numpy(obj[mk])
    diff = (b - a).abs().mean(0)
    far = ~excluded
    out["scene_change"] = float((diff[far] > change_threshold).double().mean()) if bool(far.any()) else 0.0
    out["near_radius"] = rho
    return out


def object_move(instances_before: np.ndarray, instances_after: np.ndarray, handle: np.ndarray,
                content_end: np.ndarray, d: np.ndarray) -> dict:
    """Centroid move of the instance under the handle (see the module docstring)."""
    R = instances_before.shape[-1]
    hx, hy = np.clip(np.round(handle).astype(int), 0, R - 1)
    oid = int(instances_before[hy, hx])
    if oid <= 0:
        return {"object_found": False, "object_progress": None, "_before_mask": None, "_after_mask": None}
    mb = instances_before == oid
    ex, ey = np.clip(np.round(content_end).astype(int), 0, R - 1)
    aid = int(instances_after[ey, ex])
    if aid <= 0:
        # the after-instance overlapping most with the before mask shifted by the content move
        sx, sy = int(round(content_end[0] - handle[0])), int(round(content_end[1] - handle[1]))
        shifted = np.zeros_like(mb)
        ys, xs = np.nonzero(mb)
        ys, xs = ys + sy, xs + sx
        keep = (ys >= 0) & (ys < R) & (xs >= 0) & (xs < R)
        shifted[ys[keep], xs[keep]] = True
        ids, counts = np.unique(instances_after[shifted], return_counts=True)
        counts = counts[ids > 0]
        ids = ids[ids > 0]
        aid = int(ids[int(np.argmax(counts))]) if len(ids) else 0
    if aid <= 0:
        return {"object_found": False, "object_progress": None, "_before_mask": mb, "_after_mask": None}
    ma = instances_after == aid
    move = _centroid(ma) - _centroid(mb)
    return {"object_found": True, "object_progress": _progress(move, d),
            "object_move": move.tolist(), "_before_mask": mb, "_after_mask": ma}
