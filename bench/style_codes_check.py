"""How much the per-object style codes matter to a `rooms` inversion: W+ projection with and
without fitting the objects' codes, and from an encoder's W+ with only the codes fitted.

    python bench/style_codes_check.py --encoder runs/encoders/rooms-cont-lw0.1.safetensors --n 6 \
        --json bench/results/invert_style_codes.json

Held-out rooms renders (seed 5), heatmaps from the segmenter (codes start at the mean w), 50 steps
each, PSNR of the last step's render. The encoder's own row is its W+ guess with mean codes.
"""
from __future__ import annotations

import argparse
import statistics

import torch

from _timing import report
from steergan.cli.invert import segmenter_instances
from steergan.data.scenes import render
from steergan.edit.encoder import encode, load_encoder
from steergan.edit.invert import Projector, as_target, initial_heatmaps, psnr
from steergan.models import load_model


def fit(p: Projector) -> float:
    while not p.done:
        p.step()
    return p.history[-1]["psnr"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--encoder", required=True)
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    m = load_model(a.model)
    enc = load_encoder(a.encoder, m)
    rows: dict[str, list] = {"W+ and codes": [], "W+ alone (codes at the mean w)": [],
                             "encoder's W+ (codes at the mean w)": [], "encoder's W+ fixed, codes fitted": []}
    for i in range(a.n):
        target = torch.from_numpy(render("rooms", i, m.resolution, seed=5).image).permute(2, 0, 1)
        hm = initial_heatmaps(m, segmenter_instances(m, target))
        guess = encode(enc, target, m.G, hm)
        rows["W+ and codes"].append(fit(Projector(m, target, steps=a.steps, heatmaps=hm)))
        rows["W+ alone (codes at the mean w)"].append(fit(Projector(m, target, steps=a.steps, heatmaps=hm,
                                                                     fit_styles=False)))
        with torch.no_grad():
            rows["encoder's W+ (codes at the mean w)"].append(
                psnr(m.G.synthesis(guess, hm, noise_mode="const"), as_target(target, m.resolution)))
        rows["encoder's W+ fixed, codes fitted"].append(
            fit(Projector(m, target, steps=a.steps, heatmaps=hm, init_ws=guess, fit_ws=False)))
        print(i, {k: round(v[-1], 2) for k, v in rows.items()}, flush=True)
    report({"model": m.source, "encoder": a.encoder, "n": a.n, "steps": a.steps,
            "images": f"rooms renders 0..{a.n - 1} of seed 5",
            "psnr_mean": {k: round(statistics.fmean(v), 3) for k, v in rows.items()},
            "psnr_per_image": {k: [round(x, 2) for x in v] for k, v in rows.items()}}, a.json)


if __name__ == "__main__":
    main()
