"""Models side by side: the same 32 seeds (const noise) of each, one labelled grid per model.

    python bench/grids_figure.py --models rooms,runs/s12/objplanes/milestones/minutes-20 \
        --labels "bundled,20 min" --out bench/results/dplanes_grids.png
"""
from __future__ import annotations

import argparse

from PIL import Image, ImageDraw

from steergan.models import load_model
from steergan.visual import image_grid


def model_grid(source: str, seeds: int = 32):
    """A PIL grid of ``source``'s first ``seeds`` seeds, 8 to a row."""
    return image_grid(load_model(source).generate(range(seeds)).float() / 127.5 - 1, nrow=8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", required=True, help="comma-separated bundled names, files or checkpoints")
    ap.add_argument("--labels", default=None, help="comma-separated captions (default: the model names)")
    ap.add_argument("--seeds", type=int, default=32)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    models = a.models.split(",")
    labels = a.labels.split(",") if a.labels else models
    if len(labels) != len(models):
        ap.error("--labels needs one caption per model")
    grids = [model_grid(m, a.seeds) for m in models]
    w, h = grids[0].size
    gap, top = 8, 14
    sheet = Image.new("RGB", (len(grids) * (w + gap) - gap, h + top), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (g, label) in enumerate(zip(grids, labels)):
        sheet.paste(g, (i * (w + gap), top))
        draw.text((i * (w + gap) + 2, 1), label, fill="black")
    sheet.save(a.out)
    print(a.out)


if __name__ == "__main__":
    main()
