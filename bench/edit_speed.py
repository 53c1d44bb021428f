"""Latency of one heatmap edit -> new image (what the editor feels while dragging a centre).

    python bench/edit_speed.py --model rooms [--n 200] [--json out.json]
"""
from __future__ import annotations

import argparse
import time

import torch

from _timing import percentile_ms, report
from steergan.methods.state import render_state
from steergan.methods.spatial.edits import apply_ops, state_from_seed
from steergan.models import load_model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    m = load_model(args.model)
    state = state_from_seed(m, 0)
    render_state(m, state)                                  # warm-up
    times = []
    with torch.inference_mode():
        for i in range(args.n):
            dx = 0.4 * torch.sin(torch.tensor(i / 10.0)).item()
            t0 = time.perf_counter()
            edited = apply_ops(state, [{"op": "set_centre", "index": 0, "xy": [dx, 0.1]}], m)
            render_state(m, edited)
            times.append(time.perf_counter() - t0)
    report({"model": m.source, "n": args.n, "threads": torch.get_num_threads(),
            "p50_ms": percentile_ms(times, 0.5), "p95_ms": percentile_ms(times, 0.95)}, args.json)


if __name__ == "__main__":
    main()
