"""The separation term's figure on real rooms and on models' samples: how often touching objects are one class.

    python bench/separation_floor.py --models rooms,runs/s13/separate/milestones/minutes-20 \
        --data data/rooms64-holdout --n 1000 --json bench/results/separation_floor.json

``methods.spatial.separate`` asks, for every pair of touching object heatmaps, for a small chance
that the segmenter reads both cores as the same object class. On held-out real rooms, with the
heatmaps the paired D would give them (from their own instance maps), that chance is what the
data shows; on a model's samples (its stored layouts, seeds 0..n-1, constant noise) it is what
the generator draws. Also: the share of images with at least one touching pair.
"""
from __future__ import annotations

import argparse

import torch

from _timing import report
from steergan.data import ImageDataset
from steergan.methods.spatial.heatmaps import Heatmaps
from steergan.methods.spatial.layouts import heatmaps_from_layouts, layouts_from_instances
from steergan.methods.spatial.objectness import ObjectnessNet
from steergan.methods.spatial.separate import separation_loss, touching_pairs
from steergan.models import load_model

BATCH = 100


def figures(net, images: torch.Tensor, hm: Heatmaps) -> tuple[torch.Tensor, int]:
    """(the term of every counted pair, images with a touching pair)."""
    with torch.no_grad():
        pairs = touching_pairs(hm.render(images.shape[-1]), hm.active)
        return separation_loss(net.log_probs(images), ~net.bg, hm, reduce=False), int(pairs.flatten(1).any(1).sum())


def summary(parts: list, n: int) -> dict:
    same = torch.cat([p[0] for p in parts])
    return {"same_class_chance": round(float(same.mean()), 4), "pairs": len(same),
            "images_with_touching_pair": round(sum(p[1] for p in parts) / n, 4), "n": n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="rooms", help="comma-separated bundled names, files or checkpoints")
    ap.add_argument("--data", default="data/rooms64-holdout")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--max-objects", type=int, default=4, help="the models' heatmap slots (rooms: 4)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    net = ObjectnessNet.load(None)
    ds = ImageDataset(a.data, 64, max_images=a.n)
    inst, _ = ds.load_masks("instances")
    real = []
    for s in range(0, len(ds), BATCH):
        idx = range(s, min(s + BATCH, len(ds)))
        images = torch.stack([ds[i] for i in idx]).float() / 127.5 - 1
        real.append(figures(net, images, heatmaps_from_layouts(*layouts_from_instances(inst[s:s + len(idx)],
                                                                                        a.max_objects))))
    out = {"data": a.data, "real": summary(real, len(ds)), "models": {}}
    for name in a.models.split(","):
        model, parts = load_model(name), []
        for s in range(0, a.n, BATCH):
            seeds = range(s, min(s + BATCH, a.n))
            hm = Heatmaps.cat([model.control_from_seed(i) for i in seeds])
            with torch.no_grad():
                images = model.synthesize(torch.cat([model.ws_from_seed(i) for i in seeds]), hm)
            parts.append(figures(net, images, hm))
        out["models"][name] = summary(parts, a.n)
    report(out, a.json)


if __name__ == "__main__":
    main()
