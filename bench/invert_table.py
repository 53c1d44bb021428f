"""How well `steergan invert` reconstructs held-out images: PSNR, SSIM and seconds per image,
W+ projection alone and W+ followed by pivotal tuning (PTI).

    python bench/invert_table.py --model rooms --n 10 [--steps 100] [--pti-steps 100] \
        [--json bench/results/invert_rooms.json]

Images are renders of seed 5 (``--kind rooms|creatures``; the bundled models were trained on seed 0),
64 px, or with ``--images DIR`` the first ``--n`` pictures of a folder (e.g. the ``images/`` of
``steergan data emoji --vendor twitter``: faces of a vendor the Google-emoji model never saw). ``--rows`` picks rows (default: all). ``--encoder FILE`` adds two rows: the encoder's guess alone (one forward pass) and the
encoder's guess followed by pivotal tuning.
The evaluation judge (``fd_judge``'s network, read by no loss, inversion included) scores each row
twice: the Fréchet distance between the reconstructions and the inputs as sets (with n under the
judge's 256 dimensions it is biased upwards; compare rows, not with the model tables), and the
paired distance, the mean squared distance between each reconstruction's judge embedding and its
own input's.
PSNR and SSIM come from scikit-image (``pip install "steergan[bench]"``), measured on the uint8 reconstruction that ``render_state`` gives for the saved state
(after PTI: the reloaded fp16 generator file). Seconds include the segmenter (SpatialGAN
heatmap initialisation; every row's start needs it, the encoder rows' too, and ``seconds_segmenter``
gives its share); the first image also pays loading the segmenter.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from _timing import report
from steergan.cli.invert import read_square, segmenter_instances
from steergan.data.scenes import render
from steergan.edit.invert import (PIVOT_STEPS, PTI_STEPS, initial_heatmaps, inversion_state, pivotal_tune, project,
                                  pti_lr, save_tuned)
from steergan.methods.state import render_state
from steergan.models import load_model, to_uint8


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """SSIM of two uint8 images [3, H, W] (scikit-image: Wang et al. 2004, 7x7 window, per channel)."""
    from skimage.metrics import structural_similarity
    return float(structural_similarity(a.permute(1, 2, 0).numpy(), b.permute(1, 2, 0).numpy(), channel_axis=2,
                                       data_range=255))


def psnr_u8(a: torch.Tensor, b: torch.Tensor) -> float:
    from skimage.metrics import peak_signal_noise_ratio
    return float(peak_signal_noise_ratio(b.numpy(), a.numpy(), data_range=255))


def judge_distances(judge, targets: list[torch.Tensor], recons: list[torch.Tensor]) -> dict:
    """Fréchet distance (sets) and mean paired squared distance of the judge's embeddings."""
    from steergan.metrics.fd import fd
    from steergan.metrics.frechet import FrechetStats
    ft, fr = judge(torch.stack(targets)), judge(torch.stack(recons))
    return {"fd": round(fd(FrechetStats().update(ft), FrechetStats().update(fr)), 4),
            "paired": round(float((ft - fr).square().sum(1).mean()), 4)}


# row key (the per-image suffix, e.g. psnr_pti) -> its name in the result file
ROWS = {"w": "w_plus", "pti": "w_plus_pti", "enc": "encoder_alone", "encpti": "encoder_pti"}


