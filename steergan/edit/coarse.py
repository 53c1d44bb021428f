"""SpatialGAN's side of the drag (TPAMI Sec. 3.4): heatmap centres as drag variables.

* ``coarse_move`` is the "spatial guidance" step, Eq. 6: every heatmap centre within radius
  ``r`` of a handle ``p`` moves to ``c' = c + alpha (t - p)``; no optimisation. A centre near
  several handles follows the nearest one; descendants (hierarchical heatmaps) follow their
  moved ancestor, as a heatmap ``move`` does.
* ``follow_move`` (ours) repeats the step for the same centres from the tracked handle.
* ``CentreOffsets`` makes the centres an optimisation variable for the joint step
  (the paper found optimising centres better than optimising heatmap pixels): one offset per
  centre, and a centre's position adds the offsets of its ancestors, so moving an object's
  root moves its whole subtree.

Handles and targets are pixels (x right, y down, pixel ``j`` at ``j``); heatmap centres are
normalised (``x = (2 px + 1) / R - 1``, see ``methods/spatial/heatmaps.py``).
"""
from __future__ import annotations

from typing import Sequence

import torch

from ..methods.spatial.heatmaps import Heatmaps


def to_pixels(xy: torch.Tensor, resolution: int) -> torch.Tensor:
    return ((xy + 1) * resolution - 1) / 2


def to_normalised(px: torch.Tensor, resolution: int) -> torch.Tensor:
    return (2 * px + 1) / resolution - 1


def with_centres(hm: Heatmaps, centres: torch.Tensor) -> Heatmaps:
    """The same heatmaps (sigmas, structure, styles) with other centres."""
    return Heatmaps(centres, hm.sigmas, hm.levels, hm.parents, hm.active, hm.styles, hm.kind)


def ancestry_matrix(hm: Heatmaps) -> torch.Tensor:
    """A [K, K] with A[i, j] = 1 when j is i or one of i's ancestors."""
    K = hm.num_centres
    A = torch.eye(K)
    for i in range(K):
        j = hm.parents[i]
        while j != -1:
            A[i, j] = 1.0
            j = hm.parents[j]
    return A


def _subtree_shifts(hm: Heatmaps, own: torch.Tensor, moved: dict[int, int]) -> torch.Tensor:
    """Pixel shifts [K, 2]: a moved centre and its descendants take the shift of the top-most
    moved centre on their chain."""
    shifts = torch.zeros_like(own)
    for i in range(hm.num_centres):
        chain, j = [i], hm.parents[i]
        while j != -1:
            chain.append(j)
            j = hm.parents[j]
        top = [c for c in reversed(chain) if c in moved]        # the top-most moved ancestor wins
        if top:
            shifts[i] = own[top[0]]
    return shifts


def _points(points) -> torch.Tensor:
    return torch.tensor([[float(a), float(b)] for a, b in points], dtype=torch.float64)


def coarse_shifts(hm: Heatmaps, handles: Sequence[Sequence[float]], targets: Sequence[Sequence[float]],
                  resolution: int, radius: float, alpha: float) -> tuple[torch.Tensor, dict[int, int]]:
    """Eq. 6 as pixel shifts [K, 2] for the first image of ``hm``, and {centre: handle} for the
    centres a handle moved (descendants of a moved centre move along but are not listed)."""
    K = hm.num_centres
    centres = to_pixels(hm.centres[0].detach().double().cpu(), resolution)          # [K, 2]
    p, t = _points(handles), _points(targets)
    own = torch.zeros(K, 2, dtype=torch.float64)
    moved: dict[int, int] = {}
    for i in range(K):
        if not bool(hm.active[0, i]):
            continue
        d = (p - centres[i]).norm(dim=1)
        j = int(d.argmin())
        if float(d[j]) <= radius:
            own[i] = alpha * (t[j] - p[j])
            moved[i] = j
    return _subtree_shifts(hm, own, moved), moved


def _apply(hm: Heatmaps, shifts: torch.Tensor, resolution: int) -> Heatmaps:
    delta = (shifts * (2.0 / resolution)).to(hm.device, hm.centres.dtype)
    return with_centres(hm, hm.centres + delta[None])


def coarse_move(hm: Heatmaps, handles, targets, resolution: int, radius: float,
                alpha: float) -> tuple[Heatmaps, dict[int, int]]:
    """Heatmaps after the Eq. 6 step, and {centre: handle} for the centres a handle moved."""
    shifts, moved = coarse_shifts(hm, handles, targets, resolution, radius, alpha)
    return _apply(hm, shifts, resolution), moved


def follow_move(hm: Heatmaps, moved: dict[int, int], handles, targets, resolution: int,
                alpha: float) -> Heatmaps:
    """A repeat of Eq. 6 (ours): the centres an earlier coarse step gave to handle ``j`` move again
    by ``alpha (t_j - p_j)`` from the *tracked* handle ``p_j``. (Selecting by radius again would
    miss them: a centre runs ahead of an object that follows it only part of the way.)"""
    p, t = _points(handles), _points(targets)
    own = torch.zeros(hm.num_centres, 2, dtype=torch.float64)
    for i, j in moved.items():
        own[i] = alpha * (t[j] - p[j])
    return _apply(hm, _subtree_shifts(hm, own, moved), resolution)


class CentreOffsets:
    """Differentiable centres ``c = c_base + A @ offsets`` (see the module docstring)."""

    def __init__(self, base: Heatmaps):
        self.base = base.detach()
        self.A = ancestry_matrix(base).to(base.device, base.centres.dtype)
        self.offsets = torch.zeros_like(self.base.centres, requires_grad=True)

    def heatmaps(self) -> Heatmaps:
        centres = self.base.centres + torch.einsum("ij,njc->nic", self.A, self.offsets)
        return with_centres(self.base, centres)
