"""What do the models draw? Per class: the share of images where the scene segmenter finds it and
its mean area, for hold-out renders and each model's samples (a second look at fd_judge, whose
features were trained to see composition).

    python bench/composition.py --kind rooms --models rooms,rooms-projected,rooms-stylegan2,linkgan \
        --n 500 --json bench/results/composition_rooms.json
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from _timing import report
from steergan.data.scenes import render
from steergan.metrics.segmenter import load_segmenter
from steergan.models import load_model


def stats(seg, images: torch.Tensor) -> dict:
    sem = seg.predict_semantic(images).numpy()
    k = len(seg.classes)
    area = np.stack([(sem == c).mean((1, 2)) for c in range(k)], 1)          # [N, K]
    return {c: {"present": round(float((area[:, i] > 0.005).mean()), 3), "area": round(float(area[:, i].mean()), 4)}
            for i, c in enumerate(seg.classes)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", default="rooms")
    ap.add_argument("--models", default="rooms,rooms-projected,rooms-stylegan2")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    seg = load_segmenter(a.kind)
    real = torch.from_numpy(np.stack([render(a.kind, i, 64, 1).image.transpose(2, 0, 1) for i in range(a.n)]))
    rows = {"hold-out renders (seed 1)": stats(seg, real)}
    for name in a.models.split(","):
        rows[name] = stats(seg, load_model(name).generate(range(a.n)))
    print("class      " + " ".join(f"{r[:14]:>15s}" for r in rows))
    for c in seg.classes:
        print(f"{c:10s} " + " ".join(f"{rows[r][c]['present']:6.2f}/{rows[r][c]['area']:.3f}" for r in rows))
    report({"kind": a.kind, "n": a.n, "segmenter": a.kind, "rows": rows}, a.json)


if __name__ == "__main__":
    main()
