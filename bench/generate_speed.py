"""Inference speed: ms per image at batch 1 (what an editor feels) and images/s at batch 32.

    python bench/generate_speed.py [--model rooms | --preset tiny] [--json out.json]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from _timing import percentile_ms, report
from steergan.models import load_model
from steergan.nn import Generator, get_preset


def timeit(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="bundled model or checkpoint (default: random 'tiny')")
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    if args.model:
        G = load_model(args.model).G
        name = args.model
    else:
        G = Generator(get_preset(args.preset)).eval().requires_grad_(False)
        name = f"random {args.preset}"
    ws1 = G.mapping_ws(torch.randn(1, G.cfg.z_dim))
    ws32 = G.mapping_ws(torch.randn(32, G.cfg.z_dim))
    with torch.inference_mode():
        t1 = timeit(lambda: G.synthesis(ws1, noise_mode="const"), args.reps)
        t32 = timeit(lambda: G.synthesis(ws32, noise_mode="const"), max(5, args.reps // 10))
    res = {"model": name, "resolution": G.resolution, "threads": torch.get_num_threads(),
           "batch1_ms_p50": percentile_ms(t1, 0.5), "batch1_ms_p95": percentile_ms(t1, 0.95),
           "batch32_img_per_s": round(32 / statistics.median(t32), 1)}
    report(res, args.json)


if __name__ == "__main__":
    main()
