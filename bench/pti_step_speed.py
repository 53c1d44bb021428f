"""What rendering PTI's frozen blocks once saves: seconds per PTI step with the cache and without it
(``PivotalTuner._heads`` set to None), the two tuners stepped in turn in one process so that both
see the same machine load, and how far their images drift apart.

    python bench/pti_step_speed.py --model rooms --rounds 8 --json bench/results/pti_step_speed.json
"""
from __future__ import annotations

import argparse
import time

import torch

from _timing import report
from steergan.edit.invert import PivotalTuner
from steergan.models import load_model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--rounds", type=int, default=8, help="rounds of 10 steps per tuner")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    m = load_model(a.model)
    with torch.no_grad():                   # a target the model can draw: seed 3's image from another w
        control = m.control_from_seed(3)
        target = m.synthesize(m.ws_from_seed(4), control)[0]
    ws = m.G.mapping.w_avg[None, None].repeat(1, m.G.num_ws, 1)
    tuners = {"cached": PivotalTuner(m, ws, control, target, steps=10 * a.rounds + 10),
              "uncached": PivotalTuner(m, ws, control, target, steps=10 * a.rounds + 10)}
    tuners["uncached"]._heads = None        # every step renders every block
    seconds = dict.fromkeys(tuners, 0.0)
    for t in tuners.values():               # warm-up
        t.step()
    for _ in range(a.rounds):
        for name, t in tuners.items():
            t0 = time.perf_counter()
            for _ in range(10):
                t.step()
            seconds[name] += time.perf_counter() - t0
    ms = {k: round(1000 * v / (10 * a.rounds), 2) for k, v in seconds.items()}
    with torch.no_grad():
        diff = float((tuners["cached"]._render([0]) - tuners["uncached"]._render([0])).abs().max())
    report({"model": a.model, "steps_per_tuner": 10 * a.rounds, "ms_per_step": ms,
            "saving": round(1 - ms["cached"] / ms["uncached"], 3), "max_image_difference": diff}, a.json)


if __name__ == "__main__":
    main()
