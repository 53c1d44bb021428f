"""Which editor panels and edit ops a model gets, from its capabilities.

Capabilities come from the checkpoint's config (``SteerModel.capabilities``), never from a
file name. The page has one ``<section data-panel=NAME>`` per implemented panel and shows
those this mapping lists for the loaded model. Adding a method's editor is: one row in
``PANELS``, its name in ``IMPLEMENTED``, its ops in ``OP_CAPABILITY`` / ``_HANDLERS`` (the
library function that applies them), and a section + script in ``static/``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from ..errors import UserError

if TYPE_CHECKING:
    from ..methods.spatial.edits import EditState

# panel -> capabilities that enable it (any one of them)
PANELS: dict[str, tuple[str, ...]] = {
    "latent": ("latent",),                       # seed, random, load latent, new latent same layout
    "heatmaps": ("heatmap_move",),               # SpatialGAN: centres on the canvas, sigma, remove, restyle
    "drag": ("latent",),                         # DragGAN / SpatialGAN drag (edit/drag.py), every model
    "link": ("link_resample",),                  # LinkGAN region resampling (issue #6; no panel yet)
    "semantic": ("class_shape", "class_texture"),    # SemanticStyleGAN per-class edits (issue #7; no panel yet)
}
IMPLEMENTED = ("latent", "heatmaps", "drag")

# edit op -> the capability a model needs for it
OP_CAPABILITY: dict[str, str] = {
    "move": "heatmap_move", "set_centre": "heatmap_move", "set_sigma": "heatmap_sigma",
    "remove": "heatmap_remove", "restore": "heatmap_remove", "set_style": "heatmap_style",
}
MAX_OPS = 64                                     # per request; a gesture sends one or two


def panels_for(capabilities: Iterable[str], unavailable: Iterable[str] = ()) -> list[str]:
    caps, off = set(capabilities), set(unavailable)
    return [p for p, need in PANELS.items()
            if p in IMPLEMENTED and p not in off and caps.intersection(need)]


def _heatmap_op(model, state, op):
    from ..methods.spatial.edits import apply_ops
    return apply_ops(state, [op], model)


_HANDLERS: dict[str, Callable] = {op: _heatmap_op for op in OP_CAPABILITY}


def apply_edit_ops(model, state: "EditState", ops) -> "EditState":
    """Apply client ops in order through the library, refusing ops the model cannot do."""
    if not isinstance(ops, list) or not ops:
        raise UserError("ops must be a non-empty list of edit ops")
    if len(ops) > MAX_OPS:
        raise UserError(f"at most {MAX_OPS} ops per request, got {len(ops)}")
    caps = set(model.capabilities)
    for op in ops:
        kind = op.get("op") if isinstance(op, dict) else None
        if kind not in OP_CAPABILITY:
            raise UserError(f"unknown edit op {kind!r}; ops: {', '.join(OP_CAPABILITY)}")
        if OP_CAPABILITY[kind] not in caps:
            raise UserError(f"this model cannot {kind!r} (it needs {OP_CAPABILITY[kind]!r}; "
                            f"capabilities: {', '.join(sorted(caps))})")
        seed = op.get("seed")
        if kind == "set_style" and isinstance(seed, int) and not 0 <= seed < 2 ** 32:
            raise UserError(f"style seed must be between 0 and 2^32-1, got {seed}")
    for op in ops:
        state = _HANDLERS[op["op"]](model, state, op)
    return state
