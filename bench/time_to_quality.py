"""fd_effnet of a run's milestone snapshots (10, 20, 40, 60 training minutes, ...) and the floor.

The floor is fd_effnet between two independent sets of real images of the same size
(the training set and a second set rendered with another seed), i.e. the best any model
could score with this n.

    steergan data make rooms --out data/rooms64 -n 20000
    steergan data make rooms --out data/rooms64-holdout -n 2000 --seed 1
    steergan train --data data/rooms64 --out runs/rooms-baseline --minutes 60 --milestones 10,20,40,60 --kimg 100000
    python bench/time_to_quality.py --run runs/rooms-baseline --data data/rooms64 \
        --holdout data/rooms64-holdout --n 2000 --json bench/results/time_to_quality.json
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import torch

from steergan.data import ImageDataset
from steergan.metrics import fake_stats, fd, get_extractor, real_stats
from steergan.models import load_model, to_uint8
from steergan.train.logger import image_grid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--holdout", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "steergan" / "stats"))
    ap.add_argument("--grids", default="bench/results", help="where to write a sample grid per milestone")
    ap.add_argument("--minutes", default="10,20,40,60", help="which milestones to evaluate")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    ext = get_extractor("fd_effnet")
    train = ImageDataset(args.data, resolution=64)
    hold = ImageDataset(args.holdout, resolution=64)
    t0 = time.time()
    real = real_stats(train, ext, n=args.n, cache_dir=Path(args.cache_dir), fingerprint=train.fingerprint)
    real_hold = real_stats(hold, ext, n=args.n, cache_dir=Path(args.cache_dir), fingerprint=hold.fingerprint)
    floor = fd(real, real_hold)
    print(f"floor (real vs real, n={args.n}): {floor:.3f}  [{time.time() - t0:.0f} s]", flush=True)
    rows = []
    wanted = {float(m) for m in args.minutes.split(",")}
    milestones = sorted((p for p in Path(args.run, "milestones").glob("minutes-*")
                         if float(re.sub(r"^minutes-", "", p.name)) in wanted),
                        key=lambda p: float(re.sub(r"^minutes-", "", p.name)))
    grids = Path(args.grids)
    grids.mkdir(parents=True, exist_ok=True)
    for ms in milestones:
        m = load_model(str(ms))
        gen = torch.Generator().manual_seed(0)
        torch.manual_seed(0)   # noise injection uses the global RNG

        def sample(batch, start):
            z = torch.randn(batch, m.G.cfg.z_dim, generator=gen)
            with torch.no_grad():
                return to_uint8(m.G(z, noise_mode="random"))

        fake = fake_stats(sample, ext, n=args.n)
        value = fd(real, fake)
        minutes = float(ms.name.split("-")[1])
        cfg = json.loads((ms / "config.json").read_text())
        grid = grids / f"{Path(args.run).name}_{ms.name}.png"
        image_grid(m.generate(range(32)).float() / 127.5 - 1, nrow=8).save(grid)
        rows.append({"minutes": minutes, "kimg": round(cfg["images_seen"] / 1000, 1), "fd_effnet": round(value, 3),
                     "grid": str(grid)})
        print(json.dumps(rows[-1]), flush=True)
    result = {"n": args.n, "floor": round(floor, 3), "rows": rows}
    print("\n| training minutes | kimg | fd_effnet |\n|---|---|---|")
    for r in rows:
        print(f"| {r['minutes']:g} | {r['kimg']} | {r['fd_effnet']} |")
    print(f"| floor (real vs real) | - | {floor:.3f} |")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
