"""Editor state and edit operations for SpatialGAN models (pure functions, no UI).

An ``EditState`` is everything needed to re-render one edited image bit-exactly: the
model id, the latent (a seed, or an explicit W+ list, e.g. after DragGAN-style
optimisation), the heatmaps, truncation and noise mode. It round-trips through JSON
exactly (floats are written as exact decimal reprs of the stored values).

Edit ops are plain dicts, so the CLI and the browser editor can send them as JSON::

    {"op": "move", "index": 0, "delta": [0.2, 0.0], "with_descendants": true}
    {"op": "set_centre", "index": 2, "xy": [-0.5, 0.1]}
    {"op": "set_sigma", "index": 1, "sigma": 0.3}
    {"op": "remove", "index": 1}            {"op": "restore", "index": 1}
    {"op": "set_style", "index": 0, "seed": 42}      (or "w": [...], or "w": null = image's w)

Coordinates and sigma follow ``heatmaps`` (x right, y down, both in [-1, 1]).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Optional

import torch

from ...errors import UserError
from .heatmaps import Heatmaps

NOISE_MODES = ("const", "random", "none")
OPS = ("move", "set_centre", "set_sigma", "remove", "restore", "set_style")


MAX_TRUNCATION = 2.0     # psi beyond 2 extrapolates far outside the training distribution


@dataclass
class EditState:
    model: str                                   # bundled model name or checkpoint path
    seed: Optional[int] = None                   # the latent comes from this seed ...
    ws: Optional[list] = None                    # ... or is this W+ [num_ws][w_dim] (one image)
    heatmaps: Optional[Heatmaps] = None          # batch of 1
    truncation: float = 1.0
    noise_mode: str = "const"

    def validate(self) -> "EditState":
        if not isinstance(self.model, str) or not self.model:
            raise UserError("edit state needs a model id")
        if (self.seed is None) == (self.ws is None):
            raise UserError("edit state needs exactly one of seed and ws")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or not 0 <= self.seed < 2 ** 32):
            raise UserError(f"seed must be an integer between 0 and 2^32-1, got {self.seed!r}")
        if self.ws is not None:
            rows = self.ws
            if (not isinstance(rows, list) or not rows or not all(isinstance(r, list) and r for r in rows)
                    or len({len(r) for r in rows}) != 1):
                raise UserError("ws must be a non-empty [num_ws][w_dim] list of numbers")
        if not isinstance(self.truncation, (int, float)) or isinstance(self.truncation, bool) \
                or not 0 <= self.truncation <= MAX_TRUNCATION:
            raise UserError(f"truncation must be a number in [0, {MAX_TRUNCATION:g}], got {self.truncation!r}")
        if self.noise_mode not in NOISE_MODES:
            raise UserError(f"noise mode must be one of {', '.join(NOISE_MODES)}, got {self.noise_mode!r}")
        if self.heatmaps is not None and len(self.heatmaps) != 1:
            raise UserError("edit state heatmaps must hold exactly one image")
        return self

    def ws_tensor(self, device: Any = "cpu") -> torch.Tensor:
        """W+ [1, num_ws, w_dim] (float32) from ``ws``."""
        if self.ws is None:
            raise UserError("this edit state has a seed, not an explicit W+")
        return torch.tensor(self.ws, dtype=torch.float32, device=device)[None]

    def to_dict(self) -> dict:
        return {"model": self.model, "seed": self.seed, "ws": self.ws,
                "heatmaps": None if self.heatmaps is None else self.heatmaps.to_dict(),
                "truncation": self.truncation, "noise_mode": self.noise_mode}

    @classmethod
    def from_dict(cls, d: dict) -> "EditState":
        if not isinstance(d, dict):
            raise UserError("edit state must be a JSON object")
        unknown = set(d) - {"model", "seed", "ws", "heatmaps", "truncation", "noise_mode"}
        if unknown:
            raise UserError(f"unknown edit state fields {sorted(unknown)}")
        hm = d.get("heatmaps")
        state = cls(model=d.get("model"), seed=d.get("seed"), ws=d.get("ws"),
                    heatmaps=None if hm is None else Heatmaps.from_dict(hm),
                    truncation=d.get("truncation", 1.0), noise_mode=d.get("noise_mode", "const"))
        return state.validate()

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "EditState":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise UserError(f"edit state is not valid JSON ({e})") from None

    def same_as(self, other: "EditState") -> bool:
        if (self.model, self.seed, self.ws, self.truncation, self.noise_mode) != \
                (other.model, other.seed, other.ws, other.truncation, other.noise_mode):
            return False
        if self.heatmaps is None or other.heatmaps is None:
            return self.heatmaps is None and other.heatmaps is None
        return self.heatmaps.same_as(other.heatmaps)


# ---------------------------------------------------------------------- ops

def _index(op: dict) -> int:
    i = op.get("index")
    if isinstance(i, bool) or not isinstance(i, int):
        raise UserError(f"edit op {op.get('op')!r} needs an integer 'index', got {i!r}")
    return i


MAX_COORD = 10.0     # centres live in [-1, 1]; anything past 10 image widths is a typo (or an overflow)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= 1e6


def _pair(op: dict, key: str) -> list[float]:
    v = op.get(key)
    if not isinstance(v, (list, tuple)) or len(v) != 2 or not all(
            _number(a) and abs(a) <= MAX_COORD for a in v):
        raise UserError(f"edit op {op.get('op')!r} needs '{key}' = [x, y], finite numbers within "
                        f"+-{MAX_COORD:g}, got {v!r}")
    return [float(a) for a in v]


def apply_op(hm: Heatmaps, op: dict,
             style_from_seed: Optional[Callable[[int], torch.Tensor]] = None) -> Heatmaps:
    """One edit op (see the module docstring) -> new Heatmaps."""
    if not isinstance(op, dict) or op.get("op") not in OPS:
        raise UserError(f"unknown edit op {op!r}; ops: {', '.join(OPS)}")
    kind, i = op["op"], _index(op)
    if kind == "move":
        return hm.move(i, _pair(op, "delta"), bool(op.get("with_descendants", True)))
    if kind == "set_centre":
        return hm.set_centre(i, _pair(op, "xy"), bool(op.get("with_descendants", True)))
    if kind == "set_sigma":
        s = op.get("sigma")
        if not _number(s) or not 0 < s <= MAX_COORD:
            raise UserError(f"edit op 'set_sigma' needs a positive number 'sigma' (at most {MAX_COORD:g}), got {s!r}")
        return hm.set_sigma(i, float(s))
    if kind == "remove":
        return hm.remove(i)
    if kind == "restore":
        return hm.restore(i)
    # set_style
    if "seed" in op:
        if style_from_seed is None:
            raise UserError("set_style by seed needs a model to map the seed")
        seed = op["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise UserError(f"set_style seed must be an integer, got {seed!r}")
        return hm.set_style(i, style_from_seed(seed))
    if "w" not in op:
        raise UserError("edit op 'set_style' needs 'seed' or 'w'")
    w = op["w"]
    if w is not None and (not isinstance(w, list) or not w or not all(_number(a) for a in w)):
        raise UserError("edit op 'set_style' needs 'w' = a list of finite numbers (or null)")
    return hm.set_style(i, None if w is None else torch.tensor(w, dtype=torch.float32))


def apply_heatmap_op(state: EditState, op: dict, model) -> EditState:
    """One op as ``Method.edit_ops`` applies it (see ``SpatialGAN.edit_ops``)."""
    return apply_ops(state, [op], model)


def apply_ops(state: EditState, ops: Iterable[dict], model=None) -> EditState:
    """A new state with every op applied in order (``model`` maps ``set_style`` seeds)."""
    if state.heatmaps is None:
        raise UserError("this edit state has no heatmaps to edit")
    fn = (lambda seed: style_code_from_seed(model, seed, state.truncation)) if model is not None else None
    hm = state.heatmaps
    for op in ops:
        hm = apply_op(hm, op, fn)
    return replace(state, heatmaps=hm)


# ---------------------------------------------------------------------- model glue (duck-typed SteerModel)

def style_code_from_seed(model, seed: int, truncation: float = 1.0) -> torch.Tensor:
    """An object's style code w [w_dim] from a seed (the latent sampling of ``model``)."""
    return model.ws_from_seed(int(seed), truncation)[0, 0].detach().cpu()


