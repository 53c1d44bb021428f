"""Train the evaluation-only judge (``steergan/metrics/judge.py``) and measure its floors.

    python bench/train_judge.py --minutes 8 --out steergan/assets/judge.safetensors \
        --json bench/results/judge.json

Floors: fd_judge between two independent sets of real renders (n each), per scene kind,
using the datasets' own seeds (0 = training sets, 1 = hold-out), which the judge never saw.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from _timing import report
from steergan.data.scenes import render
from steergan.metrics.frechet import FrechetStats, frechet_distance
from steergan.metrics.judge import JudgeExtractor, KINDS, save_judge, train_judge


def renders(kind: str, n: int, seed: int) -> torch.Tensor:
    return torch.from_numpy(np.stack([render(kind, i, 64, seed).image.transpose(2, 0, 1) for i in range(n)]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--renders", type=int, default=3000, help="renders per scene kind")
    ap.add_argument("--out", default="steergan/assets/judge.safetensors")
    ap.add_argument("--n", type=int, default=1000, help="images per side of each floor")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    net, meta = train_judge(n_per_kind=a.renders, steps=100_000, time_limit=a.minutes * 60)
    save_judge(net, meta, a.out)
    judge = JudgeExtractor(a.out)
    stats = {(kind, seed): FrechetStats().update(judge(renders(kind, a.n, seed))) for kind in KINDS for seed in (0, 1)}
    floors = {kind: round(frechet_distance(*stats[kind, 0].mean_cov(), *stats[kind, 1].mean_cov()), 4) for kind in KINDS}
    floors["rooms_vs_creatures (not a floor: a sanity check)"] = round(
        frechet_distance(*stats["rooms", 0].mean_cov(), *stats["creatures", 1].mean_cov()), 4)
    report({"judge": a.out, "trained": meta["trained"], "n": a.n, "floor_real_vs_real": floors}, a.json)


if __name__ == "__main__":
    main()
