"""Where the Co-move Ratio is lost: a per-sample Co-move file (``bench/comove.py --per-sample``)
broken down by the moved object's class, by the direction of the move, by whether another
heatmap shared the object, and by class crossed with the last two.

    python bench/comove_breakdown.py runs/comove_rooms_n2000_per_sample.json \
        [--json bench/results/comove_breakdown_rooms.json]

Directions are the move's dominant axis in image coordinates (``up`` = towards the top edge).
Each bucket reports n, the mean and median ratio, the mean content ratio (the patch found again
by cross-correlation, which shares nothing with the segmenter), and the share of moves that went
less than half the way (ratio < 0.5).
"""
from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict

from _timing import report
from steergan.metrics.segmenter import SceneSegmenter


def direction(p: list[float]) -> str:
    dx, dy = p
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


def summarise(records: list[dict]) -> dict:
    ratios = [r["ratio"] for r in records]
    content = [r["content_ratio"] for r in records]
    return {"n": len(records), "mean": round(statistics.mean(ratios), 3), "median": round(statistics.median(ratios), 3),
            "content_mean": round(statistics.mean(content), 3),
            "short_share": round(sum(x < 0.5 for x in ratios) / len(ratios), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("per_sample", help="a bench/comove.py --per-sample JSON")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    src = json.load(open(args.per_sample))
    seg = SceneSegmenter.load(src["segmenter"])
    valid = [r for r in src["per_sample"] if r["skipped"] is None]
    buckets: dict[str, dict[str, list]] = {"class": defaultdict(list), "direction": defaultdict(list),
                                            "class_and_axis": defaultdict(list), "shared": defaultdict(list),
                                            "class_and_shared": defaultdict(list)}
    for r in valid:
        cls = seg.classes[r["object_class"]] if r.get("object_class") is not None else "?"
        d = direction(r["p"])
        buckets["class"][cls].append(r)
        buckets["direction"][d].append(r)
        buckets["class_and_axis"][f"{cls}, {'vertical' if d in ('up', 'down') else 'horizontal'}"].append(r)
        buckets["shared"]["shared" if r.get("shared") else "alone"].append(r)
        buckets["class_and_shared"][f"{cls}, {'shared' if r.get('shared') else 'alone'}"].append(r)
    out = {"source": args.per_sample, "model": src.get("source"), "segmenter": src["segmenter"], "n": src["n"],
           "all": summarise(valid),
           **{name: {k: summarise(v) for k, v in sorted(b.items(), key=lambda kv: -len(kv[1]))}
              for name, b in buckets.items()}}
    report(out, args.json)


if __name__ == "__main__":
    main()
