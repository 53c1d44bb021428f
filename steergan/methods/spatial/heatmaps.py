"""Gaussian heatmaps: SpatialGAN's control state (TPAMI Sec. 3.2 Eq. 1, Sec. 4.1).

Coordinate convention (used everywhere in this package, the CLI and the editor)
-----------------------------------------------------------------------------
A centre is ``(x, y)`` in normalised image coordinates: ``x = -1`` is the left edge of
the image and ``+1`` its right edge; ``y = -1`` is the top edge and ``+1`` the bottom edge
(rows grow downwards). Pixel ``j`` of an ``R``-pixel axis covers
``[-1 + 2j/R, -1 + 2(j+1)/R]``; its centre is ``(2j + 1)/R - 1`` (``align_corners=False``),
so an editor click at pixel ``(px, py)`` is ``x = (2 px + 1)/R - 1``, ``y = (2 py + 1)/R - 1``.
(The official code stored ``(y, x)`` on an ``align_corners=True`` grid; the difference is
below half a pixel.)

``sigma`` is the standard deviation of an isotropic Gaussian in the same units:
``H_i(p) = exp(-||p - c_i||^2 / (2 sigma_i^2))`` (Eq. 1). The official code wrote
``exp(-d^2 / s)``; its widths ``s`` convert as ``sigma = sqrt(s / 2)``.

Rendering is analytic and differentiable w.r.t. centres and sigmas. The default
``mode="area"`` returns the exact average of the Gaussian over each pixel (erf
integrals, separable in x and y): anti-aliased, so a 4x4 render is exactly the 2x2 average
of the 8x8 one — the paper's "down-sample the heatmap to the feature resolution first"
(Sec. 3.2, coarse heatmap processing) without ever building the full-resolution map.
``mode="point"`` samples at pixel centres (what the official bilinear resize amounted to).

Structure: ``levels`` and ``parents`` are shared by the whole batch. Hierarchical
heatmaps have levels 0/1/2 with 1/2/4 centres whose parent is the level-0 centre (the
paper derives every deeper centre from ``c^0_0``, Sec. 4.1); multi-object heatmaps are K
independent roots at level 0. ``styles`` (multi-object) holds one w per centre, a NaN row
meaning "use the image's own w". Edits return new objects; nothing is modified in place.
"""
from __future__ import annotations

import json
import math
from typing import Any, Iterable, Optional, Sequence

import torch

from ...errors import UserError

HIERARCHICAL, MULTI = "hierarchical", "multi"
KINDS = (HIERARCHICAL, MULTI)
JSON_VERSION = 1

# Official-code widths, as ``s`` of exp(-d^2/s) (networks.py generate_heatmap_multi):
# s = (U + a) * b per level. The paper only says influence shrinks level by level (Sec. 4.1).
WIDTH_LAWS = {0: (1.0, 0.5), 1: (0.1, 1 / 1.4), 2: (0.1, 0.5)}
CENTRES_PER_LEVEL = (1, 2, 4)          # Sec. 4.1: "1, 2, 4 centers on these three levels"
PRIORS = ("paper", "official")
# Level-0 centre and the offsets of the deeper centres, in normalised units (h = 2).
#  paper    (Sec. 4.1): c0 ~ N(centre, h/3) -> std 2/3, "drop the sampling if the level 0 center
#           is outside the image" (redrawn), then clamped to +-0.75 like the official code;
#           deeper centres ~ N(c0, h/6) -> std 1/3.
#  official (code):     c0 ~ N(0, 0.33) clamped to +-0.75; offsets U(+-0.4) (level 1), U(+-0.8) (level 2).
PAPER_C0_STD, PAPER_OFFSET_STD, C0_CLAMP = 2 / 3, 1 / 3, 0.75
OFFICIAL_C0_STD, OFFICIAL_OFFSETS = 0.33, {1: 0.4, 2: 0.8}
# Multi-object (Sec. 4.1): centres ~ N(centre, h/2) -> std 1, redrawn when outside the image
# (our choice, mirroring the level-0 rule); widths use the level-1 law (paper silent).
MULTI_STD = 1.0
MULTI_WIDTH_LEVEL = 1


