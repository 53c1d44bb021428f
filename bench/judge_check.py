"""Does a Fréchet metric rank image quality? Check it on images whose quality we control.

    python bench/judge_check.py --metric fd_judge --kind rooms --n 500 --json bench/results/judge_check_rooms.json

Real renders of the training seed (0) against hold-out renders (seed 1) degraded at rising
strength. A metric fit to judge a generator must (1) rise with the strength of every
degradation, including ones the judge never trained on (``UNSEEN``: JPEG, hue rotation, an
elastic warp, ghosting), and (2) be near its floor at strength 0. ``--models`` adds bundled
models' samples to the same table, so their distances read against the controlled ones. For
``fd_judge`` it also reports how often the judge's appearance head calls the clean hold-out
renders clean and names the degradation of degraded copies (strength 0.6) right.
"""
from __future__ import annotations

import argparse
import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from _timing import report
from steergan.data.scenes import render
from steergan.metrics.extractors import get_extractor
from steergan.metrics.frechet import FrechetStats, frechet_distance
from steergan.metrics.judge import DEGRADATIONS, degrade

STRENGTHS = (0.0, 0.25, 0.5, 1.0)


def jpeg(x: torch.Tensor, s: float, g) -> torch.Tensor:
    q = int(round(90 - 85 * s))
    img = Image.fromarray(((x.permute(1, 2, 0) + 1) * 127.5).clamp(0, 255).byte().numpy())
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q)
    y = torch.from_numpy(np.asarray(Image.open(buf).convert("RGB")).copy()).permute(2, 0, 1).float()
    return y / 127.5 - 1


def hue(x: torch.Tensor, s: float, g) -> torch.Tensor:
    """Rotate colours around the grey axis by up to 180 degrees."""
    a = np.pi * s
    k = torch.tensor([1.0, 1.0, 1.0]) / 3 ** 0.5
    kx = torch.tensor([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    r = torch.eye(3) + np.sin(a) * kx + (1 - np.cos(a)) * kx @ kx
    return torch.einsum("ij,jhw->ihw", r, x).clamp(-1, 1)


def warp(x: torch.Tensor, s: float, g) -> torch.Tensor:
    """Smooth random displacement (wobbly geometry), up to 4 px."""
    h, w = x.shape[1:]
    flow = F.interpolate(torch.randn(1, 2, 4, 4, generator=g), size=(h, w), mode="bicubic", align_corners=False)
    base = torch.stack(torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")[::-1], -1)
    grid = base[None] + flow.permute(0, 2, 3, 1) * s * 8 / h
    return F.grid_sample(x[None], grid, padding_mode="border", align_corners=True)[0]


def ghost(x: torch.Tensor, s: float, g) -> torch.Tensor:
    """A shifted, faded copy over the image (double contours)."""
    d = 6
    return ((1 - 0.5 * s) * x + 0.5 * s * torch.roll(x, (d, d), (1, 2))).clamp(-1, 1)


UNSEEN = {"jpeg": jpeg, "hue": hue, "warp": warp, "ghost": ghost}


def renders(kind: str, n: int, seed: int) -> torch.Tensor:
    return torch.from_numpy(np.stack([render(kind, i, 64, seed).image.transpose(2, 0, 1) for i in range(n)]))


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--metric", default="fd_judge")
    ap.add_argument("--judge", default=None, help="judge file (default: the bundled one)")
    ap.add_argument("--kind", default="rooms")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--models", default="", help="comma-separated bundled models to add as rows")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    ex = get_extractor(a.metric, judge=a.judge, segmenter=a.kind)
    real = FrechetStats().update(ex(renders(a.kind, a.n, 0)))
    hold = renders(a.kind, a.n, 1).float() / 127.5 - 1

    def dist(images_uint8):
        return round(frechet_distance(*real.mean_cov(), *FrechetStats().update(ex(images_uint8)).mean_cov()), 4)

    rows, monotone = {}, {}
    funcs = {name: (lambda x, s, g, k=k: degrade(x, k, s, g)) for k, name in enumerate(DEGRADATIONS) if k}
    funcs.update(UNSEEN)
    for name, fn in funcs.items():
        row = []
        for s in STRENGTHS:
            g = torch.Generator().manual_seed(0)
            row.append(dist(to_uint8(torch.stack([fn(x, s, g) if s else x for x in hold]))))
        rows[name] = row
        monotone[name] = all(b > a_ for a_, b in zip(row, row[1:]))
        print(name, row, flush=True)
    head = {}
    if a.metric == "fd_judge":          # the judge's own appearance head on the same hold-out images
        from steergan.metrics.judge import read_judge
        net, _ = read_judge(a.judge)
        g = torch.Generator().manual_seed(0)
        kinds = torch.tensor([1 + i % (len(DEGRADATIONS) - 1) for i in range(len(hold))])
        degraded = torch.stack([degrade(x, int(k), 0.6, g) for x, k in zip(hold, kinds)])
        with torch.no_grad():
            clean_pred = net(hold)["degradation"].argmax(1)
            deg_pred = net(degraded)["degradation"].argmax(1)
        head = {"clean_called_clean": round(float((clean_pred == 0).float().mean()), 3),
                "degraded_named_right": round(float((deg_pred == kinds).float().mean()), 3), "strength": 0.6}
        print("appearance head", head, flush=True)
    models = {}
    if a.models:
        from steergan.models import load_model
        for m in a.models.split(","):
            model = load_model(m)
            models[m] = dist(model.generate(range(a.n)))
            print(m, models[m], flush=True)
    report({"metric": a.metric, "kind": a.kind, "n": a.n, "strengths": list(STRENGTHS),
            "degraded_holdout": rows, "monotone": monotone, "unseen": list(UNSEEN),
            "all_monotone": all(monotone.values()), "appearance_head": head, "models": models}, a.json)


if __name__ == "__main__":
    main()