def summary(rows: list[dict], key: str) -> dict:
    vals = [r[key] for r in rows]
    return {"mean": round(statistics.fmean(vals), 3), "median": round(statistics.median(vals), 3),
            "min": round(min(vals), 3), "max": round(max(vals), 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--steps", type=int, default=PIVOT_STEPS, help="W+ steps (the pivot of the PTI rows)")
    ap.add_argument("--pti-steps", type=int, default=PTI_STEPS)
    ap.add_argument("--seed", type=int, default=5, help="render seed of the held-out images")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--perceptual", type=float, default=None)
    ap.add_argument("--feature-size", type=int, default=None)
    ap.add_argument("--pti-lr", type=float, default=None)
    ap.add_argument("--pti-perceptual", type=float, default=None)
    ap.add_argument("--locality", type=float, default=None)
    ap.add_argument("--pti-tune-from", type=int, default=None, help="PTI tunes the layers at this many px and finer")
    ap.add_argument("--fit-centres", action="store_true")
    ap.add_argument("--kind", default="rooms", help="scene kind of the held-out renders")
    ap.add_argument("--images", default=None,
                    help="a folder of images to invert instead of renders (the first --n, sorted by name), "
                         "e.g. emoji of a vendor the model never saw")
    ap.add_argument("--encoder", default=None, help="an encoder file (steergan train-encoder): two more rows")
    ap.add_argument("--refine-passes", type=int, default=None,
                    help="apply the encoder's refiner this many times instead of the number it was trained with")
    ap.add_argument("--rows", default="w,pti,enc,encpti",
                    help="which rows to run: w (W+ alone), pti (W+ + PTI), enc and encpti (need --encoder)")
    ap.add_argument("--save-every", type=int, default=0,
                    help="also write the JSON (marked partial) every this many images")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows_wanted = set(args.rows.split(","))
    if not rows_wanted or not rows_wanted <= ROWS.keys():
        ap.error(f"--rows: choose from {','.join(ROWS)}")
    if args.encoder is None:
        rows_wanted -= {"enc", "encpti"}
    m = load_model(args.model)
    kw = {k: v for k, v in (("lr", args.lr), ("perceptual", args.perceptual),
                            ("feature_size", args.feature_size)) if v is not None}
    pti_kw = {k: v for k, v in (("lr", args.pti_lr), ("perceptual", args.pti_perceptual),
                                ("feature_size", args.feature_size), ("locality", args.locality),
                                ("tune_from", args.pti_tune_from)) if v is not None}
    rows = []
    files = None
    if args.images:
        files = sorted(p for p in Path(args.images).rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"))
        args.n = min(args.n, len(files))
    enc = None
    if args.encoder:
        from steergan.edit.encoder import encode_start, load_encoder
        enc = load_encoder(args.encoder, m)
        if args.refine_passes is not None:
            if enc.refiner is None or args.refine_passes < 0:
                ap.error("--refine-passes: needs an encoder with a refiner and a count >= 0")
            enc.refine_passes = args.refine_passes
    images = {"target": [], "w": [], "pti": [], "enc": [], "encpti": []}     # uint8 [3, R, R] each
    from steergan.metrics.judge import JudgeExtractor
    judge = JudgeExtractor()                  # scores the rows, and is read by no inversion step
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n):
            target = (read_square(str(files[i]), m.resolution) if files else
                      torch.from_numpy(render(args.kind, i, m.resolution, seed=args.seed).image).permute(2, 0, 1))
            t0 = time.perf_counter()
            hm = initial_heatmaps(m, segmenter_instances(m, target)) if m.method.has_heatmaps else None
            seg_seconds = time.perf_counter() - t0
            row = {"image": i, "seconds_segmenter": round(seg_seconds, 4)}
            if rows_wanted & {"w", "pti"}:
                proj = project(m, target, steps=args.steps, heatmaps=hm, fit_centres=args.fit_centres, **kw)
                state = inversion_state(m.source, proj.ws, proj.control)
                w_seconds = time.perf_counter() - t0
                images["w"].append(to_uint8(render_state(m, state))[0])
                row.update(seconds_w=round(w_seconds, 2))
            if "pti" in rows_wanted:
                t1 = time.perf_counter()
                G = pivotal_tune(m, proj.ws, proj.control, target, steps=args.pti_steps, **pti_kw)
                gen = save_tuned(m, G, Path(tmp) / f"g{i}.safetensors")
                row.update(seconds_pti=round(w_seconds + time.perf_counter() - t1, 2))
                tuned = load_model(str(gen))
                images["pti"].append(to_uint8(render_state(tuned, inversion_state(str(gen), proj.ws, proj.control)))[0])
            if rows_wanted & {"enc", "encpti"}:
                t2 = time.perf_counter()
                guess, hm0 = encode_start(enc, target, hm, m.G)     # W+ and, with a style head, object codes
                enc_seconds = time.perf_counter() - t2
                hm0 = hm0.to(m.device) if hm0 is not None else None
                images["enc"].append(to_uint8(render_state(m, inversion_state(m.source, guess, hm0)))[0])
                row.update(seconds_enc=round(seg_seconds + enc_seconds, 4))   # heatmaps are part of the start
            if "encpti" in rows_wanted:
                t3 = time.perf_counter()
                G2 = pivotal_tune(m, guess, hm0, target, steps=args.pti_steps, **{"lr": pti_lr(0), **pti_kw})
                gen2 = save_tuned(m, G2, Path(tmp) / f"e{i}.safetensors")
                row.update(seconds_encpti=round(seg_seconds + enc_seconds + time.perf_counter() - t3, 2))
                images["encpti"].append(
                    to_uint8(render_state(load_model(str(gen2)), inversion_state(str(gen2), guess, hm0)))[0])
            for key in rows_wanted:
                row.update({f"psnr_{key}": round(psnr_u8(images[key][-1], target), 3),
                            f"ssim_{key}": round(ssim(images[key][-1], target), 4)})
            images["target"].append(target)
            rows.append(row)
            print(row, flush=True)
            if args.save_every and len(rows) % args.save_every == 0 and len(rows) < args.n:
                write(args, m, judge, kw, pti_kw, rows_wanted, rows, images, files)   # partial: a run cut short keeps these
    write(args, m, judge, kw, pti_kw, rows_wanted, rows, images, files)


def write(args, m, judge, kw, pti_kw, rows_wanted, rows, images, files) -> None:
    what = (f"the first {args.n} images of {args.images}" if files else
            f"{args.kind} renders 0..{args.n - 1} of seed {args.seed}")
    res = {"model": m.source, "images": f"{what}, {m.resolution} px", "n": len(rows), "steps": args.steps,
           **({"partial": f"{len(rows)} of {args.n} images (written every --save-every)"} if len(rows) < args.n else {}),
           "pti_steps": args.pti_steps, "options": {**kw, "pti": pti_kw, "fit_centres": args.fit_centres,
                                                 "pti_lr_encoder_row": pti_kw.get("lr", pti_lr(0))},
           "threads": torch.get_num_threads(),
           "rows": sorted(rows_wanted, key=list(ROWS).index), "encoder": args.encoder,
           "refine_passes": args.refine_passes,
           **{name: {**{k: summary(rows, f"{k}_{key}") for k in ("psnr", "ssim", "seconds")},
                     "judge": judge_distances(judge, images["target"], images[key])}
              for key, name in ROWS.items() if key in rows_wanted},
           "per_image": rows}
    report(res, args.json)


if __name__ == "__main__":
    main()
