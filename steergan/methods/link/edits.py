"""Partial resampling (LinkGAN Fig. 1-5): give a link's axes new values, keep the rest of w.

Each result is an ``EditState`` with an explicit W+ (``methods.spatial.edits.EditState``, rendered
by ``render_state``), so the CLI, the API and the editor pass the same object around. The editor's
op, a plain dict like the heatmap ops::

    {"op": "resample_link", "link": 0, "seed": 42}      # link 0's axes taken from seed 42's w

Works for any model: a LinkGAN model knows its links; for another model (the baseline row of
Table 2) pass the same links explicitly (``link_spec(model, {"links": [...]})``).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

import numpy as np
import torch

from ...errors import UserError
from ..state import EditState
from .spec import Link, parse_links


def link_spec(model, links=None) -> list[Link]:
    """The links of ``model`` (a LinkGAN model) or ``links``: a JSON list of links, or an object
    with "links" or "layout" (the method options' form), resolved for the model's w."""
    w_dim = model.G.cfg.w_dim
    if links is None:
        from .method import LinkGAN
        if not isinstance(model.method, LinkGAN):
            raise UserError(f"model {model.source} is not a LinkGAN model: give the links explicitly "
                            '(e.g. --links \'[{"region": {"class": "floor"}, "axes": 32}]\')')
        return model.method.links(w_dim)
    if isinstance(links, dict):
        unknown = set(links) - {"links", "layout"}
        if unknown:
            raise UserError(f"links object: unknown field(s) {sorted(unknown)}; expected links or layout")
        return parse_links(links.get("links"), links.get("layout"), w_dim)
    return parse_links(links, None, w_dim)


def _link(links: list[Link], index) -> Link:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(links):
        raise UserError(f"link {index!r} does not exist; this model has links 0..{len(links) - 1}")
    return links[index]


def resample_ws(ws: torch.Tensor, link: Link, targets: torch.Tensor) -> torch.Tensor:
    """W+ ``ws`` [1 or N, L, D] with ``link``'s channels replaced by those of ``targets``
    ([N, L, D] or [N, D]) -> [N, L, D]. Every other channel keeps its value exactly."""
    if targets.ndim == 2:
        targets = targets[:, None, :].expand(-1, ws.shape[1], -1)
    out = ws.expand(targets.shape[0], -1, -1).clone()
    a, b = link.axes
    out[..., a:b] = targets[..., a:b]
    return out


def resample_seeds(seed: int, link: int, n: int) -> list[int]:
    """The seeds whose w supply the new axis values: fixed for (seed, link), so runs repeat."""
    return [int(s) for s in np.random.default_rng([int(seed), int(link)]).integers(0, 2 ** 31, n)]


def resampled_ws(model, seed: int, link: int = 0, n: int = 8, truncation: float = 1.0,
                 links=None, seeds: Optional[list[int]] = None) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """(W+ of ``seed`` [1, L, D], the ``n`` partially resampled W+ [n, L, D], the donor seeds)."""
    spec = _link(link_spec(model, links), link)
    if n < 1:
        raise UserError(f"--n must be at least 1, got {n}")
    seeds = list(seeds) if seeds is not None else resample_seeds(seed, link, n)
    ws = model.ws_from_seed(seed, truncation)
    donors = torch.cat([model.ws_from_seed(s, truncation) for s in seeds])
    return ws, resample_ws(ws, spec, donors), seeds


def resample_states(model, seed: int, link: int = 0, n: int = 8, truncation: float = 1.0, links=None,
                    model_id: Optional[str] = None) -> tuple[EditState, list[EditState]]:
    """The starting state (by seed) and one explicit-W+ state per resampled latent."""
    ws, edited, _ = resampled_ws(model, seed, link, n, truncation, links)
    mid = model_id or model.source
    start = EditState(mid, seed=int(seed), truncation=truncation).validate()
    return start, [EditState(mid, ws=e.tolist(), truncation=truncation).validate() for e in edited.cpu()]


def apply_link_op(state: EditState, op: dict, model, links=None) -> EditState:
    """``{"op": "resample_link", "link": k, "seed": s}`` -> a new state with an explicit W+."""
    if not isinstance(op, dict) or op.get("op") != "resample_link":
        raise UserError(f"unknown link edit op {op!r}; expected {{\"op\": \"resample_link\", \"link\": k, \"seed\": s}}")
    spec = _link(link_spec(model, links), op.get("link"))
    donor = op.get("seed")
    if isinstance(donor, bool) or not isinstance(donor, int) or not 0 <= donor < 2 ** 32:
        raise UserError(f"resample_link needs an integer 'seed' in [0, 2^32), got {donor!r}")
    state.validate()
    ws = model.ws_from_seed(state.seed, state.truncation) if state.seed is not None \
        else state.ws_tensor(model.device)
    new = resample_ws(ws, spec, model.ws_from_seed(donor, state.truncation))
    return replace(state, seed=None, ws=new[0].cpu().tolist()).validate()
