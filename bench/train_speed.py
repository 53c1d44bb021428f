"""Training throughput and compute efficiency of the backbone on this machine.

For each preset: img/s of a full training iteration (D step, G step, R1 amortised over its
interval of 16), the GFLOPs per image of G and D (forward, counted by torch's
FlopCounterMode), and the achieved GFLOP/s next to what a plain 3x3 convolution reaches.

    python bench/train_speed.py [--presets tiny,ref64,paper256] [--batch 4] [--json out.json]
    python bench/train_speed.py --presets tiny,tiny+spatial-hier,tiny+spatial-multi,tiny+spatial-steer --batch 32
    python bench/train_speed.py --presets tiny,tiny+projected --batch 32

``+projected`` swaps in the projected discriminator (frozen EfficientNet-Lite0 features;
its D GFLOPs include them, and its D step runs them forward only, with no R1).
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from steergan.nn import Discriminator, Generator, get_preset
from steergan.nn.projected import ProjectedDiscriminator
from steergan.train import Trainer, TrainOptions

from _timing import provenance

# StyleGAN2 at 64 px with the widths measured in the brief (cbase 4096, cmax 128, 8-layer mapping, w 512).
EXTRA = {"ref64": dict(base="tiny", channel_base=4096, channel_max=128, channel_min=16,
                       z_dim=512, w_dim=512, mapping_layers=8)}


def arch_for(name):
    if name in EXTRA:
        e = dict(EXTRA[name])
        return get_preset(e.pop("base"), **e)
    return get_preset(name)


def gflops_per_image(arch, projected=False):
    G = Generator(arch)
    D = ProjectedDiscriminator(arch) if projected else Discriminator(arch)
    z = torch.randn(2, arch.z_dim)
    # (FlopCounterMode's module hooks need autograd on: no torch.no_grad here)
    with FlopCounterMode(display=False) as fc:
        img = G(z)
    g = fc.get_total_flops() / 2 / 1e9
    with FlopCounterMode(display=False) as fc:
        D(img.detach())
    d = fc.get_total_flops() / 2 / 1e9
    return g, d


def plain_conv_gflops(batch=32, channels=128, res=16, reps=10):
    x = torch.randn(batch, channels, res, res).contiguous(memory_format=torch.channels_last)
    w = torch.randn(channels, channels, 3, 3).contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    w.requires_grad_(True)
    F.conv2d(x, w, padding=1).sum().backward()
    t0 = time.perf_counter()
    for _ in range(reps):
        F.conv2d(x, w, padding=1).sum().backward()
    dt = (time.perf_counter() - t0) / reps
    return 3 * 2 * batch * channels * channels * 9 * res * res / dt / 1e9   # fwd + 2 bwd convs


METHODS = {"": ("stylegan2", {}),
           "projected": ("stylegan2", {}),     # the baseline with --discriminator projected
           "spatial-hier": ("spatial", {"sampling": "hierarchical"}),
           "spatial-multi": ("spatial", {"sampling": "multi"}),
           "spatial-multi-lazy4": ("spatial", {"sampling": "multi", "align_interval": 4}),
           # the bundled rooms configuration (needs instance maps: random boxes stand in below)
           "spatial-steer": ("spatial", {"sampling": "multi", "sel": "indoor_norm", "align": "segmenter",
                                         "align_interval": 2, "paired": True, "n_objects": 4}),
           # the bundled creatures configuration (single object: the boxes' union is the object)
           "spatial-hier-steer": ("spatial", {"sampling": "hierarchical", "paired": True, "align": "segmenter",
                                              "segmenter": "creatures", "align_interval": 2})}


def _boxes(n, r):
    """Instance maps with 1..3 random rectangles (ids 1..3), for methods that read instances."""
    g = torch.Generator().manual_seed(0)
    maps = torch.zeros(n, r, r, dtype=torch.uint8)
    for i in range(n):
        for k in range(1, int(torch.randint(1, 4, (1,), generator=g)) + 1):
            x, y = torch.randint(0, r - r // 4, (2,), generator=g).tolist()
            maps[i, y:y + r // 4, x:x + r // 4] = k
    return maps


def iteration_speed(arch, batch, steps, method=""):
    masks = _boxes(64, arch.resolution)
    data = SimpleNamespace(images=torch.randint(0, 256, (64, 3, arch.resolution, arch.resolution), dtype=torch.uint8),
                           load_masks=lambda kind="semantic": (masks, []))
    name, mopts = METHODS[method]
    opts = TrainOptions(out="/tmp/steergan-bench", batch=batch, kimg=1e9, device="cpu", r1_interval=16,
                        method=name, method_options=mopts, augment="",
                        discriminator="projected" if method == "projected" else "stylegan2")
    t = Trainer(opts, data, arch=arch, progress=False)
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    t.step = 1
    t.train_step()                                   # warm-up (oneDNN primitive creation)
    t.step = 1
    t0 = time.perf_counter()
    for _ in range(steps):
        if t.step % 16 == 0:
            t.step += 1
        t.train_step()
    main = (time.perf_counter() - t0) / steps        # one iteration without R1
    t.step = 16
    t0 = time.perf_counter()
    t.train_step()
    with_r1 = time.perf_counter() - t0
    per_iter = (15 * main + with_r1) / 16
    return batch / per_iter, main, with_r1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="tiny,ref64,paper256")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    conv = plain_conv_gflops()
    rows = []
    for name in args.presets.split(","):
        preset, _, method = name.partition("+")
        arch = arch_for(preset)
        g, d = gflops_per_image(arch, projected=method == "projected")
        steps = args.steps if arch.resolution <= 64 else max(2, args.steps // 3)
        ips, main_s, r1_s = iteration_speed(arch, args.batch, steps, method)
        # FLOPs of one iteration per image: D step (G fwd, D fwd+bwd on real and fake),
        # G step (G fwd+bwd, D fwd+bwd); backward counted as 2x forward.
        flops_img = g + 2 * 3 * d + 3 * g + 3 * d
        if method == "projected":    # its D step runs the frozen features forward only
            flops_img = g + 2 * d + 3 * g + 3 * d
        rows.append({"preset": name, "resolution": arch.resolution, "batch": args.batch,
                     "G_gflops_per_img": round(g, 3), "D_gflops_per_img": round(d, 3),
                     "img_per_s": round(ips, 2), "iter_s": round(main_s, 3), "iter_with_r1_s": round(r1_s, 3),
                     "achieved_gflops_per_s": round(flops_img * ips, 1)})
        print(json.dumps(rows[-1]), flush=True)
    result = {"machine": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
              "torch": torch.__version__, "plain_conv_gflops_per_s": round(conv, 1), "rows": rows}
    print("\n| preset | res | batch | G GFLOP/img | D GFLOP/img | img/s | achieved GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['preset']} | {r['resolution']} | {r['batch']} | {r['G_gflops_per_img']} | "
              f"{r['D_gflops_per_img']} | {r['img_per_s']} | {r['achieved_gflops_per_s']} |")
    print(f"\nplain 3x3 conv (128 ch, 16 px, batch 32, fwd+bwd, NHWC): {conv:.1f} GFLOP/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**result, "provenance": provenance()}, f, indent=2)


if __name__ == "__main__":
    main()
