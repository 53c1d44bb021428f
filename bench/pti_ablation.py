"""What PTI's options buy: reconstruction PSNR (the curve every 10 steps), seconds per step and
drift of latents the tuning never saw, per variant, on the same held-out images and pivots.

    python bench/pti_ablation.py --model rooms --n 5 \
        --variants "before:tune_from=4,rampdown=0.25;now:" --json bench/results/pti_ablation_rooms.json

Held-out renders (seed 5; the bundled models trained on seed 0), 50 W+ steps or ``--encoder``'s
guess (computed once and shared by every variant), then ``--steps`` PTI steps per variant. A variant is ``name:key=value,...``
over ``pivotal_tune``'s options (``lr``, ``locality``, ``rampdown``, ``tune_from``, ``pivot_lr``, ``locality_every``); an empty list
is today's defaults. Drift: mean squared change ([-1, 1] images) on 8 latents half-way from the
pivot to random samples of seed 123 (the tuning holds 4 others, seed 0). Seconds per step are the
median over the run's steps; they read the machine as it was, so compare variants of one run.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from _timing import report
from steergan.cli.invert import segmenter_instances
from steergan.data.scenes import render
from steergan.edit.invert import PivotalTuner, as_target, initial_heatmaps, project, psnr
from steergan.models import load_model

OPTIONS = {"lr": float, "locality": float, "rampdown": float, "tune_from": int, "pivot_lr": float,
           "locality_every": int}


def parse_variants(text: str) -> dict[str, dict]:
    out = {}
    for item in filter(None, (v.strip() for v in text.split(";"))):
        name, _, opts = item.partition(":")
        kw = {}
        for pair in filter(None, opts.split(",")):
            key, _, value = pair.partition("=")
            if key not in OPTIONS:
                raise SystemExit(f"error: unknown PTI option {key!r}; choose from {', '.join(OPTIONS)}")
            kw[key] = OPTIONS[key](value)
        out[name] = kw
    return out


@torch.no_grad()
def drift(model, G, ws, control, n: int = 8, seed: int = 123) -> float:
    """Mean squared change G vs the untouched model.G on ``n`` latents half-way from ``ws`` to
    random samples of ``seed``."""
    z = torch.randn(n, model.G.cfg.z_dim, generator=torch.Generator().manual_seed(seed)).to(model.device)
    near = ws + 0.5 * (model.G.mapping_ws(z) - ws)
    c = None if control is None else control.to(model.device)
    cc = None if c is None else c.collate([c] * n)
    return (G.synthesis(near, cc, noise_mode="const") - model.G.synthesis(near, cc, noise_mode="const")
            ).square().mean().item()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--kind", default="rooms")
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--variants", default="now:")
    ap.add_argument("--encoder", default=None, help="pivots from this encoder (encode_start) instead of W+ steps")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    variants = parse_variants(a.variants)
    m = load_model(a.model)
    targets = [torch.from_numpy(render(a.kind, i, m.resolution, seed=5).image).permute(2, 0, 1) for i in range(a.n)]
    starts = [initial_heatmaps(m, segmenter_instances(m, t)) if m.method.has_heatmaps else None for t in targets]
    if a.encoder:
        from steergan.edit.encoder import encode_start, load_encoder
        enc = load_encoder(a.encoder, m)
        pivots = [project(m, t, steps=0, init_ws=ws, heatmaps=hm)
                  for t, (ws, hm) in ((t, encode_start(enc, t, h, m.G)) for t, h in zip(targets, starts))]
    else:
        pivots = [project(m, t, steps=50, heatmaps=h) for t, h in zip(targets, starts)]
    rows = {}
    for name, kw in variants.items():
        scores, drifts, secs, curves = [], [], [], []
        for p, t in zip(pivots, targets):
            tuner = PivotalTuner(m, p.ws, p.control, t, steps=a.steps, **kw)
            while not tuner.done:
                t0 = time.perf_counter()
                tuner.step()
                secs.append(time.perf_counter() - t0)
            G, ws = tuner.result(), tuner.ws.detach()      # the pivot moves with pivot_lr > 0
            c = None if p.control is None else p.control.to(m.device)
            with torch.no_grad():
                scores.append(psnr(G.synthesis(ws, c, noise_mode="const"), as_target(t, m.resolution)))
            drifts.append(drift(m, G, ws, p.control))
            curves.append([h["psnr"] for h in tuner.history[9::10]])
        rows[name] = {"options": kw, "psnr_mean": round(statistics.fmean(scores), 3),
                      "psnr_per_image": [round(s, 2) for s in scores],
                      "psnr_every_10_steps": [round(statistics.fmean(c[k] for c in curves), 2)
                                              for k in range(min(map(len, curves)))],
                      "drift_mean": round(statistics.fmean(drifts), 5),
                      "seconds_per_step_median": round(statistics.median(secs), 4)}
        print(name, rows[name], flush=True)
    report({"model": m.source, "n": a.n, "pivots": f"encoder {a.encoder}" if a.encoder else "50 W+ steps",
            "pti_steps": a.steps,
            "images": f"{a.kind} renders 0..{a.n - 1} of seed 5", "variants": rows}, a.json)


if __name__ == "__main__":
    main()
