"""Moves side by side: the same seeds and the same heatmap moves on two SpatialGAN models.

    python bench/follow_figure.py --models runs/follow/w1/milestones/minutes-40,rooms \
        --labels "follow,before" --out bench/results/follow_moves.png

Per seed: the largest active object centre is moved by ``--shift`` pixels towards the image
centre's side with more room. One row per seed; per model the original, then the moved image,
the moved centre marked (red: before, green: after).
"""
from __future__ import annotations

import argparse

import torch
from PIL import Image, ImageDraw

from steergan.methods.spatial.edits import apply_ops, state_from_seed
from steergan.methods.state import render_state
from steergan.models import load_model, to_uint8

SCALE = 3


def _picture(model, state, marks) -> Image.Image:
    with torch.no_grad():
        a = to_uint8(render_state(model, state))[0].permute(1, 2, 0).numpy()
    im = Image.fromarray(a).resize((a.shape[1] * SCALE, a.shape[0] * SCALE), Image.NEAREST)
    d = ImageDraw.Draw(im)
    for (x, y), colour in marks:
        px, py = (x + 1) / 2 * im.width, (y + 1) / 2 * im.height
        d.ellipse([px - 4, py - 4, px + 4, py + 4], outline=colour, width=2)
    return im


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", required=True, help="two or more comma-separated models")
    ap.add_argument("--labels", default=None)
    ap.add_argument("--seeds", default="3,8,12,21")
    ap.add_argument("--shift", type=float, default=14.0, help="pixels")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    models = [load_model(m) for m in a.models.split(",")]
    labels = a.labels.split(",") if a.labels else a.models.split(",")
    seeds = [int(s) for s in a.seeds.split(",")]
    tiles = []
    for seed in seeds:
        for model in models:
            st = state_from_seed(model, seed, 1.0, "const", model_id=model.source)
            hm = st.heatmaps
            active = [i for i in hm.level_indices(0) if bool(hm.active[0, i])]
            i = max(active, key=lambda k: float(hm.sigmas[0, k]))
            x, y = hm.centres[0, i].tolist()
            dx = (-1 if x > 0 else 1) * a.shift * 2 / model.resolution
            moved = apply_ops(st, [{"op": "move", "index": i, "delta": [dx, 0.0]}])
            tiles.append((_picture(model, st, [((x, y), (255, 0, 0))]),
                          _picture(model, moved, [((x + dx, y), (0, 255, 0))])))
    w, h = tiles[0][0].size
    k = len(models)
    sheet = Image.new("RGB", (k * (2 * w + 12), 14 + len(seeds) * (h + 4)), (255, 255, 255))
    d = ImageDraw.Draw(sheet)
    for j, label in enumerate(labels):
        d.text((j * (2 * w + 12) + 4, 1), f"{label}: original | moved", fill=(0, 0, 0))
    for r, (before, after) in enumerate(tiles):
        x, y = (r % k) * (2 * w + 12), 14 + (r // k) * (h + 4)
        sheet.paste(before, (x, y))
        sheet.paste(after, (x + w + 2, y))
    sheet.save(a.out)
    print(a.out)


if __name__ == "__main__":
    main()
