"""Do edits of inverted images behave like edits of samples? (issue 19)

    python bench/invert_edits.py --model rooms --n 20 --spaces w+,w --json bench/results/invert_edits_rooms.json

Held-out rooms renders (seed 5; the bundled models trained on seed 0) are inverted with
``edit.invert.project`` (heatmaps from the model's segmenter, 100 steps) in each latent space,
then edited the way the metrics edit samples: the Co-move Ratio (move one heatmap centre that
lies on an object, find the object with the segmenter) and the restyle locality (new style code
for one object, masked change outside / inside its footprint). The same two figures on the
model's own samples (n seeds) make the reference row.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from _timing import report
from steergan.cli.invert import segmenter_instances
from steergan.data.scenes import render
from steergan.edit.invert import initial_heatmaps, inversion_state, project, psnr
from steergan.metrics.comove import co_move_ratio
from steergan.metrics.restyle_locality import restyle_locality
from steergan.metrics.segmenter import load_segmenter
from steergan.models import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--kind", default="rooms", help="scene kind of the held-out renders")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--spaces", default="w+,w")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    m = load_model(a.model)
    seg = load_segmenter(m.method.options().get("segmenter") or a.kind)
    targets = [torch.from_numpy(render(a.kind, i, m.resolution, 5).image.transpose(2, 0, 1).copy())
               for i in range(a.n)]
    rows = {}
    ref = {"co_move": co_move_ratio(m, a.n, seg), "restyle": None}
    if "heatmap_style" in m.capabilities:
        ref["restyle"] = restyle_locality(m, n=a.n)
    rows["samples (reference)"] = {"psnr_mean": None, "co_move_mean": ref["co_move"]["mean"],
                                   "co_move_median": ref["co_move"]["median"], "co_move_valid": ref["co_move"]["n_valid"],
                                   "restyle_ratio": None if ref["restyle"] is None else ref["restyle"]["ratio"]}
    for space in a.spaces.split(","):
        states, scores, t0 = [], [], time.perf_counter()
        for target in targets:
            hm = initial_heatmaps(m, segmenter_instances(m, target)) if m.method.has_heatmaps else None
            p = project(m, target, steps=a.steps, heatmaps=hm, space=space)
            scores.append(psnr(p.image, target.float()[None] / 127.5 - 1))
            states.append(inversion_state(m.source, p.ws, p.control))
        secs = (time.perf_counter() - t0) / len(targets)
        cm = co_move_ratio(m, a.n, seg, start_states=states)
        rs = restyle_locality(m, start_states=states) if "heatmap_style" in m.capabilities else None
        rows[f"inverted, {space}"] = {"psnr_mean": round(statistics.fmean(scores), 2),
                                      "seconds_per_image": round(secs, 2),
                                      "co_move_mean": cm["mean"], "co_move_median": cm["median"],
                                      "co_move_valid": cm["n_valid"],
                                      "restyle_ratio": None if rs is None else rs["ratio"]}
        print(space, rows[f"inverted, {space}"], flush=True)
    report({"model": m.source, "n": a.n, "steps": a.steps, "holdout_seed": 5, "rows": rows}, a.json)


if __name__ == "__main__":
    main()