def truncate_styles(hm: Heatmaps, G, truncation: float) -> Heatmaps:
    """Pull per-object codes towards w_avg like the image's own w."""
    if hm.styles is None or truncation == 1.0:
        return hm
    w_avg = G.mapping.w_avg.to(hm.styles.device, hm.styles.dtype)
    st = w_avg.lerp(hm.styles, truncation)                    # NaN rows stay NaN
    return Heatmaps(hm.centres, hm.sigmas, hm.levels, hm.parents, hm.active, st, hm.kind)


def state_from_seed(model, seed: int, truncation: float = 1.0, noise_mode: str = "const",
                    model_id: Optional[str] = None) -> EditState:
    """The starting point of an edit: the model's latent and heatmaps for ``seed``."""
    with torch.no_grad():
        hm = model.control_from_seed(int(seed))
    if not isinstance(hm, Heatmaps):
        raise UserError(f"model {model.source} is not a spatial (heatmap) model")
    hm = truncate_styles(hm.detach(), model.G, truncation).to("cpu")
    return EditState(model_id or model.source, seed=int(seed), heatmaps=hm,
                     truncation=truncation, noise_mode=noise_mode).validate()


def render_state(model, state: EditState) -> torch.Tensor:
    """The image [1, 3, R, R] (float, about [-1, 1]) an edit state describes."""
    state.validate()
    ws = model.ws_from_seed(state.seed, state.truncation) if state.seed is not None \
        else state.ws_tensor(model.device)
    control = None if state.heatmaps is None else state.heatmaps.to(model.device)
    return model.synthesize(ws, control, noise_mode=state.noise_mode)
