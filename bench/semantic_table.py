"""SemanticStyleGAN models side by side: do the masks agree with the images (mIoU, read by the
evaluation-only segmenter and by the bundled one the ``consistency`` aid trains against), and
are the texture codes alive and local (texture swap: change inside the class, outside / inside)?
Also a grid of 16 seeds per model, one row each.

    python bench/semantic_table.py --models semantic,runs/semantic2/proj-cons-ts --n 500 \
        --json bench/results/semantic_aids.json
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from _timing import report
from steergan.metrics.segmenter import SceneSegmenter
from steergan.metrics.semantic import mask_image_miou, texture_swap_locality
from steergan.models import load_model
from steergan.visual import image_grid

RESULTS = Path(__file__).resolve().parent / "results"
EVAL_SEGMENTER = str(RESULTS / "eval_segmenter_rooms.safetensors")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True, help="comma-separated bundled names, files or run dirs")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--eval-segmenter", default=EVAL_SEGMENTER)
    ap.add_argument("--grid", default=str(RESULTS / "semantic_aids_grid.png"))
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    judges = {"eval_segmenter": SceneSegmenter.load(a.eval_segmenter), "bundled_segmenter": SceneSegmenter.load("rooms")}
    rows, grids = [], []
    for name in a.models.split(","):
        m = load_model(name)
        row = {"model": name}
        for key, seg in judges.items():
            r = mask_image_miou(m, seg, a.n)
            row[f"miou_{key}"] = round(r["miou"], 4)
            row[f"iou_{key}"] = r["iou"]
        swap = texture_swap_locality(m, a.n)
        row.update(texture_inside=swap["inside"], texture_outside=swap["outside"], texture_ratio=round(swap["ratio"], 4))
        rows.append(row)
        print(row, flush=True)
        with torch.no_grad():
            grids.append(m.synthesize(torch.cat([m.ws_from_seed(s) for s in range(16)])))
    Path(a.grid).parent.mkdir(parents=True, exist_ok=True)
    image_grid(torch.cat(grids), nrow=16).save(a.grid)
    report({"n": a.n, "eval_segmenter": a.eval_segmenter, "grid": a.grid, "rows": rows}, a.json)


if __name__ == "__main__":
    main()
