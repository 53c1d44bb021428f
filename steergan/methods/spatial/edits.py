"""SpatialGAN's edit operations on an ``EditState`` (``methods.state``; pure functions, no UI).

The state's control is the heatmaps; ``state_from_seed`` gives a seed's, truncated like the
latent. Edit ops are plain dicts, so the CLI and the browser editor can send them as JSON::

    {"op": "move", "index": 0, "delta": [0.2, 0.0], "with_descendants": true}
    {"op": "set_centre", "index": 2, "xy": [-0.5, 0.1]}
    {"op": "set_sigma", "index": 1, "sigma": 0.3}
    {"op": "remove", "index": 1}            {"op": "restore", "index": 1}
    {"op": "set_style", "index": 0, "seed": 42}      (or "w": [...], or "w": null = image's w)

Coordinates and sigma follow ``heatmaps`` (x right, y down, both in [-1, 1]).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable, Iterable, Optional

import torch

from ...errors import UserError
from ..state import MAX_TRUNCATION, NOISE_MODES, EditState, render_state  # noqa: F401  (re-exported)
from .heatmaps import Heatmaps

OPS = ("move", "set_centre", "set_sigma", "remove", "restore", "set_style")


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


def seed_heatmaps(model, seed: int, truncation: float = 1.0) -> Heatmaps:
    """A seed's heatmaps (on the CPU), per-object style codes truncated like the latent."""
    with torch.no_grad():
        hm = model.control_from_seed(int(seed))
    if not isinstance(hm, Heatmaps):
        raise UserError(f"model {model.source} is not a spatial (heatmap) model")
    return truncate_styles(hm.detach(), model.G, truncation).to("cpu")


def state_from_seed(model, seed: int, truncation: float = 1.0, noise_mode: str = "const",
                    model_id: Optional[str] = None) -> EditState:
    """The starting point of an edit: the model's latent and heatmaps for ``seed`` (any object
    with ``control_from_seed``, ``source`` and ``G``: metrics pass stand-in models)."""
    return EditState(model_id or model.source, seed=int(seed), heatmaps=seed_heatmaps(model, seed, truncation),
                     truncation=truncation, noise_mode=noise_mode).validate()
