"""The README's "edit your own image" figure: a held-out room (rooms) and a real emoji (emoji),
each inverted (W+, 100 steps, heatmaps from the model's segmenter) and edited four ways.

    python bench/invert_figure.py --out bench/results/invert_edits.png

Columns: input | reconstruction | object 0 moved | removed (rooms) or shrunk (emoji) |
restyled (rooms) or enlarged (emoji) | a hybrid drag of object 0's centre 1/8 of the image right.
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch

from steergan.data.folder import read_square
from steergan.data.scenes import render
from steergan.edit.drag import DragOptions, DragSession
from steergan.edit.invert import initial_heatmaps, inversion_state, project
from steergan.methods.spatial.edits import apply_ops
from steergan.methods.state import render_state
from steergan.models import load_model
from steergan.metrics.segmenter import model_instances as segmenter_instances
from steergan.visual import sheet, tile

SCALE = 4


def row(model_name: str, image: torch.Tensor, title: str):
    m = load_model(model_name)
    hm = initial_heatmaps(m, segmenter_instances(m, image))
    p = project(m, image, steps=100, heatmaps=hm)
    s = inversion_state(m.source, p.ws, p.control)
    active = [i for i in range(s.heatmaps.num_centres) if bool(s.heatmaps.active[0, i])]
    i = active[0]
    x = float(s.heatmaps.centres[0, i, 0])
    cols = [("input", tile(image.float()[None] / 127.5 - 1, SCALE)), ("reconstruction", tile(render_state(m, s), SCALE)),
            ("move", tile(render_state(m, apply_ops(s, [{"op": "move", "index": i, "delta": [0.4 if x < 0 else -0.4, 0]}], m)), SCALE))]
    sigma = float(s.heatmaps.sigmas[0, i])
    if "heatmap_remove" in m.capabilities:
        cols.append(("remove", tile(render_state(m, apply_ops(s, [{"op": "remove", "index": i}], m)), SCALE)))
    else:
        cols.append(("shrink", tile(render_state(m, apply_ops(s, [{"op": "set_sigma", "index": i, "sigma": sigma * 0.6}], m)), SCALE)))
    if "heatmap_style" in m.capabilities:
        cols.append(("restyle", tile(render_state(m, apply_ops(s, [{"op": "set_style", "index": i, "seed": 7}], m)), SCALE)))
    else:
        cols.append(("enlarge", tile(render_state(m, apply_ops(s, [{"op": "set_sigma", "index": i, "sigma": sigma * 1.4}], m)), SCALE)))
    R = m.resolution
    h = ((s.heatmaps.centres[0, i] + 1) / 2 * R - 0.5).tolist()
    t = [min(R - 1, h[0] + R / 8), h[1]]
    d = DragSession(m, s, [h], [t], options=replace(DragOptions(), mode="hybrid"))
    d.run()
    cols.append(("drag", tile(d.image().float()[None] / 127.5 - 1, SCALE)))
    return (title, cols)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="bench/results/invert_edits.png")
    ap.add_argument("--emoji", default="data/emoji-faces-random/images/00001230.png",
                    help="a real emoji image (from `steergan data emoji`)")
    a = ap.parse_args()
    room = torch.from_numpy(np.ascontiguousarray(render("rooms", 1, 64, 5).image.transpose(2, 0, 1)))
    rows = [row("rooms", room, "held-out room"), row("emoji", read_square(a.emoji, 64), "real emoji")]
    sheet(rows).save(a.out)
    print(a.out)


if __name__ == "__main__":
    main()
