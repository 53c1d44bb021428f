"""Does an edit state fit a model? Used by the CLI (``--state``) and the editor alike, so a
state that one of them accepts never fails in the other."""
from __future__ import annotations

import torch

from ..errors import UserError
from ..methods.state import EditState

MAX_SEED = 2 ** 32


def check_seed(seed, what: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < MAX_SEED:
        raise UserError(f"{what} must be an integer between 0 and 2^32-1, got {seed!r}")
    return seed


def ws_rows(model, ws) -> list[list[float]]:
    """A client latent as W+ rows [num_ws][w_dim]; one w [w_dim] is repeated on every row."""
    G = model.G
    try:
        t = torch.tensor(ws, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        raise UserError("latent must be a list of numbers: W+ [num_ws][w_dim] or one w [w_dim]") from None
    if t.ndim == 1 and t.shape[0] == G.cfg.w_dim:
        t = t[None].expand(G.num_ws, -1)
    if tuple(t.shape) != (G.num_ws, G.cfg.w_dim):
        raise UserError(f"latent has shape {list(t.shape)}; this model needs W+ [{G.num_ws}, {G.cfg.w_dim}] "
                        f"or one w [{G.cfg.w_dim}]")
    if not bool(torch.isfinite(t).all()):
        raise UserError("latent values must be finite")
    return t.tolist()


def check_state_fits(model, state: EditState) -> EditState:
    """``state`` renders on ``model`` without surprises, or a UserError says why not."""
    state.validate()
    if state.seed is not None:
        check_seed(state.seed)
    if state.ws is not None:
        ws_rows(model, state.ws)
    has_heatmaps = model.method.has_heatmaps
    hm = state.heatmaps
    if has_heatmaps and hm is None:
        raise UserError(f"{model.method.name} models need heatmaps in the edit state")
    if not has_heatmaps and hm is not None:
        raise UserError(f"{model.method.name} models have no heatmaps; this edit state carries some")
    if hm is not None:
        ref = model.control_from_seed(0)
        if (hm.kind, hm.levels, hm.parents) != (ref.kind, ref.levels, ref.parents):
            raise UserError(f"edit state heatmaps ({hm.kind}, {hm.num_centres} centres) do not match the "
                            f"model's ({ref.kind}, {ref.num_centres} centres)")
        for name, t in (("centres", hm.centres), ("sigmas", hm.sigmas)):
            if not t.is_floating_point() or not bool(torch.isfinite(t).all()):
                raise UserError(f"edit state heatmap {name} must be finite floating-point numbers")
        if not bool((hm.sigmas > 0).all()):
            raise UserError("edit state heatmap sigmas must be positive")
        if hm.styles is not None:
            if not hm.styles.is_floating_point() or hm.styles.shape[-1] != model.G.cfg.w_dim:
                raise UserError(f"edit state style codes must be floats of size {model.G.cfg.w_dim}")
            if bool(torch.isinf(hm.styles).any()):
                raise UserError("edit state style codes must be finite")
    return state
