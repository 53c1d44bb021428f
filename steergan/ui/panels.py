"""Which editor panels and edit ops a model gets, from its capabilities.

Capabilities come from the checkpoint's config (``SteerModel.capabilities``), never from a
file name. The page has one ``<section data-panel=NAME>`` per implemented panel and shows
those this mapping lists for the loaded model. Edit ops are the methods' own
(``Method.edit_ops``: name, needed capability, applying function); adding a method's editor
is one row in ``PANELS``, its name in ``IMPLEMENTED``, and a section + script in ``static/``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..edit.state_checks import check_seed
from ..errors import UserError
from ..methods.base import registered_edit_ops

if TYPE_CHECKING:
    from ..methods.state import EditState

# panel -> capabilities that enable it (any one of them)
PANELS: dict[str, tuple[str, ...]] = {
    "latent": ("latent",),                       # seed, random, load latent, new latent same layout
    "heatmaps": ("heatmap_move",),               # SpatialGAN: centres on the canvas, sigma, remove, restyle
    "drag": ("latent",),                         # DragGAN / SpatialGAN drag (edit/drag.py), every model
    "link": ("link_resample",),                  # LinkGAN: links and their regions, resample a link's axes
    "semantic": ("class_shape", "class_texture"),    # SemanticStyleGAN: per-class codes, masks, depth, build-up
}
IMPLEMENTED = ("latent", "heatmaps", "drag", "link", "semantic")

MAX_OPS = 64                                     # per request; a gesture sends one or two


def panels_for(capabilities: Iterable[str], unavailable: Iterable[str] = ()) -> list[str]:
    caps, off = set(capabilities), set(unavailable)
    return [p for p, need in PANELS.items()
            if p in IMPLEMENTED and p not in off and caps.intersection(need)]


def _check_seed(op: dict) -> None:
    seed = op.get("seed")
    if op["op"] == "set_code" and ("seed" not in op or "w" in op):
        raise UserError("set_code in the editor takes a 'seed' (the donor sample of the new code)")
    if "seed" in op:
        check_seed(seed, "style seed" if op["op"] == "set_style" else f"{op['op']} seed")


def apply_edit_ops(model, state: "EditState", ops) -> "EditState":
    """Apply client ops in order through the library, refusing ops the model cannot do."""
    if not isinstance(ops, list) or not ops:
        raise UserError("ops must be a non-empty list of edit ops")
    if len(ops) > MAX_OPS:
        raise UserError(f"at most {MAX_OPS} ops per request, got {len(ops)}")
    caps, known = set(model.capabilities), registered_edit_ops()
    for op in ops:
        kind = op.get("op") if isinstance(op, dict) else None
        if kind not in known:
            raise UserError(f"unknown edit op {kind!r}; ops: {', '.join(known)}")
        need = known[kind].needs(op)
        if need not in caps:
            raise UserError(f"this model cannot {kind!r} (it needs {need!r}; "
                            f"capabilities: {', '.join(sorted(caps))})")
        if known[kind].seeded:
            _check_seed(op)
    for op in ops:                       # each op is applied by the method that declares it
        state = known[op["op"]](state, op, model)
    return state
