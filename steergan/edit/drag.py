"""Point dragging: DragGAN on any steergan generator, and SpatialGAN's drag pipeline.

Modes (SpatialGAN TPAMI Sec. 3.4, Table II):

* ``drag``    DragGAN alone (Pan et al. 2023): Adam on the first ``n_ws`` rows of W+, motion
              supervision (``motion.py``) and point tracking (``tracking.py``) on one block's
              features, bilinearly upsampled to the image size. Works on every model.
* ``joint``   latent and heatmap centres, alternating a latent step and a centre step (the
              paper: "in one iteration ... the latent code ..., followed by adjusting the heatmap
              centers in the subsequent iteration"; centres beat heatmap pixels).
* ``hybrid``  the two-stage pipeline: one coarse step that moves the centres near each handle
              by ``alpha (t - p)`` (Eq. 6, no optimisation), then ``joint`` for the remainder.
* ``heatmap`` the coarse step alone.

A drag stops when every handle is within ``tolerance`` of its target, at ``max_steps``, or
(ours) when the farthest handle got no closer for ``patience`` optimisation steps: a drag
that stalls (tracking lost, or the generator cannot make that move) does not burn the cap.
Also (ours) when tracking lost the content: after every step (the coarse one too) the
handle feature error (``handle_feature_error``, mean ``|F(p) - f| / |f|``) above
``lost_error`` stops the drag with ``summary()["lost"]`` True and ``"reached"`` False. The
tracker can latch onto look-alike features and call a drag "reached" whose content never
moved; this catches the clearest of those, not all (see ``DEFAULT_LOST_ERROR``).

A ``DragSession`` runs one step at a time (the editor runs it in a worker thread and may
stop between steps). Points are ``(x, y)`` pixels of the output image (x right, y down,
pixel ``j`` centred at ``j``); radii and the tolerance are in pixels, and the defaults are
chosen for 64 px models (DragGAN's ``round(r / 512 * R)`` scaling gives 0 px below 86 px).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Optional, Sequence

import torch

from ..errors import UserError
from ..methods.state import EditState
from ..methods.spatial.edits import state_from_seed
from .coarse import CentreOffsets, coarse_move, follow_move
from .motion import mask_loss, motion_loss, upsample_features
from .tracking import reference_features, track_points

MODES = ("drag", "joint", "hybrid", "heatmap")
HEATMAP_MODES = ("joint", "hybrid", "heatmap")
COARSE_GAIN = 0.2       # a repeated coarse step must close 20% of the remaining distance to go on
STALL_GAIN = 0.25       # pixels: progress that resets the patience counter
# Handle feature error above which tracking counts as lost. Measured on the bundled rooms model
# (168 drags: drag/hybrid on seeds 0 and 1, joint on seed 1, 1/8 and 1/4 of the image, sampled
# as bench/drag_table.py does) against where the content went by pixels alone
# (steergan.metrics.drag_content): the error's maximum over a drag ranks failed drags (content
# < half way, or ending more than half the drag away) above arrived ones (content within 4 px)
# with AUC 0.75 only (0.61 on seed 0, 0.83 on seed 1). 0.9 flags 30% of the failed drags and 8%
# of the arrived ones (0.8: 43% / 14%; 1.0: 14% / 6%): a warning with few false alarms, not a
# complete check.
DEFAULT_LOST_ERROR = 0.9


@dataclass
class DragOptions:
    mode: str = "hybrid"            # see MODES
    max_steps: int = 200            # cap on steps (the coarse step counts as one)
    tolerance: float = 1.0          # pixels; done when every handle is this close to its target
    lr: float = 0.03                # Adam step on the W+ rows (DragGAN: 1e-3..2e-3 at 256-1024 px;
                                    # chosen on a few rooms drags, bench/drag_table.py; 0.01 / 0.003
                                    # repaint less but move the content no further, with 2-6x the
                                    # steps: bench/drag_sweep.py, docs/drag-baseline.md)
    centre_lr: float = 0.05         # Adam step on heatmap centres, normalised units (0.05 = 1.6 px at 64)
    r1: float = 3.0                 # motion supervision disc radius, pixels (clamped to >= 1)
    r2: float = 6.0                 # point tracking window half-size, pixels (clamped to >= 2)
    subpixel: int = 4               # tracking refined to 1/subpixel pixel (ours; 1 = DragGAN's whole pixels)
    feature_res: Optional[int] = None   # generator block read; None = closest to half the image
    track_res: Optional[int] = None     # block point tracking reads (ours); None = feature_res's
    n_ws: int = 6                   # first W+ rows optimised (the coarse, spatial layers)
    lambda_mask: float = 10.0       # weight of the "keep the rest fixed" term (DragGAN: 10 / 20)
    coarse_radius: float = 12.0     # Eq. 6 radius r, pixels
    coarse_alpha: float = 1.0       # Eq. 6 alpha
    patience: int = 0               # stop after this many optimisation steps without the farthest
                                    # handle getting STALL_GAIN px closer (a stalled drag; 0 = never)
    coarse_steps: int = 1           # Eq. 6 steps (ours: > 1 repeats it from the tracked handles while
                                    # each repeat closes at least COARSE_GAIN of the remaining distance)
    lost_error: float = DEFAULT_LOST_ERROR  # stop as lost when the handle feature error exceeds it
                                    # after a step (ours; 0 = never; see DEFAULT_LOST_ERROR)
    max_jump: float = 4.0           # stop as lost when tracking moves a handle farther than this (pixels)
                                    # in one latent step: motion supervision shifts content about a
                                    # pixel a step, so a longer jump is the tracker latching onto a
                                    # look-alike (ours; 0 = never)

    def resolved(self, model) -> "DragOptions":
        """A checked copy for ``model``: feature block chosen, radii clamped, n_ws capped."""
        if self.mode not in MODES:
            raise UserError(f"unknown drag mode {self.mode!r}; choose one of {', '.join(MODES)}")
        for name, lo in (("max_steps", 1), ("n_ws", 1), ("coarse_steps", 1), ("patience", 0), ("subpixel", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise UserError(f"drag option {name} must be an integer >= {lo}, got {v!r}")
        for name in ("tolerance", "lr", "centre_lr", "r1", "r2", "coarse_radius"):
            v = getattr(self, name)
            if not _number(v) or v <= 0:
                raise UserError(f"drag option {name} must be a positive number, got {v!r}")
        for name in ("lambda_mask", "coarse_alpha", "lost_error", "max_jump"):
            if not _number(getattr(self, name)) or getattr(self, name) < 0:
                raise UserError(f"drag option {name} must be a number >= 0, got {getattr(self, name)!r}")
        blocks = model.G.synthesis.resolutions
        R = model.resolution
        res = self.feature_res
        if res is None:
            res = min(blocks, key=lambda r: (abs(r - R / 2), -r))
        elif res not in blocks:
            raise UserError(f"feature_res {res!r} is not a generator block; choose one of "
                            f"{', '.join(map(str, blocks))}")
        track = res if self.track_res is None else self.track_res
        if track not in blocks:
            raise UserError(f"track_res {track!r} is not a generator block; choose one of "
                            f"{', '.join(map(str, blocks))}")
        r1, r2 = clamp_radii(self.r1, self.r2)
        return replace(self, feature_res=res, track_res=track, r1=r1, r2=r2, n_ws=min(self.n_ws, model.G.num_ws))

    def to_dict(self) -> dict:
        return asdict(self)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def clamp_radii(r1: float, r2: float) -> tuple[float, int]:
    """Radii that still work at low resolution: the motion disc holds at least the handle's
    pixel (r1 >= 1) and tracking can follow a move of a pixel or two (window half-size >= 2)."""
    return max(float(r1), 1.0), max(int(round(r2)), 2)


def initial_state(model, seed: int, truncation: float = 1.0, noise_mode: str = "const",
                  model_id: Optional[str] = None) -> EditState:
    """The edit state of a seed, with heatmaps when the model has them (any model can be dragged)."""
    if model.method.has_heatmaps:
        return state_from_seed(model, seed, truncation, noise_mode, model_id=model_id)
    return EditState(model_id or model.source, seed=int(seed), truncation=truncation,
                     noise_mode=noise_mode).validate()


def _points(points, R: int, what: str) -> list[list[float]]:
    out = []
    for p in points:
        try:
            x, y = (float(v) for v in p)
        except (TypeError, ValueError):
            raise UserError(f"{what} point {p!r} is not an (x, y) pair") from None
        # pixel j covers [j - 0.5, j + 0.5): anything on the image is kept, clamped to pixel centres
        if not (math.isfinite(x) and math.isfinite(y) and -0.5 <= x < R - 0.5 and -0.5 <= y < R - 0.5):
            raise UserError(f"{what} point ({x:g}, {y:g}) is outside the {R}x{R} image")
        out.append([min(max(x, 0.0), R - 1.0), min(max(y, 0.0), R - 1.0)])
    return out


def _mask(mask, R: int, device) -> Optional[torch.Tensor]:
    if mask is None:
        return None
    m = torch.as_tensor(mask)
    if m.shape != (R, R):
        raise UserError(f"drag mask must be {R}x{R} (the image size), got {'x'.join(map(str, m.shape))}")
    m = m.bool().to(device)
    if not bool(m.any()):
        raise UserError("drag mask marks no pixel as movable")
    return m


class DragSession:
    """One drag of handle points to target points on one image (see the module docstring)."""

    def __init__(self, model, state: EditState, handles: Sequence[Sequence[float]],
                 targets: Sequence[Sequence[float]], mask: Optional[torch.Tensor] = None,
                 options: Optional[DragOptions] = None):
        t0 = time.perf_counter()
        self.model = model
        self.options = opts = (options or DragOptions()).resolved(model)
        R = self.resolution = model.resolution
        state.validate()
        if len(handles) != len(targets) or not handles:
            raise UserError(f"need as many targets as handles (at least one), got {len(handles)} "
                            f"handle(s) and {len(targets)} target(s)")
        self.handles = _points(handles, R, "handle")
        self.targets = _points(targets, R, "target")
        self.initial_handles = [list(p) for p in self.handles]
        self.mask = _mask(mask, R, model.device)
        if opts.mode in HEATMAP_MODES and state.heatmaps is None:
            raise UserError(f"drag mode {opts.mode!r} moves heatmap centres, but {model.source} "
                            f"({model.method.name}) has none; use mode 'drag'")
        self._start = state
        ws = self._start_ws(state)
        n = opts.n_ws
        self._w = ws[:, :n].clone().requires_grad_(True)
        self._w_rest = ws[:, n:].clone()
        self._w_adam = torch.optim.Adam([self._w], lr=opts.lr)
        self._centres = None if state.heatmaps is None else CentreOffsets(state.heatmaps.to(model.device))
        self._centre_adam = None
        if self._centres is not None and opts.mode in HEATMAP_MODES:
            self._centre_adam = torch.optim.Adam([self._centres.offsets], lr=opts.centre_lr)
        self._steps = self._opt_steps = 0
        self._coarse_left = opts.coarse_steps if opts.mode in ("hybrid", "heatmap") else 0
        self._best, self._since_best = math.inf, 0
        self._lost = False
        self.lost_reason: Optional[str] = None   # "feature error" or "jump"
        self.moved_centres: dict[int, int] = {}
        self._forward()
        self._F0 = self._F.detach()
        self._reference = reference_features(self._F0, self.handles)        # the lost check's
        self._track_reference = reference_features(self._T, self.handles)   # the tracker's
        self._seconds = time.perf_counter() - t0

    # ------------------------------------------------------------------ internals
    def _start_ws(self, state: EditState) -> torch.Tensor:
        G = self.model.G
        if state.seed is not None:
            ws = self.model.ws_from_seed(state.seed, state.truncation)
        else:
            ws = state.ws_tensor(self.model.device)
        if ws.shape[1:] != (G.num_ws, G.cfg.w_dim):
            raise UserError(f"edit state W+ is {ws.shape[1]}x{ws.shape[2]}, the model needs "
                            f"{G.num_ws}x{G.cfg.w_dim}")
        return ws.detach().to(self.model.device, torch.float32)

    def _ws(self) -> torch.Tensor:
        return torch.cat([self._w, self._w_rest], 1)

    def _forward(self) -> None:
        """Image and features of the current variables (kept with their graph for the next step)."""
        control = None if self._centres is None else self._centres.heatmaps()
        img, feats = self.model.G.synthesis(self._ws(), control, noise_mode=self._start.noise_mode,
                                            return_features=True)
        self._image = img.detach()
        o = self.options
        self._F = upsample_features(feats[o.feature_res].float(), self.resolution)
        # tracking may read another block than motion supervision does (track_res)
        self._T = self._F.detach() if o.track_res == o.feature_res else \
            upsample_features(feats[o.track_res].detach().float(), self.resolution)

    def _distances(self) -> list[float]:
        return [math.dist(p, t) for p, t in zip(self.handles, self.targets)]

    @property
    def _coarse_pending(self) -> bool:
        return self._coarse_left > 0

    def _coarse_step(self) -> None:
        """Eq. 6, then re-locate each handle in the box spanning its old and predicted place.
        A repeat starts from the tracked handles (closed loop: the object may have followed its
        heatmap only part of the way); repeats stop once one gains too little."""
        o = self.options
        before = max(self._distances())
        if self.moved_centres:                       # a repeat: the same centres, from the tracked handles
            moved = self.moved_centres
            hm = follow_move(self._centres.base, moved, self.handles, self.targets, self.resolution,
                             o.coarse_alpha)
        else:
            hm, moved = coarse_move(self._centres.base, self.handles, self.targets,
                                    self.resolution, o.coarse_radius, o.coarse_alpha)
            self.moved_centres = moved
        self._centres = CentreOffsets(hm)
        self._centre_adam = torch.optim.Adam([self._centres.offsets], lr=o.centre_lr)
        used = set(moved.values())
        reach = [[p[0] + o.coarse_alpha * (t[0] - p[0]), p[1] + o.coarse_alpha * (t[1] - p[1])]
                 if j in used else p for j, (p, t) in enumerate(zip(self.handles, self.targets))]
        self._forward()
        self.handles = track_points(self._T, self._track_reference, self.handles, o.r2, reach, o.subpixel)
        after = max(self._distances())
        self._coarse_left -= 1
        if after <= o.tolerance or after > (1 - COARSE_GAIN) * before:
            self._coarse_left = 0

    def _optimisation_step(self) -> None:
        o = self.options
        latent_turn = o.mode == "drag" or self._opt_steps % 2 == 0      # joint: latent, then centres
        param, adam = (self._w, self._w_adam) if latent_turn else (self._centres.offsets, self._centre_adam)
        loss = motion_loss(self._F, self.handles, self.targets, o.r1, min_distance=o.tolerance)
        if loss is not None and self.mask is not None and o.lambda_mask > 0:
            loss = loss + o.lambda_mask * mask_loss(self._F, self._F0, self.mask)
        if loss is not None:
            (grad,) = torch.autograd.grad(loss, [param], allow_unused=True)
            if grad is not None:
                param.grad = grad
                adam.step()
                param.grad = None
        self._forward()
        before = self.handles
        self.handles = track_points(self._T, self._track_reference, self.handles, o.r2, subpixel=o.subpixel)
        if latent_turn and o.max_jump > 0 and any(math.dist(a, b) > o.max_jump for a, b in zip(before, self.handles)):
            self._lost, self.lost_reason = True, "jump"       # the content cannot move that far in one step
        self._opt_steps += 1
        d = max(self._distances())
        if d < self._best - STALL_GAIN:
            self._best, self._since_best = d, 0
        else:
            self._since_best += 1

    # ------------------------------------------------------------------ public
    @property
    def done(self) -> bool:
        if self._steps >= self.options.max_steps or self.stalled or self._lost:
            return True
        if self.options.mode == "heatmap":
            return not self._coarse_pending
        return not self._coarse_pending and max(self._distances()) <= self.options.tolerance

    @property
    def stalled(self) -> bool:
        return 0 < self.options.patience <= self._since_best

    @property
    def lost(self) -> bool:
        """Tracking lost the content: the handle feature error passed ``lost_error``, or a handle
        jumped farther than ``max_jump`` in one latent step (``lost_reason``)."""
        return self._lost

    def step(self) -> dict:
        """One step (the coarse move first in hybrid/heatmap mode); a no-op once done."""
        if not self.done:
            t0 = time.perf_counter()
            if self._coarse_pending:
                self._coarse_step()
            else:
                self._optimisation_step()
            self._steps += 1
            if not self._lost and self.options.lost_error > 0 and \
                    self.handle_feature_error() > self.options.lost_error:
                self._lost, self.lost_reason = True, "feature error"
            self._seconds += time.perf_counter() - t0
        return {"step": self._steps, "done": self.done, "handles": [list(p) for p in self.handles],
                "distance": max(self._distances()) / self.resolution}

    def run(self, callback: Optional[Callable[[dict], Any]] = None) -> dict:
        """Steps until done (or ``callback(step_info)`` returns False); the summary."""
        while not self.done:
            info = self.step()
            if callback is not None and callback(info) is False:
                break
        return self.summary()

    def handle_feature_error(self) -> float:
        """Mean ``|F(p_i) - f_i| / |f_i|`` at the current handles: small when the handles still sit
        on the content they started on (tracking can also latch onto look-alike content)."""
        with torch.no_grad():
            f = reference_features(self._F, self.handles)
            err = (f - self._reference).norm(dim=1) / self._reference.norm(dim=1).clamp(min=1e-8)
        return float(err.mean())

    def summary(self) -> dict:
        d = self._distances()
        return {"mode": self.options.mode, "steps": self._steps, "optimisation_steps": self._opt_steps,
                "seconds": self._seconds, "distance": max(d) / self.resolution,
                "mean_distance": sum(d) / len(d) / self.resolution,
                "reached": max(d) <= self.options.tolerance and not self._lost, "stalled": self.stalled,
                "lost": self._lost, "lost_reason": self.lost_reason,
                "handles": [list(p) for p in self.handles], "targets": [list(t) for t in self.targets],
                "initial_handles": self.initial_handles, "handle_feature_error": self.handle_feature_error(),
                "moved_centres": sorted(self.moved_centres)}

    def image(self) -> torch.Tensor:
        """uint8 [3, R, R] of the current state."""
        return ((self._image[0].float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()

    def state(self) -> EditState:
        """The current latent (explicit W+) and heatmaps; ``render_state`` gives ``image()``."""
        ws = self._ws().detach()[0].cpu()
        hm = None if self._centres is None else self._centres.heatmaps().detach().to("cpu")
        return EditState(self._start.model, ws=ws.tolist(), heatmaps=hm, truncation=self._start.truncation,
                         noise_mode=self._start.noise_mode).validate()