def _width_to_sigma(s: torch.Tensor) -> torch.Tensor:
    return (s / 2).sqrt()


def _sample_width(shape, level: int, generator) -> torch.Tensor:
    a, b = WIDTH_LAWS[level]
    return _width_to_sigma((torch.rand(shape, generator=generator) + a) * b)


def _truncated_normal(shape: tuple, std: float, generator, bound: float = 1.0) -> torch.Tensor:
    """N(0, std^2) points [.., 2], a point redrawn (both coords) while outside [-bound, bound]^2."""
    x = torch.randn(shape, generator=generator) * std
    bad = (x.abs() > bound).any(-1)
    while bool(bad.any()):
        x[bad] = torch.randn(int(bad.sum()), shape[-1], generator=generator) * std
        bad = (x.abs() > bound).any(-1)
    return x


def _axis_profile(coord: torch.Tensor, sigma: torch.Tensor, R: int, mode: str) -> torch.Tensor:
    """1-D Gaussian profile [N, K, R] along one axis (the 2-D map is separable)."""
    c, s = coord[..., None], sigma[..., None]
    if mode == "point":
        grid = (torch.arange(R, dtype=coord.dtype, device=coord.device) * 2 + 1) / R - 1
        return torch.exp(-(grid - c).square() / (2 * s.square()))
    if mode != "area":
        raise UserError(f"unknown heatmap render mode {mode!r} (use 'area' or 'point')")
    edges = torch.arange(R + 1, dtype=coord.dtype, device=coord.device) * 2 / R - 1
    k = s * math.sqrt(2)
    a, b = (edges[:-1] - c) / k, (edges[1:] - c) / k
    # erf differences lose everything in the tails; erfc keeps them (both args same sign).
    diff = torch.where(a >= 0, torch.erfc(a) - torch.erfc(b),
                       torch.where(b <= 0, torch.erfc(-b) - torch.erfc(-a), torch.erf(b) - torch.erf(a)))
    return diff * (s * math.sqrt(math.pi / 2) * R / 2)


