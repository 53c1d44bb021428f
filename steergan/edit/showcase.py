"""The editing showcase of ``steergan demo``: moves, removals, restyles, fixed layouts.

Each row is one seed: the original with its heatmaps, then one edit per column. Edits go
through the same ``EditState`` / op path as ``steergan edit`` and the editor.
"""
from __future__ import annotations

from dataclasses import replace

import torch
from PIL import Image

from ..methods.spatial.edits import apply_ops, render_state, state_from_seed
from .overlay import heatmap_overlay


def _tile(img: torch.Tensor, scale: int) -> Image.Image:
    arr = ((img[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    im = Image.fromarray(arr)
    return im.resize((im.width * scale, im.height * scale), Image.NEAREST)


def edit_rows(model, seeds, scale: int = 3):
    """[(title, [PIL images])] columns: heatmaps, original, move, remove, restyle, new latent."""
    caps = model.capabilities
    rows = []
    for seed in seeds:
        s = state_from_seed(model, seed)
        x = s.heatmaps.centres[0, 0, 0].item()
        step = 0.5 if x < 0 else -0.5                          # move towards the other side
        cols = [("heatmaps", heatmap_overlay(render_state(model, s)[0], s.heatmaps, scale=scale)),
                ("original", _tile(render_state(model, s), scale)),
                ("move object 0", _tile(render_state(model, apply_ops(s, [
                    {"op": "move", "index": 0, "delta": [step, 0.0]}], model)), scale))]
        active = [i for i in range(s.heatmaps.num_centres) if bool(s.heatmaps.active[0, i])]
        if "heatmap_remove" in caps and len(active) > 1:      # the last object that is there
            cols.append(("remove an object", _tile(render_state(model, apply_ops(
                s, [{"op": "remove", "index": active[-1]}], model)), scale)))
        else:
            cols.append(("shrink sigma 0", _tile(render_state(model, apply_ops(
                s, [{"op": "set_sigma", "index": 0, "sigma": 0.05}], model)), scale)))
        if "heatmap_style" in caps:
            cols.append(("restyle object 0", _tile(render_state(model, apply_ops(
                s, [{"op": "set_style", "index": 0, "seed": seed + 1000}], model)), scale)))
        cols.append(("same layout, new latent", _tile(render_state(model, replace(s, seed=seed + 5000)), scale)))
        rows.append((f"seed {seed}", cols))
    return rows


def sheet(rows, pad: int = 4) -> Image.Image:
    ncol = max(len(c) for _, c in rows)
    w, h = rows[0][1][0][1].size
    out = Image.new("RGB", (ncol * (w + pad) + pad, len(rows) * (h + pad) + pad), (250, 250, 250))
    for r, (_, cols) in enumerate(rows):
        for c, (_, im) in enumerate(cols):
            out.paste(im.resize((w, h), Image.NEAREST), (pad + c * (w + pad), pad + r * (h + pad)))
    return out
