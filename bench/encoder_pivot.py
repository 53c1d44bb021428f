"""Is an encoder's guess a good PTI pivot? The same images through four starts, each then tuned:

    python bench/encoder_pivot.py --model emoji --images data/emoji-faces-twitter/images --n 10 \
        --encoder runs/encoders/emoji-3v60.safetensors [--json bench/results/encoder_pivot_emoji.json]

Starts: W+ from the mean w (the CLI default), the encoder's guess, the guess pulled toward the
mean w (``w_avg + shrink * (guess - w_avg)``), and W+ steps from the guess. Each start is tuned by
the default PTI (its learning rate by whether W+ steps ran, ``pti_lr``). Reported per start: PSNR
of the start and after PTI (scikit-image, on the uint8 render of the saved state, as
``invert_table.py``), seconds, and the start's mean distance from w_avg over the W+ rows, next to
the same distance for the model's own samples (where PTI's generator is used to working).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from _timing import report
from invert_table import psnr_u8
from steergan.cli.invert import read_square, segmenter_instances
from steergan.edit.encoder import encode_start, load_encoder
from steergan.edit.invert import (PIVOT_STEPS, PTI_STEPS, initial_heatmaps, inversion_state, pivotal_tune, project,
                                  pti_lr, save_tuned)
from steergan.methods.state import render_state
from steergan.models import load_model, to_uint8


def w_distance(ws: torch.Tensor, w_avg: torch.Tensor) -> float:
    """Mean over the W+ rows of |w - w_avg| (ws [1, num_ws, w_dim] or [N, w_dim])."""
    return float((ws.reshape(-1, w_avg.shape[-1]) - w_avg).norm(dim=-1).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--images", required=True, help="a folder; the first --n pictures by name")
    ap.add_argument("--encoder", required=True)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--steps", type=int, default=PIVOT_STEPS, help="W+ steps of the starts that take any")
    ap.add_argument("--shrink", type=float, default=0.6)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    m = load_model(args.model)
    enc = load_encoder(args.encoder, m)
    w_avg = m.G.mapping.w_avg.detach()
    with torch.no_grad():
        sample_ws = m.G.mapping(torch.randn(1000, m.config["arch"]["z_dim"], generator=torch.Generator().manual_seed(0)))
    files = sorted(p for p in Path(args.images).rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
    files = files[:args.n]

    starts = ("mean_w_plus_steps", "encoder", "encoder_shrunk", "encoder_plus_steps")

    def start(name, target, hm):
        """(pivot W+, control, W+ steps taken) of one start."""
        if name == "mean_w_plus_steps":
            p = project(m, target, steps=args.steps, heatmaps=hm)
            return p.ws, p.control, args.steps
        guess, ctrl = encode_start(enc, target, hm, m.G)
        if name == "encoder":
            return guess, ctrl, 0
        if name == "encoder_shrunk":
            return w_avg + args.shrink * (guess - w_avg), ctrl, 0
        p = project(m, target, steps=args.steps, heatmaps=ctrl, init_ws=guess)
        return p.ws, p.control, args.steps

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, f in enumerate(files):
            target = read_square(str(f), m.resolution)
            hm = initial_heatmaps(m, segmenter_instances(m, target)) if m.method.has_heatmaps else None
            for name in starts:
                t0 = time.perf_counter()
                ws, ctrl, steps = start(name, target, hm)
                ctrl = ctrl.to(m.device) if ctrl is not None else None
                G = pivotal_tune(m, ws, ctrl, target, steps=PTI_STEPS, lr=pti_lr(steps))
                gen = save_tuned(m, G, Path(tmp) / f"{name}{i}.safetensors")
                seconds = time.perf_counter() - t0
                before = to_uint8(render_state(m, inversion_state(m.source, ws, ctrl)))[0]
                after = to_uint8(render_state(load_model(str(gen)), inversion_state(str(gen), ws, ctrl)))[0]
                row = {"image": i, "start": name, "psnr_start": round(psnr_u8(before, target), 3),
                       "psnr_pti": round(psnr_u8(after, target), 3), "seconds": round(seconds, 2),
                       "w_distance": round(w_distance(ws, w_avg), 3)}
                rows.append(row)
                print(row, flush=True)
    summary = {name: {k: round(statistics.mean(r[k] for r in rows if r["start"] == name), 3)
                      for k in ("psnr_start", "psnr_pti", "seconds", "w_distance")} for name in starts}
    report({"model": m.source, "images": f"the first {len(files)} images of {args.images}", "encoder": args.encoder,
            "steps": args.steps, "pti_steps": PTI_STEPS, "shrink": args.shrink, "threads": torch.get_num_threads(),
            "samples_w_distance": round(w_distance(sample_ws, w_avg), 3), "starts": summary, "per_image": rows},
           args.json)


if __name__ == "__main__":
    main()