class Heatmaps:
    """A batch of N heatmaps with K Gaussian centres each (see the module docstring)."""

    def __init__(self, centres: torch.Tensor, sigmas: torch.Tensor, levels: Sequence[int],
                 parents: Sequence[int], active: Optional[torch.Tensor] = None,
                 styles: Optional[torch.Tensor] = None, kind: str = MULTI):
        if centres.ndim != 3 or centres.shape[-1] != 2:
            raise UserError(f"heatmap centres must be [N, K, 2], got {tuple(centres.shape)}")
        n, k = centres.shape[:2]
        if sigmas.shape != (n, k):
            raise UserError(f"heatmap sigmas must be [N, K] = {(n, k)}, got {tuple(sigmas.shape)}")
        levels, parents = tuple(int(v) for v in levels), tuple(int(v) for v in parents)
        if len(levels) != k or len(parents) != k:
            raise UserError(f"levels/parents need one entry per centre ({k})")
        if kind not in KINDS:
            raise UserError(f"unknown heatmap kind {kind!r}")
        for i, p in enumerate(parents):
            if not -1 <= p < k or p == i:
                raise UserError(f"centre {i} has an invalid parent {p}")
        for i in range(k):  # no cycles: every chain reaches a root within k steps
            j, hops = i, 0
            while j != -1:
                j, hops = parents[j], hops + 1
                if hops > k:
                    raise UserError("heatmap parent links form a cycle")
        if active is None:
            active = torch.ones(n, k, dtype=torch.bool, device=centres.device)
        if active.shape != (n, k):
            raise UserError(f"active mask must be [N, K] = {(n, k)}, got {tuple(active.shape)}")
        if styles is not None and (styles.ndim != 3 or styles.shape[:2] != (n, k)):
            raise UserError(f"styles must be [N, K, w_dim] with N, K = {(n, k)}, got {tuple(styles.shape)}")
        self.centres, self.sigmas = centres, sigmas
        self.levels, self.parents = levels, parents
        self.active, self.styles, self.kind = active.bool(), styles, kind
        self._memo: Optional[dict] = None      # set only on per-forward views (see per_forward)

    # ------------------------------------------------------------------ structure
    def __len__(self) -> int:
        return self.centres.shape[0]

    @property
    def num_centres(self) -> int:
        return self.centres.shape[1]

    @property
    def num_levels(self) -> int:
        return max(self.levels) + 1

    @property
    def device(self) -> torch.device:
        return self.centres.device

    def level_indices(self, level: int) -> list[int]:
        return [i for i, l in enumerate(self.levels) if l == level]

    def descendants(self, i: int) -> list[int]:
        """Indices of every centre below ``i`` (children, grandchildren, ...)."""
        self._check_index(i)
        out = []
        for j in range(self.num_centres):
            p = self.parents[j]
            while p != -1:
                if p == i:
                    out.append(j)
                    break
                p = self.parents[p]
        return out

    def _check_index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < self.num_centres:
            raise UserError(f"heatmap centre index {i!r} out of range (0..{self.num_centres - 1})")
        return i

    # ------------------------------------------------------------------ tensors
    def _replace(self, **kw) -> "Heatmaps":
        d = dict(centres=self.centres, sigmas=self.sigmas, levels=self.levels, parents=self.parents,
                 active=self.active, styles=self.styles, kind=self.kind)
        d.update(kw)
        return Heatmaps(**d)

    def to(self, device=None, dtype: Optional[torch.dtype] = None) -> "Heatmaps":
        f = lambda t: None if t is None else t.to(device=device, dtype=dtype)  # noqa: E731
        return self._replace(centres=f(self.centres), sigmas=f(self.sigmas),
                             active=self.active.to(device=device), styles=f(self.styles))

    def clone(self) -> "Heatmaps":
        return self._replace(centres=self.centres.clone(), sigmas=self.sigmas.clone(),
                             active=self.active.clone(),
                             styles=None if self.styles is None else self.styles.clone())

    def detach(self) -> "Heatmaps":
        return self._replace(centres=self.centres.detach(), sigmas=self.sigmas.detach(),
                             styles=None if self.styles is None else self.styles.detach())

    def select(self, index) -> "Heatmaps":
        """Sub-batch (an int keeps the batch dimension)."""
        idx = [index] if isinstance(index, int) else index
        return self._replace(centres=self.centres[idx], sigmas=self.sigmas[idx], active=self.active[idx],
                             styles=None if self.styles is None else self.styles[idx])

    @staticmethod
    def cat(items: Sequence["Heatmaps"]) -> "Heatmaps":
        """Concatenate batches of the same structure (``collate``)."""
        items = list(items)
        if not items:
            raise UserError("cannot concatenate an empty list of heatmaps")
        first = items[0]
        for h in items[1:]:
            if (h.levels, h.parents, h.kind) != (first.levels, first.parents, first.kind):
                raise UserError("cannot batch heatmaps with different structures")
        styles = None
        if any(h.styles is not None for h in items):
            dims = {h.styles.shape[-1] for h in items if h.styles is not None}
            if len(dims) != 1:
                raise UserError("cannot batch heatmaps whose style codes differ in size")
            dim = dims.pop()
            styles = torch.cat([h.styles if h.styles is not None else
                                h.centres.new_full((len(h), h.num_centres, dim), float("nan")) for h in items])
        return first._replace(centres=torch.cat([h.centres for h in items]),
                              sigmas=torch.cat([h.sigmas for h in items]),
                              active=torch.cat([h.active for h in items]), styles=styles)

    collate = cat

    def same_as(self, other: "Heatmaps") -> bool:
        """Bit-exact equality (NaN style rows compare equal)."""
        def eq(a, b):
            if a is None or b is None:
                return a is None and b is None
            if a.dtype != b.dtype or a.shape != b.shape:
                return False
            if a.is_floating_point():
                return torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(0.0), b.nan_to_num(0.0))
            return torch.equal(a, b)
        return ((self.levels, self.parents, self.kind) == (other.levels, other.parents, other.kind)
                and eq(self.centres, other.centres) and eq(self.sigmas, other.sigmas)
                and eq(self.active, other.active) and eq(self.styles, other.styles))

    # ------------------------------------------------------------------ rendering
    def per_forward(self) -> "Heatmaps":
        """A view that memoises renders for one synthesis pass (``nn.adapters.per_forward``):
        ~15 layers read the same few resolutions. Never cached across passes, so centres
        optimised in place (drag editing) are always re-rendered."""
        view = self._replace()
        view._memo = {}
        return view

    def memo(self, key, compute):
        """``compute()``, remembered under ``key`` on a per-forward view."""
        if self._memo is None:
            return compute()
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def render(self, resolution: int, mode: str = "area", indices: Optional[Sequence[int]] = None) -> torch.Tensor:
        """One channel per centre, [N, K, R, R], zero for removed centres; differentiable."""
        key = ("render", resolution, mode, None if indices is None else tuple(indices))
        return self.memo(key, lambda: self._render(resolution, mode, indices))

    def _render(self, resolution: int, mode: str, indices: Optional[Sequence[int]]) -> torch.Tensor:
        c, s, a = self.centres, self.sigmas, self.active
        if indices is not None:
            idx = list(indices)
            c, s, a = c[:, idx], s[:, idx], a[:, idx]
        px = _axis_profile(c[..., 0], s, resolution, mode)     # columns
        py = _axis_profile(c[..., 1], s, resolution, mode)     # rows
        return py[..., :, None] * px[..., None, :] * a[..., None, None].to(px.dtype)

    def render_level(self, level: int, resolution: int, mode: str = "area") -> torch.Tensor:
        """The channels of one hierarchy level, [N, n_level, R, R]."""
        idx = self.level_indices(level)
        if not idx:
            raise UserError(f"these heatmaps have no level {level}")
        return self.render(resolution, mode, idx)

    def render_sum(self, resolution: int, mode: str = "area") -> torch.Tensor:
        """The full heatmap H = sum_i H_i (Sec. 3.2), [N, 1, R, R]."""
        return self.memo(("sum", resolution, mode), lambda: self.render(resolution, mode).sum(1, keepdim=True))

    def styles_or(self, w: torch.Tensor) -> torch.Tensor:
        """Per-centre codes [N, K, w_dim], NaN rows (or no styles at all) replaced by ``w`` [N, w_dim]."""
        base = w[:, None, :].expand(-1, self.num_centres, -1)
        if self.styles is None:
            return base
        st = self.styles.to(w.dtype)
        return torch.where(st.isnan().any(-1, keepdim=True), base, st)

    # ------------------------------------------------------------------ edits (new objects)
    def _per_sample(self, value, width: int) -> torch.Tensor:
        t = torch.as_tensor(value, dtype=self.centres.dtype, device=self.device)
        if t.ndim == 0 and width == 1:
            t = t.expand(1)
        if t.shape == (width,):
            t = t.expand(len(self), width)
        if t.shape != (len(self), width):
            raise UserError(f"edit value must have shape [{width}] or [N, {width}], got {tuple(t.shape)}")
        if not bool(torch.isfinite(t).all()):
            raise UserError("edit values must be finite")
        return t

    def move(self, i: int, delta, with_descendants: bool = True) -> "Heatmaps":
        """Shift centre ``i`` by ``delta`` = (dx, dy) (or [N, 2]); its subtree moves along."""
        idx = [self._check_index(i)] + (self.descendants(i) if with_descendants else [])
        d = self._per_sample(delta, 2)
        shift = torch.zeros_like(self.centres)
        shift[:, idx] = d[:, None, :]
        return self._replace(centres=self.centres + shift)

    def set_centre(self, i: int, xy, with_descendants: bool = True) -> "Heatmaps":
        """Put centre ``i`` at ``xy`` (a move by the difference, so the subtree keeps its layout)."""
        self._check_index(i)
        return self.move(i, self._per_sample(xy, 2) - self.centres[:, i], with_descendants)

    def set_sigma(self, i: int, sigma) -> "Heatmaps":
        s = self._per_sample(sigma, 1)[:, 0]
        if not bool((s > 0).all()):
            raise UserError(f"sigma must be positive, got {sigma!r}")
        sig = self.sigmas.clone()
        sig[:, self._check_index(i)] = s
        return self._replace(sigmas=sig)

    def set_active(self, i: int, flag: bool) -> "Heatmaps":
        act = self.active.clone()
        act[:, self._check_index(i)] = bool(flag)
        return self._replace(active=act)

    def remove(self, i: int) -> "Heatmaps":
        """Removal (Sec. 4.2, Fig. 9b): the centre's map becomes zero; it can be restored."""
        return self.set_active(i, False)

    def restore(self, i: int) -> "Heatmaps":
        return self.set_active(i, True)

    def set_style(self, i: int, code: Optional[torch.Tensor]) -> "Heatmaps":
        """Give centre ``i`` its own code w ([w_dim] or [N, w_dim]); None = the image's w again."""
        self._check_index(i)
        if code is None:
            if self.styles is None:
                return self.clone()
            st = self.styles.clone()
            st[:, i] = float("nan")
            return self._replace(styles=st)
        code = torch.as_tensor(code, device=self.device)
        code = code.to(self.styles.dtype if self.styles is not None else self.centres.dtype)
        dim = code.shape[-1]
        if self.styles is not None and self.styles.shape[-1] != dim:
            raise UserError(f"style code has {dim} entries, these heatmaps use {self.styles.shape[-1]}")
        st = (self.styles.clone() if self.styles is not None else
              self.centres.new_full((len(self), self.num_centres, dim), float("nan"), dtype=code.dtype))
        if code.shape == (dim,):
            code = code.expand(len(self), dim)
        if code.shape != (len(self), dim) or not bool(torch.isfinite(code).all()):
            raise UserError(f"style code must be a finite [w_dim] or [N, w_dim], got {tuple(code.shape)}")
        st[:, i] = code
        return self._replace(styles=st)

    # ------------------------------------------------------------------ JSON (bit-exact)
    def to_dict(self) -> dict:
        """Plain JSON-able dict. Floats go through ``tolist`` (exact doubles) and reload exactly."""
        styles = None
        if self.styles is not None:
            st = self.styles.detach().cpu()
            nan = st.isnan().any(-1)
            styles = [[None if bool(nan[n, k]) else st[n, k].tolist() for k in range(self.num_centres)]
                      for n in range(len(self))]
        return {"version": JSON_VERSION, "kind": self.kind,
                "dtype": str(self.centres.dtype).replace("torch.", ""),
                "style_dtype": None if self.styles is None else str(self.styles.dtype).replace("torch.", ""),
                "levels": list(self.levels), "parents": list(self.parents),
                "centres": self.centres.detach().cpu().tolist(), "sigmas": self.sigmas.detach().cpu().tolist(),
                "active": self.active.cpu().tolist(), "styles": styles}

    @classmethod
    def from_dict(cls, d: dict, device: Any = "cpu") -> "Heatmaps":
        try:
            if d.get("version", JSON_VERSION) > JSON_VERSION:
                raise UserError("heatmaps were written by a newer steergan")
            dtype = getattr(torch, d.get("dtype", "float32"))
            centres = torch.tensor(d["centres"], dtype=dtype, device=device).reshape(len(d["centres"]), -1, 2)
            sigmas = torch.tensor(d["sigmas"], dtype=dtype, device=device).reshape(centres.shape[:2])
            active = torch.tensor(d["active"], dtype=torch.bool, device=device).reshape(centres.shape[:2])
            styles = None
            if d.get("styles") is not None:
                sdtype = getattr(torch, d.get("style_dtype") or "float32")
                rows = [r for sample in d["styles"] for r in sample]
                dims = {len(r) for r in rows if r is not None}
                if len(dims) != 1:
                    raise UserError("heatmap style codes have inconsistent sizes")
                dim = dims.pop()
                flat = [r if r is not None else [float("nan")] * dim for r in rows]
                styles = torch.tensor(flat, dtype=sdtype, device=device).reshape(*centres.shape[:2], dim)
            return cls(centres, sigmas, d["levels"], d["parents"], active, styles, d.get("kind", MULTI))
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
            raise UserError(f"malformed heatmap JSON ({type(e).__name__}: {e})") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str, device: Any = "cpu") -> "Heatmaps":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise UserError(f"heatmap JSON is not valid JSON ({e})") from None
        return cls.from_dict(d, device)

    def __repr__(self) -> str:
        return (f"Heatmaps(kind={self.kind}, batch={len(self)}, centres={self.num_centres}, "
                f"levels={self.levels}, styles={'yes' if self.styles is not None else 'no'})")


