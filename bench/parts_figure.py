"""Parts that follow their heatmaps: for a few seeds, the original, one ear's centre moved, one
eye's centre moved, the mouth's centre moved (level-1 / level-2 centres alone).

    python bench/parts_figure.py --model creatures --seeds 1,2,3,4 --out bench/results/parts_moves.png
"""
from __future__ import annotations

import argparse

from steergan.edit.overlay import heatmap_overlay
from steergan.methods.spatial.edits import apply_ops, state_from_seed
from steergan.methods.state import render_state
from steergan.models import load_model
from steergan.visual import sheet, tile

MOVES = (("ear (centre 1) up-left", 1, [-0.25, -0.15]), ("eye (centre 3) left", 3, [-0.25, 0.0]),
         ("mouth (centre 5) down", 5, [0.0, 0.2]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="creatures")
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--out", default="bench/results/parts_moves.png")
    a = ap.parse_args()
    m = load_model(a.model)
    rows = []
    for seed in (int(s) for s in a.seeds.split(",")):
        s = state_from_seed(m, seed)
        cols = [("heatmaps", heatmap_overlay(render_state(m, s)[0], s.heatmaps, scale=4)),
                ("original", tile(render_state(m, s), 4))]
        for title, i, d in MOVES:
            moved = apply_ops(s, [{"op": "move", "index": i, "delta": d, "with_descendants": False}], m)
            cols.append((title, tile(render_state(m, moved), 4)))
        rows.append((f"seed {seed}", cols))
    sheet(rows).save(a.out)
    print(a.out)


if __name__ == "__main__":
    main()
