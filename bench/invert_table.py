"""How well `steergan invert` reconstructs held-out images: PSNR, SSIM and seconds per image,
W+ projection alone and W+ followed by pivotal tuning (PTI).

    python bench/invert_table.py --model rooms --n 10 [--steps 100] [--pti-steps 100] \
        [--json bench/results/invert_rooms.json]

Images are rooms renders of seed 5 (the bundled models were trained on seed 0), 64 px.
SSIM is computed here (no torchmetrics / scikit-image in the environment): the usual
Wang et al. 2004 form with an 11-tap Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, on
[0, 1] images, per channel, averaged over valid (unpadded) windows and channels. PSNR and SSIM
are measured on the uint8 reconstruction that ``render_state`` gives for the saved state
(after PTI: the reloaded fp16 generator file). Seconds include the segmenter (SpatialGAN
heatmap initialisation); the first image also pays loading the EfficientNet features.
"""
from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from _timing import report
from steergan.cli.invert import segmenter_instances
from steergan.data.scenes import render
from steergan.edit.invert import (initial_heatmaps, inversion_state, pivotal_tune, project, save_tuned)
from steergan.methods.state import render_state
from steergan.models import load_model, to_uint8


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x.square() / (2 * sigma ** 2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """SSIM of two uint8 images [3, H, W] (see the module docstring)."""
    x, y = (t.double()[:, None] / 255 for t in (a, b))          # channels as a batch
    w = gaussian_window()[None, None]
    mu_x, mu_y = F.conv2d(x, w), F.conv2d(y, w)
    sxx = F.conv2d(x * x, w) - mu_x ** 2
    syy = F.conv2d(y * y, w) - mu_y ** 2
    sxy = F.conv2d(x * y, w) - mu_x * mu_y
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (sxx + syy + c2))
    return float(s.mean())


def psnr_u8(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.double() - b.double()).square().mean().item() / 255 ** 2
    return 10 * math.log10(1 / max(mse, 1e-12))


def summary(rows: list[dict], key: str) -> dict:
    vals = [r[key] for r in rows]
    return {"mean": round(statistics.fmean(vals), 3), "min": round(min(vals), 3), "max": round(max(vals), 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--pti-steps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=5, help="render seed of the held-out images")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--perceptual", type=float, default=None)
    ap.add_argument("--feature-size", type=int, default=None)
    ap.add_argument("--pti-lr", type=float, default=None)
    ap.add_argument("--pti-perceptual", type=float, default=None)
    ap.add_argument("--locality", type=float, default=None)
    ap.add_argument("--fit-centres", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    m = load_model(args.model)
    kw = {k: v for k, v in (("lr", args.lr), ("perceptual", args.perceptual),
                            ("feature_size", args.feature_size)) if v is not None}
    pti_kw = {k: v for k, v in (("lr", args.pti_lr), ("perceptual", args.pti_perceptual),
                                ("feature_size", args.feature_size), ("locality", args.locality)) if v is not None}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n):
            target = torch.from_numpy(render("rooms", i, m.resolution, seed=args.seed).image).permute(2, 0, 1)
            t0 = time.perf_counter()
            hm = initial_heatmaps(m, segmenter_instances(m, target)) if m.method.has_heatmaps else None
            proj = project(m, target, steps=args.steps, heatmaps=hm, fit_centres=args.fit_centres, **kw)
            state = inversion_state(m.source, proj.ws, proj.control)
            w_seconds = time.perf_counter() - t0
            recon = to_uint8(render_state(m, state))[0]
            t1 = time.perf_counter()
            G = pivotal_tune(m, proj.ws, proj.control, target, steps=args.pti_steps, **pti_kw)
            gen = save_tuned(m, G, Path(tmp) / f"g{i}.safetensors")
            pti_seconds = w_seconds + time.perf_counter() - t1
            tuned = load_model(str(gen))
            recon_pti = to_uint8(render_state(tuned, inversion_state(str(gen), proj.ws, proj.control)))[0]
            row = {"image": i, "psnr_w": round(psnr_u8(recon, target), 3), "ssim_w": round(ssim(recon, target), 4),
                   "seconds_w": round(w_seconds, 2), "psnr_pti": round(psnr_u8(recon_pti, target), 3),
                   "ssim_pti": round(ssim(recon_pti, target), 4), "seconds_pti": round(pti_seconds, 2)}
            rows.append(row)
            print(row, flush=True)
    res = {"model": m.source, "images": f"rooms renders {0}..{args.n - 1} of seed {args.seed}, "
                                          f"{m.resolution} px", "n": args.n, "steps": args.steps,
           "pti_steps": args.pti_steps, "options": {**kw, "pti": pti_kw, "fit_centres": args.fit_centres},
           "threads": torch.get_num_threads(),
           "w_plus": {k: summary(rows, f"{k}_w") for k in ("psnr", "ssim", "seconds")},
           "w_plus_pti": {k: summary(rows, f"{k}_pti") for k in ("psnr", "ssim", "seconds")},
           "per_image": rows}
    report(res, args.json)


if __name__ == "__main__":
    main()
