"""The default recipe on data no default was tuned on: does it collapse?

Issue 14's failure case: on a folder of grey-wall scenes with one to three saturated red,
green and blue objects, the projected-D recipe first drew one blob in every colour, then empty
rooms (objects in ~1% of images against all of them in the data). This scores each milestone
of a run on ``steergan data make blocks`` data with figures that need no trained network:

- ``object_share``: images with at least ``--min-pixels`` saturated pixels (HSV saturation
  > 0.5, value > 0.25; the walls and floors are grey, so only objects count);
- ``colour_shares``: of those, the share whose saturated pixels are mostly red / green / blue
  (a model drawing "one blob in every colour" keeps these but loses the shapes; an empty-room
  collapse loses ``object_share``);
- ``saturated_area``: mean share of saturated pixels per image;

next to the same figures on real images, plus precision and recall (Kynkäänniemi et al. 2019,
k = 3) on the evaluation judge's features and fd_effnet, and a 32-sample grid per milestone.

    steergan data make blocks --out data/blocks64 -n 4000
    OMP_NUM_THREADS=1 steergan train --data data/blocks64 --out runs/validate/blocks \
        --discriminator projected --batch 32 --init-from none --clock cpu --minutes 20 --kimg 100000 --milestones 10,20
    python bench/unseen_check.py --run runs/validate/blocks --data data/blocks64 \
        --json bench/results/unseen_blocks.json --figure bench/results/unseen_blocks.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from _timing import report
from time_to_quality import features, generate, milestones, minutes_of, stack_grids
from steergan.data import ImageDataset
from steergan.metrics import fake_stats, fd, get_extractor, real_stats
from steergan.models import load_model
from steergan.train.diversity import precision_recall
from steergan.visual import image_grid


def saturated(images: torch.Tensor) -> torch.Tensor:
    """bool [N, H, W]: saturated, not dark pixels of uint8 [N, 3, H, W] images."""
    x = images.float() / 255
    mx, mn = x.max(1).values, x.min(1).values
    return ((mx - mn) / mx.clamp(min=1e-6) > 0.5) & (mx > 0.25)


def object_figures(images: torch.Tensor, min_pixels: int) -> dict:
    sat = saturated(images)
    counts = sat.flatten(1).sum(1)
    has = counts >= min_pixels
    # which primary dominates each image's saturated pixels
    dom = (images.float() * sat[:, None]).sum((2, 3)).argmax(1)
    shares = {c: round(float(((dom == i) & has).sum()) / max(int(has.sum()), 1), 3)
              for i, c in enumerate(("red", "green", "blue"))}
    return {"object_share": round(float(has.float().mean()), 3), "colour_shares": shares,
            "saturated_area": round(float(counts.float().mean()) / sat[0].numel(), 4)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--min-pixels", type=int, default=10)
    ap.add_argument("--grids", default="runs/validate/grids")
    ap.add_argument("--no-effnet", action="store_true", help="skip fd_effnet (slow on a CPU)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--figure", default=None)
    args = ap.parse_args()
    data = ImageDataset(args.data, resolution=64)
    real = data.images[:args.n]
    judge = get_extractor("fd_judge")
    effnet = None if args.no_effnet else get_extractor("fd_effnet")
    real_feats = features(judge, real)
    real_eff = None if effnet is None else real_stats(data, effnet, n=args.n)
    result = {"n": args.n, "real": object_figures(real, args.min_pixels), "rows": []}
    print("real:", result["real"], flush=True)
    grids = Path(args.grids)
    grids.mkdir(parents=True, exist_ok=True)
    items = []
    for snap in milestones(args.run):
        model = load_model(str(snap))
        fakes = generate(model, args.n)
        precision, recall = precision_recall(real_feats, features(judge, fakes), k=3)
        kimg = json.loads((snap / "config.json").read_text())["images_seen"] / 1000
        row = {"minutes": minutes_of(snap), "kimg": round(kimg, 1), **object_figures(fakes, args.min_pixels),
               "precision": round(precision, 3), "recall": round(recall, 3)}
        if effnet is not None:
            row["fd_effnet"] = round(fd(real_eff, fake_stats(lambda b, s: fakes[s:s + b], effnet, n=args.n)), 1)
        grid = grids / f"{Path(args.run).name}_{snap.name}.png"
        image_grid(model.generate(range(32)).float() / 127.5 - 1, nrow=8).save(grid)
        items.append((f"{row['minutes']:g} min", str(grid)))
        result["rows"].append(row)
        print(row, flush=True)
    if args.figure:
        stack_grids(items, args.figure)
    report(result, args.json)


if __name__ == "__main__":
    main()
