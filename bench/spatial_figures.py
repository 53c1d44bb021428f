"""README figures for SpatialGAN: layout grids and hierarchical moves.

    python bench/spatial_figures.py --model rooms --layout bench/results/rooms_layout.png
    python bench/spatial_figures.py --model creatures --layout bench/results/creatures_layout.png \
        --hier bench/results/creatures_moves.png

* layout grid: each row keeps one heatmap (drawn in the first column) and each column one
  latent, so rows share a layout and columns share an appearance (Fig. 8/9 of the paper);
* hierarchical moves: original, then level 0 moved (its descendants follow), a level-1 centre
  moved alone, a level-2 centre moved alone, level 0 narrowed (smaller object), widened.
"""
from __future__ import annotations

import argparse
from dataclasses import replace

from steergan.edit.overlay import heatmap_overlay
from steergan.visual import sheet, tile
from steergan.methods.state import render_state
from steergan.methods.spatial.edits import apply_ops, state_from_seed
from steergan.models import load_model


def layout_grid(model, layouts, latents, scale=2):
    rows = []
    for h in layouts:
        base = state_from_seed(model, h)
        cols = [("heatmap", heatmap_overlay(render_state(model, base)[0], base.heatmaps, scale=scale))]
        for z in latents:
            s = replace(base, seed=z)                 # the latent changes, the heatmap stays
            cols.append((f"z {z}", tile(render_state(model, s), scale)))
        rows.append((f"layout {h}", cols))
    return sheet(rows)


def hierarchical_moves(model, seeds, scale=3):
    rows = []
    for seed in seeds:
        s = state_from_seed(model, seed)
        hm = s.heatmaps
        x0 = hm.centres[0, 0, 0].item()
        dx = -0.4 if x0 > 0 else 0.4
        lvl1, lvl2 = hm.level_indices(1), hm.level_indices(2)
        sig = hm.sigmas[0, 0].item()
        edits = [("move level 0", [{"op": "move", "index": 0, "delta": [dx, 0.0]}]),
                 ("move one level-1", [{"op": "move", "index": lvl1[0], "delta": [0.0, 0.3],
                                        "with_descendants": False}]),
                 ("move one level-2", [{"op": "move", "index": lvl2[0], "delta": [0.3, 0.0],
                                        "with_descendants": False}]),
                 ("level 0 sigma x0.6", [{"op": "set_sigma", "index": 0, "sigma": sig * 0.6}]),
                 ("level 0 sigma x1.5", [{"op": "set_sigma", "index": 0, "sigma": sig * 1.5}])]
        cols = [("heatmaps", heatmap_overlay(render_state(model, s)[0], hm, scale=scale)),
                ("original", tile(render_state(model, s), scale))]
        for title, ops in edits:
            e = apply_ops(s, ops, model)
            cols.append((title, heatmap_overlay(render_state(model, e)[0], e.heatmaps, scale=scale, alpha=0.0)))
        rows.append((f"seed {seed}", cols))
    return sheet(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--layout", default=None, help="PNG for the layout grid")
    ap.add_argument("--hier", default=None, help="PNG for hierarchical moves (hierarchical models)")
    ap.add_argument("--layouts", default="0,1,2,3")
    ap.add_argument("--latents", default="100,101,102,103,104,105")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    args = ap.parse_args()
    m = load_model(args.model)
    ints = lambda s: [int(v) for v in s.split(",")]  # noqa: E731
    if args.layout:
        layout_grid(m, ints(args.layouts), ints(args.latents)).save(args.layout)
        print("wrote", args.layout)
    if args.hier:
        hierarchical_moves(m, ints(args.seeds)).save(args.hier)
        print("wrote", args.hier)


if __name__ == "__main__":
    main()
