"""Fréchet distances of a run's milestone snapshots (10, 20, 40, 60 training minutes, ...) and the floor.

The floor is the distance between two independent sets of real images of the same size
(the training set and a second set rendered with another seed), i.e. the best any model
could score with this n. ``--metrics fd_effnet,fd_seg``: fd_seg (features of the bundled
rooms segmenter, never trained on ImageNet) is the check a projected-discriminator run
cannot game, since that D judges through EfficientNet-Lite0, the fd_effnet network.
``--models`` adds rows for finished generators (e.g. the bundled rooms-stylegan2).

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

from _timing import report
from steergan.data import ImageDataset
from steergan.metrics import fake_stats, fd, get_extractor, real_stats
from steergan.models import load_model, to_uint8
from steergan.train.diversity import precision_recall
from steergan.visual import image_grid


def generate(model, n: int, batch: int = 32) -> torch.Tensor:
    """n uint8 samples, seeded: the same images for every metric and every call."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)   # noise injection uses the global RNG
    out = []
    with torch.no_grad():
        for start in range(0, n, batch):
            b = min(batch, n - start)
            z = torch.randn(b, model.G.cfg.z_dim, generator=gen)
            # the model's own control per seed (heatmaps of a SpatialGAN model; None otherwise)
            controls = [model.control_from_seed(start + i) for i in range(b)]
            control = model.method.collate_control(controls) if controls[0] is not None else None
            out.append(to_uint8(model.G(z, control, noise_mode="random")))
    return torch.cat(out)


@torch.no_grad()
def features(extractor, images: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """Feature rows of uint8 images [N, 3, R, R], ``batch`` at a time."""
    return torch.cat([extractor(images[s:s + batch]) for s in range(0, len(images), batch)])


def minutes_of(snapshot: Path) -> float:
    """Training minutes of a milestone snapshot directory (``minutes-20`` -> 20.0)."""
    return float(re.sub(r"^minutes-", "", snapshot.name))


def milestones(run) -> list[Path]:
    """A run's milestone snapshots, in order of training minutes."""
    return sorted(Path(run, "milestones").glob("minutes-*"), key=minutes_of)


def stack_grids(items, path, label_width=130):
    """Grids one under another, each with its label on the left."""
    from PIL import Image, ImageDraw
    grids = [(label, Image.open(g).convert("RGB")) for label, g in items]
    width = label_width + max(g.width for _, g in grids)
    out = Image.new("RGB", (width, sum(g.height + 4 for _, g in grids)), "white")
    y = 0
    for label, g in grids:
        out.paste(g, (label_width, y))
        ImageDraw.Draw(out).text((6, y + g.height // 2 - 6), label, fill="black")
        y += g.height + 4
    out.save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=None, help="run directories (comma-separated) whose milestones to evaluate")
    ap.add_argument("--models", default="", help="comma-separated generator files or bundled names")
    ap.add_argument("--metrics", default="fd_judge,fd_seg,fd_effnet",
                    help="comma-separated: fd_judge (the evaluation-only judge), fd_seg, fd_effnet")
    ap.add_argument("--segmenter", default="rooms", help="fd_seg's segmenter: rooms, creatures or a file")
    ap.add_argument("--data", required=True)
    ap.add_argument("--holdout", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "steergan" / "stats"))
    ap.add_argument("--grids", default="bench/results", help="where to write a sample grid per milestone")
    ap.add_argument("--minutes", default="10,20,40,60", help="which milestones to evaluate")
    ap.add_argument("--json", default=None)
    ap.add_argument("--figure", default=None, help="one PNG stacking every row's grid, labelled")
    ap.add_argument("--labels", default=None, help="comma-separated row labels, one per --run (default: names)")
    ap.add_argument("--pr", action="store_true",
                    help="also improved precision and recall (k=3) on the judge's features: collapse shows as low recall")
    args = ap.parse_args()
    metrics = [m for m in args.metrics.split(",") if m]
    exts = {m: get_extractor(m, segmenter=args.segmenter) for m in metrics}
    train = ImageDataset(args.data, resolution=64)
    hold = ImageDataset(args.holdout, resolution=64)
    t0 = time.time()
    cache = Path(args.cache_dir)
    real, floor = {}, {}
    for m, ext in exts.items():
        real[m] = real_stats(train, ext, n=args.n, cache_dir=cache, fingerprint=train.fingerprint)
        floor[m] = fd(real[m], real_stats(hold, ext, n=args.n, cache_dir=cache, fingerprint=hold.fingerprint))
        print(f"floor {m} (real vs real, n={args.n}): {floor[m]:.3f}  [{time.time() - t0:.0f} s]", flush=True)
    wanted = {float(m) for m in args.minutes.split(",")}
    runs = [Path(r) for r in (args.run or "").split(",") if r]
    labels = dict(zip(runs, args.labels.split(","))) if args.labels else {}
    if args.pr:    # judge features of n real training images, the manifold the fakes are scored against
        judge = exts.get("fd_judge") or get_extractor("fd_judge")
        real_feats = features(judge, train.images[:args.n])
    snapshots = []      # (run, snapshot dir), each run's in order of minutes
    for run in runs:
        snapshots += [(run, p) for p in milestones(run) if minutes_of(p) in wanted]
    grids = Path(args.grids)
    grids.mkdir(parents=True, exist_ok=True)
    rows = []
    sources = snapshots + [(None, m) for m in args.models.split(",") if m]
    for run, source in sources:
        source = str(source)
        model = load_model(source)
        row = {"source": source}
        if run is not None:
            cfg = json.loads((Path(source) / "config.json").read_text())
            row.update(run=run.name, minutes=float(Path(source).name.split("-")[1]),
                       kimg=round(cfg["images_seen"] / 1000, 1))
            label = f"{run.name}_{Path(source).name}"
            row["label"] = f"{row['minutes']:g} min" if len(runs) == 1 else f"{run.name}\n{row['minutes']:g} min"
            row["label"] = labels.get(run, row["label"])
        else:
            label = row["label"] = Path(source).stem
            trained = model.config.get("trained") or {}
            if trained.get("images_seen"):
                row.update(kimg=round(trained["images_seen"] / 1000, 1),
                           minutes=round((trained.get("train_seconds") or 0) / 60, 1))
        fakes = generate(model, args.n)       # once, shared by every metric
        for name, ext in exts.items():
            row[name] = round(fd(real[name], fake_stats(lambda b, s: fakes[s:s + b], ext, n=args.n)), 3)
        if args.pr:
            precision, recall = precision_recall(real_feats, features(judge, fakes), k=3)
            row.update(precision=round(precision, 3), recall=round(recall, 3))
        grid = grids / f"{label}.png"
        image_grid(model.generate(range(32)).float() / 127.5 - 1, nrow=8).save(grid)
        row["grid"] = str(grid)
        rows.append(row)
        print(json.dumps(rows[-1]), flush=True)
    print("\n| source | minutes | kimg | " + " | ".join(metrics) + " |")
    print("|---" * (3 + len(metrics)) + "|")
    for r in rows:
        print(f"| {r['source']} | {r.get('minutes', '-')} | {r.get('kimg', '-')} | "
              + " | ".join(str(r[m]) for m in metrics) + " |")
    print("| floor (real vs real) | - | - | " + " | ".join(f"{floor[m]:.3f}" for m in metrics) + " |")
    result = {"n": args.n, "floor": {m: round(v, 3) for m, v in floor.items()}, "rows": rows}
    if args.figure:
        stack_grids([(r["label"], r["grid"]) for r in rows], args.figure)
    report(result, args.json)


if __name__ == "__main__":
    main()
