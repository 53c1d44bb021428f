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
    "link": ("link_resample",),                  # LinkGAN: links and their regions, resample a link's axes
    "semantic": ("class_shape", "class_texture"),    # SemanticStyleGAN: per-class codes, masks, depth, build-up
}
IMPLEMENTED = ("latent", "heatmaps", "drag", "link", "semantic")

# edit op -> the capability a model needs for it
OP_CAPABILITY: dict[str, str] = {
    "move": "heatmap_move", "set_centre": "heatmap_move", "set_sigma": "heatmap_sigma",
    "remove": "heatmap_remove", "restore": "heatmap_remove", "set_style": "heatmap_style",
    "resample_link": "link_resample", "set_code": "class_shape",     # set_code: see PART_CAPABILITY
}
PART_CAPABILITY = {"shape": "class_shape", "texture": "class_texture"}     # set_code's "part"
SEEDED_OPS = ("set_style", "resample_link", "set_code")                   # their "seed" is checked here
MAX_OPS = 64                                     # per request; a gesture sends one or two


def panels_for(capabilities: Iterable[str], unavailable: Iterable[str] = ()) -> list[str]:
    caps, off = set(capabilities), set(unavailable)
    return [p for p, need in PANELS.items()
            if p in IMPLEMENTED and p not in off and caps.intersection(need)]


def _heatmap_op(model, state, op):
    from ..methods.spatial.edits import apply_ops
    return apply_ops(state, [op], model)


def _link_op(model, state, op):
    from ..methods.link.edits import apply_link_op
    return apply_link_op(state, op, model)


def _code_op(model, state, op):
    from ..methods.semantic.edits import apply_code_op
    return apply_code_op(state, op, model)


_HANDLERS: dict[str, Callable] = {op: _heatmap_op for op in OP_CAPABILITY}
_HANDLERS.update(resample_link=_link_op, set_code=_code_op)


def needed_capability(op: dict) -> str:
    """The capability an op needs (set_code: that of its part)."""
    if op["op"] != "set_code":
        return OP_CAPABILITY[op["op"]]
    part = op.get("part")
    if not isinstance(part, str) or part not in PART_CAPABILITY:
        raise UserError(f"set_code part must be one of {', '.join(PART_CAPABILITY)}, got {part!r}")
    return PART_CAPABILITY[part]


def _check_seed(op: dict) -> None:
    seed = op.get("seed")
    if op["op"] == "set_code" and ("seed" not in op or "w" in op):
        raise UserError("set_code in the editor takes a 'seed' (the donor sample of the new code)")
    if "seed" in op and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 32):
        what = "style seed" if op["op"] == "set_style" else f"{op['op']} seed"
        raise UserError(f"{what} must be an integer between 0 and 2^32-1, got {seed!r}")


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
        need = needed_capability(op)
        if need not in caps:
            raise UserError(f"this model cannot {kind!r} (it needs {need!r}; "
                            f"capabilities: {', '.join(sorted(caps))})")
        if kind in SEEDED_OPS:
            _check_seed(op)
    for op in ops:
        state = _HANDLERS[op["op"]](model, state, op)
    return state
