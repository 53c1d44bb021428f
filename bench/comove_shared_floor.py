"""How often do two objects share one segment in *real* images? The floor under Co-move's `shared` split.

    python bench/comove_shared_floor.py --data data/rooms64-holdout --n 1000 --json bench/results/comove_shared_floor.json

The Co-move Ratio splits its samples by whether another heatmap centre lies on the moved
object's segment (``metrics.comove``: ``alone`` / ``shared``). A generator that draws two heatmaps
as one object scores low on the shared ones; but real layouts overlap too (a lamp in front of a
bed), and the segmenter merges touching objects. This measures the same split on the real
held-out images, where nothing was generated: for every object among the first ``--max-objects``
(the model's heatmap slots) take its centre (the mean of its visible pixels, as the paired
discriminator's layouts do) and ask whether another object's centre lies on the same segment,

* by the dataset's own instance maps (what the data holds), and
* by the segmenter's instance map of the image (what the Co-move Ratio can see).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from _timing import report
from steergan.methods.spatial.layouts import layouts_from_instances
from steergan.metrics.segmenter import load_segmenter


def centres(inst: np.ndarray, max_objects: int) -> list:
    """(x, y) pixel centre of instances 1..max_objects, as the paired D's layouts take them
    (``layouts_from_instances``: the mean of the visible pixels), None for an empty slot."""
    c, _, active = layouts_from_instances(torch.from_numpy(inst.astype(np.uint8))[None], max_objects)
    r = inst.shape[-1]
    pixels = ((c[0] + 1) * r - 1) / 2                  # normalised -> pixel index (centre j is (2j+1)/R - 1)
    return [tuple(p.tolist()) if a else None for p, a in zip(pixels, active[0])]


def shared_flags(segments: np.ndarray, cs: list) -> list[bool]:
    """Per object whose centre lies on a segment: does another object's centre lie on it too?"""
    def seg_at(c):
        return int(segments[int(c[1]), int(c[0])])
    flags = []
    for i, c in enumerate(cs):
        if c is None or seg_at(c) == 0:
            continue
        flags.append(any(j != i and d is not None and seg_at(d) == seg_at(c) for j, d in enumerate(cs)))
    return flags


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/rooms64-holdout")
    ap.add_argument("--segmenter", default="rooms")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--max-objects", type=int, default=4, help="the model's heatmap slots (rooms: 4)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    root = Path(a.data)
    rows = [json.loads(line) for line in open(root / "objects.jsonl")][:a.n]
    seg = load_segmenter(a.segmenter)
    truth, seen = [], []
    for start in range(0, len(rows), 100):
        batch = rows[start:start + 100]
        imgs = np.stack([np.asarray(Image.open(root / r["file"]).convert("RGB")) for r in batch])
        found = seg.segment(torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous())
        for r, s in zip(batch, found):
            inst = np.asarray(Image.open(root / "instances" / Path(r["file"]).name))
            cs = centres(inst, a.max_objects)
            truth += shared_flags(inst, cs)
            seen += shared_flags(np.asarray(s.instances), cs)
    report({"data": str(root), "n_images": len(rows), "segmenter": a.segmenter, "max_objects": a.max_objects,
            "instances": {"objects": len(truth), "shared": round(float(np.mean(truth)), 4)},
            "segmenter_view": {"objects": len(seen), "shared": round(float(np.mean(seen)), 4)}}, a.json)


if __name__ == "__main__":
    main()
