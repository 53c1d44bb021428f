"""Locality of SpatialGAN's per-object restyle (Fig. 9c): give one sub-heatmap a new style
code and measure the masked MSE inside and outside that object's heatmap footprint.

The footprint is where the object's Gaussian H_i is at least ``footprint`` of its peak (0.1:
about 2.1 sigma from the centre), in the original image. This is the SpatialGAN row of the
three-method locality table; LinkGAN's region is its link's, SemanticStyleGAN's the class mask.
"""
from __future__ import annotations

from ..errors import UserError
from ..methods.state import render_state
from ..methods.spatial.edits import apply_ops, state_from_seed
from .locality import LocalityAccumulator


def restyle_locality(model, n: int = 200, seed: int = 0, footprint: float = 0.1, start_states=None) -> dict:
    """``start_states``: edit states to restyle instead of seeds' (e.g. inverted images; n = their count)."""
    if "heatmap_style" not in model.capabilities:
        raise UserError(f"{model.source} cannot restyle objects (needs per-object style codes: "
                        "a SpatialGAN multi-object model with SEL_indoor)")
    if start_states is not None:
        n = len(start_states)
    if n < 1:
        raise UserError("--n must be at least 1")
    acc = LocalityAccumulator()
    R = model.resolution
    for i in range(n):
        s = state_from_seed(model, seed + i) if start_states is None else start_states[i]
        active = s.heatmaps.active[0].nonzero().flatten().tolist()
        if not active:
            continue                                   # nothing to restyle in this sample
        k = active[i % len(active)]                    # an object that is there
        edited = apply_ops(s, [{"op": "set_style", "index": k, "seed": 1_000_000 + seed + i}], model)
        h = s.heatmaps.render(R, mode="point", indices=[k])[0, 0]
        mask = (h >= footprint * h.max().clamp_min(1e-12))[None]
        acc.add(render_state(model, s), render_state(model, edited), mask)
    return {**acc.result(), "n": n, "footprint": footprint}
