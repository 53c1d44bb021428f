"""What PTI's locality weight costs and buys: reconstruction PSNR against how far latents the tuning
never saw drift from what the untouched generator drew for them.

    python bench/pti_locality.py --model creatures --kind creatures --n 4 --weights 0,0.1,1 \
        --json bench/results/pti_locality.json

Held-out renders (seed 5), 50 W+ steps, then 100 PTI steps at each weight. Drift: mean squared
change ([-1, 1] images) on 8 latents half-way from the pivot to random samples of seed 123 (the
tuning holds 4 others, seed 0).
"""
from __future__ import annotations

import argparse
import statistics

import torch

from _timing import report
from pti_ablation import drift
from steergan.cli.invert import segmenter_instances
from steergan.data.scenes import render
from steergan.edit.invert import as_target, initial_heatmaps, pivotal_tune, project, psnr
from steergan.models import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="creatures")
    ap.add_argument("--kind", default="creatures")
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--weights", default="0,0.1,1")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    m = load_model(a.model)
    targets = [torch.from_numpy(render(a.kind, i, m.resolution, seed=5).image).permute(2, 0, 1) for i in range(a.n)]
    pivots = [project(m, t, steps=50, heatmaps=initial_heatmaps(m, segmenter_instances(m, t))
                      if m.method.has_heatmaps else None) for t in targets]
    rows = {}
    for weight in (float(w) for w in a.weights.split(",")):
        scores, drifts = [], []
        for p, t in zip(pivots, targets):
            G = pivotal_tune(m, p.ws, p.control, t, locality=weight)
            with torch.no_grad():
                c = None if p.control is None else p.control.to(m.device)
                scores.append(psnr(G.synthesis(p.ws, c, noise_mode="const"), as_target(t, m.resolution)))
            drifts.append(drift(m, G, p.ws, p.control))
        rows[f"{weight:g}"] = {"psnr_mean": round(statistics.fmean(scores), 3),
                               "drift_mean": round(statistics.fmean(drifts), 5)}
        print(weight, rows[f"{weight:g}"], flush=True)
    report({"model": m.source, "n": a.n, "pivot_steps": 50, "pti_steps": 100, "weights": rows}, a.json)


if __name__ == "__main__":
    main()
