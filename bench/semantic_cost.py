"""Training cost of SemanticStyleGAN vs the StyleGAN2 baseline, and its growth with K classes.

One full training iteration as the trainer runs it (D step on real and fake, G step with
L_mask, lazy R1 amortised over its interval of 16; no augmentation, no path length; the
configurations take turns and each one's fastest of ``--steps`` rounds counts), on
random images and random label maps, for the baseline and for K = 4, 8, 16 classes (the
paper's stated limitation: one local generator per class). Also the forward GFLOPs per
image of G and D (torch's FlopCounterMode) and the parameter counts.

    python bench/semantic_cost.py [--preset tiny] [--batch 32] [--classes 4,8,16] \
        [--options '{"coarse_size": 32}'] [--json bench/results/semantic_cost.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from types import SimpleNamespace

import torch
from torch.utils.flop_counter import FlopCounterMode

from steergan.nn import get_preset
from steergan.train import Trainer, TrainOptions

from _timing import report


def fake_data(n, res, classes):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, res, res), generator=g, dtype=torch.uint8)
    masks = torch.randint(0, max(1, len(classes)), (n, res, res), generator=g, dtype=torch.uint8)
    return SimpleNamespace(images=images, load_masks=lambda: (masks, list(classes)))


def gflops_and_params(method, arch):
    G, D = method.build_generator(arch), method.build_discriminator(arch)
    ws = G.mapping_ws(torch.randn(2, arch.z_dim))
    with FlopCounterMode(display=False) as fc:       # module hooks need autograd on
        fake, _ = method.fake_for_d(G, ws, None)
    g = fc.get_total_flops() / 2 / 1e9
    with FlopCounterMode(display=False) as fc:
        D(fake.detach())
    d = fc.get_total_flops() / 2 / 1e9
    return g, d, sum(p.numel() for p in G.parameters()), sum(p.numel() for p in D.parameters())


def make_trainer(arch, batch, name, options, classes):
    opts = TrainOptions(out="/tmp/steergan-bench", batch=batch, kimg=1e9, device="cpu", r1_interval=16,
                        method=name, method_options=options, augment="")
    t = Trainer(opts, fake_data(64, arch.resolution, classes), arch=arch, progress=False)
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    t.step = 1
    t.train_step()                                   # warm-up (oneDNN primitive creation)
    return t


def timed_step(t, step):
    t.step = step                                    # 1: a plain iteration, 16: one with R1
    t0 = time.perf_counter()
    t.train_step()
    return time.perf_counter() - t0


def iteration_speeds(trainers, batch, rounds):
    """img/s of each trainer; configurations take turns and the fastest round counts, so a
    machine shared with other jobs slows every configuration alike."""
    main = [float("inf")] * len(trainers)
    with_r1 = [float("inf")] * len(trainers)
    for _ in range(rounds):
        for i, t in enumerate(trainers):
            main[i] = min(main[i], timed_step(t, 1))
    for i, t in enumerate(trainers):
        with_r1[i] = min(with_r1[i], timed_step(t, 16))
    return [(batch / ((15 * m + r) / 16), m, r) for m, r in zip(main, with_r1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5, help="timed rounds per configuration (fastest counts)")
    ap.add_argument("--classes", default="4,8,16", help="numbers of classes K to measure")
    ap.add_argument("--options", default="{}", help="semantic method options (JSON)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    arch = get_preset(args.preset)
    extra = json.loads(args.options)
    configs = [("stylegan2", {}, [])] + [
        ("semantic", extra, [f"class{i}" for i in range(int(k))]) for k in args.classes.split(",")]
    trainers = [make_trainer(arch, args.batch, name, options, classes) for name, options, classes in configs]
    rows = []
    for t, (ips, main_s, r1_s), (name, _, classes) in zip(trainers, iteration_speeds(trainers, args.batch, args.steps),
                                                          configs):
        g, d, gp, dp = gflops_and_params(t.method, arch)
        rows.append({"method": name, "K": len(classes) or None, "img_per_s": round(ips, 2),
                     "iter_s": round(main_s, 3), "iter_with_r1_s": round(r1_s, 3),
                     "G_gflops_per_img": round(g, 3), "D_gflops_per_img": round(d, 3),
                     "G_params": gp, "D_params": dp})
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["img_per_s"]
    for r in rows:
        r["time_per_image_vs_baseline"] = round(base / r["img_per_s"], 2)
    print("\n| method | K | img/s | time per image vs baseline | G GFLOP/img | D GFLOP/img | G params | D params |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['K'] or '-'} | {r['img_per_s']} | {r['time_per_image_vs_baseline']} | "
              f"{r['G_gflops_per_img']} | {r['D_gflops_per_img']} | {r['G_params']} | {r['D_params']} |")
    report({"machine": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "preset": args.preset, "batch": args.batch, "options": extra,
            "rows": rows}, args.json)


if __name__ == "__main__":
    main()