# ---------------------------------------------------------------------- samplers

def hierarchical_structure() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """levels (0, 1, 1, 2, 2, 2, 2) and parents (-1, 0, 0, 0, 0, 0, 0)."""
    levels = tuple(l for l, n in enumerate(CENTRES_PER_LEVEL) for _ in range(n))
    return levels, tuple(-1 if l == 0 else 0 for l in levels)


def sample_hierarchical(batch: int, generator: Optional[torch.Generator] = None, *, prior: str = "paper",
                        device: Any = None, root: Optional[tuple[torch.Tensor, torch.Tensor]] = None) -> Heatmaps:
    """Hierarchical sampling for single-object scenes (Sec. 3.2, Sec. 4.1), see ``PRIORS``.

    Draws on the CPU (``generator`` or torch's global RNG) in a fixed order, so a seed
    gives the same heatmaps on every machine. ``root = (centres [N, 2], sigmas [N])`` replaces
    the level-0 centre and width (a paired model draws them from real layouts); the deeper
    centres are then derived from it as usual.
    """
    if prior not in PRIORS:
        raise UserError(f"unknown heatmap prior {prior!r}; choose one of {', '.join(PRIORS)}")
    levels, parents = hierarchical_structure()
    if prior == "paper":
        c0 = _truncated_normal((batch, 2), PAPER_C0_STD, generator)
    else:
        c0 = torch.randn(batch, 2, generator=generator) * OFFICIAL_C0_STD
    c0 = c0.clamp(-C0_CLAMP, C0_CLAMP)
    s0 = _sample_width((batch, 1), 0, generator)
    if root is not None:
        c0, s0 = root[0].reshape(batch, 2).to(c0.dtype), root[1].reshape(batch, 1).to(s0.dtype)
    centres, sigmas = [c0[:, None]], [s0]
    for level in (1, 2):
        n = CENTRES_PER_LEVEL[level]
        if prior == "paper":
            off = torch.randn(batch, n, 2, generator=generator) * PAPER_OFFSET_STD
        else:
            off = (torch.rand(batch, n, 2, generator=generator) - 0.5) * (2 * OFFICIAL_OFFSETS[level])
        centres.append(c0[:, None] + off)            # derived from c^0_0, not clamped (official)
        sigmas.append(_sample_width((batch, n), level, generator))
    h = Heatmaps(torch.cat(centres, 1), torch.cat(sigmas, 1), levels, parents, kind=HIERARCHICAL)
    return h.to(device) if device is not None else h


def sample_multi_object(batch: int, n: int = 3, generator: Optional[torch.Generator] = None, *,
                        device: Any = None) -> Heatmaps:
    """Multi-object sampling for indoor scenes (Sec. 3.2, Sec. 4.1): n independent roots.

    Style codes are left unset (NaN = the image's w); the method draws them (``SpatialGAN``).
    """
    if n < 1:
        raise UserError(f"need at least one object heatmap, got n={n}")
    centres = _truncated_normal((batch, n, 2), MULTI_STD, generator)
    sigmas = _sample_width((batch, n), MULTI_WIDTH_LEVEL, generator)
    h = Heatmaps(centres, sigmas, (0,) * n, (-1,) * n, kind=MULTI)
    return h.to(device) if device is not None else h


def collate(items: Iterable[Heatmaps]) -> Heatmaps:
    return Heatmaps.cat(list(items))
