"""The editing showcase of ``steergan demo``: moves, removals, restyles, fixed layouts.

Each row is one seed: the original with its heatmaps, then one edit per column. Edits go
through the same ``EditState`` / op path as ``steergan edit`` and the editor.
"""
from __future__ import annotations

from dataclasses import replace

from ..methods.state import render_state
from ..methods.spatial.edits import apply_ops, state_from_seed
from ..visual import tile
from .overlay import heatmap_overlay


def edit_rows(model, seeds, scale: int = 3):
    """[(title, [PIL images])] columns: heatmaps, original, move, remove, restyle, new latent."""
    caps = model.capabilities
    rows = []
    for seed in seeds:
        s = state_from_seed(model, seed)
        x = s.heatmaps.centres[0, 0, 0].item()
        step = 0.5 if x < 0 else -0.5                          # move towards the other side
        cols = [("heatmaps", heatmap_overlay(render_state(model, s)[0], s.heatmaps, scale=scale)),
                ("original", tile(render_state(model, s), scale)),
                ("move object 0", tile(render_state(model, apply_ops(s, [
                    {"op": "move", "index": 0, "delta": [step, 0.0]}], model)), scale))]
        active = [i for i in range(s.heatmaps.num_centres) if bool(s.heatmaps.active[0, i])]
        if "heatmap_remove" in caps and len(active) > 1:      # the last object that is there
            cols.append(("remove an object", tile(render_state(model, apply_ops(
                s, [{"op": "remove", "index": active[-1]}], model)), scale)))
        else:
            cols.append(("shrink sigma 0", tile(render_state(model, apply_ops(
                s, [{"op": "set_sigma", "index": 0, "sigma": 0.05}], model)), scale)))
        if "heatmap_style" in caps:
            cols.append(("restyle object 0", tile(render_state(model, apply_ops(
                s, [{"op": "set_style", "index": 0, "seed": seed + 1000}], model)), scale)))
        cols.append(("same layout, new latent", tile(render_state(model, replace(s, seed=seed + 5000)), scale)))
        rows.append((f"seed {seed}", cols))
    return rows
