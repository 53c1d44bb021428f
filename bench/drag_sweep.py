"""Which drag settings make the content follow the handle? (issue 16, item 1)

    OMP_NUM_THREADS=1 python bench/drag_sweep.py --model rooms --n 12 \
        --settings "base" "lr=0.01" "feature_res=64" "n_ws=4" \
        --json bench/results/drag_sweep_rooms.json

Runs the same ``n`` drags (sampled as ``bench/drag_table.py`` does: a handle on an object found
by the segmenter, a uniform direction, ``--fraction`` of the image) once per setting and
judges each drag by where the *content* went, from the pixels before and after
(``steergan.metrics.drag_content``), not by the drag's own point tracker.

A setting is ``base`` (the ``--mode`` defaults of ``DragOptions``, printed in the JSON) or
``key=value[,key=value...]`` overriding ``DragOptions`` fields (``lr``, ``feature_res``,
``n_ws``, ``r1``, ``r2``, ``lambda_mask``, ``max_steps``, ``tolerance``, ``lost_error``,
``patience``, ``mode``, ...; ``none`` for None), plus the sweep's own ``mask=R``: a movable
mask, the capsule of radius ``R`` px around the segment from handle to target (DragGAN's "keep
the rest fixed" term, weight ``lambda_mask``, acts only with a mask; the bench drags have none).
And ``truncation=T``: the drag starts from the seed's latent truncated to ``T`` (DragGAN's demos
use 0.7), which changes the start image; content is measured against that image.

Per setting: ``content_progress`` median and mean (1 = the content under the handle went all the
way), the share of drags whose content ended within 2 px of the target, mean ``scene_change``
(share of far pixels that changed visibly), the tracker's final distance (px) and its "reached"
share, the share stopped as lost, optimisation steps and seconds (means). ``per_drag`` keeps the
per-drag numbers.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import fields, replace

import torch
from _timing import report
from drag_table import sample_drags

from steergan.edit.drag import DragOptions, DragSession, initial_state
from steergan.metrics.drag_content import drag_content, near_drag_mask
from steergan.metrics.segmenter import load_segmenter
from steergan.methods.state import render_state
from steergan.models import load_model, to_uint8

FIELDS = {f.name: f for f in fields(DragOptions)}


def parse_setting(spec: str, base: DragOptions) -> tuple[DragOptions, float, float]:
    """``base`` or ``k=v,...`` -> (options, mask radius in px or 0, truncation)."""
    if spec == "base":
        return base, 0.0, 1.0
    kw, mask, trunc = {}, 0.0, 1.0
    for part in spec.split(","):
        k, v = part.split("=", 1)
        k, v = k.strip(), v.strip()
        if k == "mask":
            mask = float(v)
        elif k == "truncation":     # the start latent (DragGAN's demos start at 0.7); changes the image
            trunc = float(v)
        elif k not in FIELDS:
            raise SystemExit(f"error: unknown drag option {k!r} in {spec!r}")
        elif v.lower() == "none":
            kw[k] = None
        elif k == "mode":
            kw[k] = v
        else:
            kw[k] = int(v) if k in ("max_steps", "n_ws", "feature_res", "patience", "coarse_steps", "subpixel") else float(v)
    return replace(base, **kw), mask, trunc


def run_setting(model, drags, fraction, opts, mask_r, befores, truncation=1.0):
    R = model.resolution
    per = []
    for (seed, handle, targets), before in zip(drags, befores):
        target = targets[fraction]
        mask = near_drag_mask(R, handle, target, mask_r) if mask_r > 0 else None
        start = initial_state(model, seed, truncation)
        if truncation != 1.0:          # the start image itself changed
            before = to_uint8(render_state(model, start))[0]
        s = DragSession(model, start, [handle], [target], mask=mask, options=opts)
        summ = s.run()
        c = drag_content(before, s.image(), handle, target)
        per.append({"seed": seed, "handle": handle, "target": target,
                    "steps": summ["optimisation_steps"], "seconds": round(summ["seconds"], 3),
                    "tracker_px": round(summ["distance"] * R, 2), "tracker_reached": summ["reached"],
                    "lost": summ["lost"], "content_progress": round(c["content_progress"], 3),
                    "content_end_px": round(c["content_end_distance"], 2), "ncc": round(c["ncc"], 3),
                    "scene_change": round(c["scene_change"], 3)})
    prog = [p["content_progress"] for p in per]
    n = len(per)
    mean = lambda k: statistics.fmean(p[k] for p in per)
    return {"content_progress_median": round(statistics.median(prog), 3),
            "content_progress_mean": round(statistics.fmean(prog), 3),
            "content_within_2px": round(sum(p["content_end_px"] <= 2 for p in per) / n, 3),
            "content_end_px_mean": round(mean("content_end_px"), 2),
            "scene_change_mean": round(mean("scene_change"), 3),
            "tracker_px_mean": round(mean("tracker_px"), 2),
            "tracker_reached": round(sum(p["tracker_reached"] for p in per) / n, 3),
            "lost": round(sum(p["lost"] for p in per) / n, 3),
            "steps_mean": round(mean("steps"), 1), "seconds_mean": round(mean("seconds"), 3),
            "per_drag": per}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--mode", default="drag", help="base mode of every setting (a setting may override it)")
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--fraction", type=float, default=0.125)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--segmenter", default=None)
    ap.add_argument("--settings", nargs="+", default=["base"])
    ap.add_argument("--json", default=None)
    ap.add_argument("--append", action="store_true", help="add rows to an existing --json file")
    args = ap.parse_args()

    m = load_model(args.model)
    seg = load_segmenter(args.segmenter or m.method.options().get("segmenter"))
    drags, skipped = sample_drags(m, seg, args.n, [args.fraction], args.seed)
    befores = [m.generate([s])[0] for s, _, _ in drags]
    base = DragOptions(mode=args.mode)
    DragSession(m, initial_state(m, drags[0][0]), [drags[0][1]], [drags[0][2][args.fraction]],
                options=replace(base, mode="drag", max_steps=3)).run()                     # warm-up
    res = {"model": m.source, "n": len(drags), "skipped": skipped, "fraction": args.fraction,
           "seed": args.seed, "base_options": base.to_dict(), "rows": []}
    if args.append and args.json:
        import json
        with open(args.json) as f:
            old = json.load(f)
        res["rows"] = old["rows"]
        res["earlier_provenance"] = old.get("earlier_provenance", []) + [old.get("provenance")]
    cols = ("content_progress_median", "content_progress_mean", "content_within_2px", "scene_change_mean",
            "tracker_px_mean", "lost", "steps_mean", "seconds_mean")
    print("setting | " + " ".join(cols), file=sys.stderr)
    for spec in args.settings:
        opts, mask_r, trunc = parse_setting(spec, base)
        t0 = time.perf_counter()
        row = run_setting(m, drags, args.fraction, opts, mask_r, befores, trunc)
        row = {"setting": spec, "mode": opts.mode, "options": opts.resolved(m).to_dict(), "mask_radius": mask_r,
               "truncation": trunc,
               "wall_s": round(time.perf_counter() - t0, 1), **row}
        res["rows"].append(row)
        print(f"{spec} | " + " ".join(str(row[c]) for c in cols), file=sys.stderr, flush=True)
    res["threads"] = torch.get_num_threads()
    report(res, args.json)


if __name__ == "__main__":
    main()
