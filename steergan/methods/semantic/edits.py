"""Per-class edits of SemanticStyleGAN models (pure functions on W+; no UI).

The factorised W+ makes local editing a matter of replacing slots: a class's shape code
(moves its mask, Sec. 4.2 "local style mixing") or its texture code (changes only its
appearance; the masks cannot change, see ``layout``). Codes come from another sample
(swap) or from a fresh seed (resample), both truncated like the image's own code.
Also: per-class pseudo-depth maps, and the image built up class by class (the paper's
composition figure) by dropping classes from the fusion.

Ops are JSON dicts, so the CLI and the editor send the same thing::

    {"op": "set_code", "class": "bed", "part": "texture", "seed": 7}
    {"op": "set_code", "class": 2, "part": "shape", "w": [...]}        (an explicit code)

Every function takes a loaded ``SteerModel`` (duck-typed: ``G``, ``method``, ``device``,
``ws_from_seed``) and W+ tensors [1, num_ws, w_dim].
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Optional, Sequence

import torch

from ...errors import UserError
from .generator import SemanticOutput
from .layout import PARTS


def check_model(model):
    """The model's ``SemanticStyleGAN`` method (a UserError for any other model)."""
    method = model.method
    if method.name != "semantic":
        raise UserError(f"{getattr(model, 'source', 'this model')} ({method.name}) has no per-class codes; "
                        f"train with --method semantic")
    return method


def class_index(model, cls) -> int:
    return check_model(model).class_index(cls)


def _part(part: str) -> str:
    if part not in PARTS:
        raise UserError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    return part


def with_code(ws: torch.Tensor, model, cls, part: str, code: torch.Tensor) -> torch.Tensor:
    """A copy of ``ws`` whose (class, part) slot holds ``code`` [w_dim]; every other slot is kept."""
    k, layout = class_index(model, cls), model.G.layout
    code = torch.as_tensor(code, dtype=ws.dtype, device=ws.device).reshape(-1)
    if code.numel() != ws.shape[-1]:
        raise UserError(f"a code has {ws.shape[-1]} numbers, got {code.numel()}")
    out = ws.clone()
    out[:, layout.slot(k, _part(part))] = code
    return out


def swap_code(ws: torch.Tensor, donor: torch.Tensor, model, cls, part: str) -> torch.Tensor:
    """``ws`` with one class's shape or texture code taken from another sample's W+ ``donor``."""
    slot = model.G.layout.slot(class_index(model, cls), _part(part))
    return with_code(ws, model, cls, part, donor[0, slot])


def resample_code(ws: torch.Tensor, model, cls, part: str, seed: int, truncation: float = 1.0) -> torch.Tensor:
    """``ws`` with one class's shape or texture code drawn afresh from ``seed``."""
    return swap_code(ws, model.ws_from_seed(int(seed), truncation), model, cls, part)


def apply_ops(ws: torch.Tensor, ops: Iterable[dict], model, truncation: float = 1.0) -> torch.Tensor:
    """Apply ``set_code`` ops (see the module docstring) in order."""
    for op in ops:
        if not isinstance(op, dict) or op.get("op") != "set_code":
            raise UserError(f"unknown semantic edit op {op!r}; ops: set_code")
        if ("seed" in op) == ("w" in op):
            raise UserError("op set_code needs exactly one of 'seed' and 'w'")
        cls, part = op.get("class"), op.get("part")
        if "seed" in op:
            seed = op["seed"]
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise UserError(f"set_code seed must be an integer, got {seed!r}")
            ws = resample_code(ws, model, cls, part, seed, truncation)
        else:
            ws = with_code(ws, model, cls, part, torch.tensor(op["w"], dtype=torch.float32))
    return ws


@torch.no_grad()
def render(model, ws: torch.Tensor, noise_mode: str = "const",
           visible: Optional[torch.Tensor] = None) -> SemanticOutput:
    """Everything the generator makes for W+ ``ws``: image, segmentation, coarse masks, depths."""
    check_model(model)
    return model.G.synthesis.compose(ws.to(model.device), noise_mode, visible)


def labels(out: SemanticOutput) -> torch.Tensor:
    """The generated label map [N, R, R]: argmax of the final segmentation."""
    return out.segmentation.argmax(1)


def depth_maps(model, ws: torch.Tensor) -> torch.Tensor:
    """Per-class pseudo-depths [K, S, S] of one sample (the background's is 0)."""
    return render(model, ws).depths[0]


def build_up(model, ws: torch.Tensor, order: Optional[Sequence] = None,
             noise_mode: str = "const") -> tuple[torch.Tensor, list[int]]:
    """Images [K, 3, R, R] of one sample with classes added one at a time (default: id order, the
    background first), and the class order used."""
    method = check_model(model)
    k_all = len(method.classes)
    ids = [method.class_index(c) for c in order] if order is not None else list(range(k_all))
    if len(set(ids)) != len(ids) or not ids:
        raise UserError(f"build-up order must name distinct classes, got {order!r}")
    visible = torch.zeros(len(ids), k_all, dtype=torch.bool)
    for step in range(len(ids)):
        visible[step, ids[:step + 1]] = True
    out = render(model, ws.expand(len(ids), -1, -1), noise_mode, visible.to(model.device))
    return out.image, ids


def apply_code_op(state, op: dict, model):
    """An edit state (``methods.spatial.edits.EditState``) with one ``set_code`` op applied: a new
    state with an explicit W+ (the editor's op; the code is truncated like the state's own)."""
    state.validate()
    ws = model.ws_from_seed(state.seed, state.truncation) if state.seed is not None \
        else state.ws_tensor(model.device)
    edited = apply_ops(ws, [op], model, state.truncation)
    return replace(state, seed=None, ws=edited[0].cpu().tolist()).validate()
