"""Table II analogue (SpatialGAN TPAMI Sec. 4.2): how fast a drag gets an object to its target.

    python bench/drag_table.py --model rooms --baseline rooms-stylegan2 --n 50 \
        --json bench/results/drag_table.json --gif bench/results/drag_example.gif

``n`` random drags per distance (1/8 and 1/4 of the image size), each run in every mode
(``drag`` = DragGAN alone, ``joint``, ``hybrid``, ``heatmap``) on the heatmap model, and in
``drag`` mode on the baseline. Per row: mean seconds (session start to stop, after one warm-up
drag), optimisation steps, and two kinds of result:

* the drag's own verdict, from its point tracker (``tracker_*``): final tracked-handle-to-target
  distance / image size (``tracker_distance_mean``/``_median``; ``tracker_distance_px_mean`` in
  pixels), the share the tracker called reached, and the handle feature error (see
  ``DragSession.handle_feature_error``). The tracker follows the generator's features and can
  call a drag reached whose content never moved (issue 16);
* independent of that tracker, from the pixels before and after the drag
  (``steergan.metrics.drag_content``: normalised cross-correlation of the image patch under the
  handle): ``content_progress_mean``/``_median`` (1 = the content went all the way to the
  target, 0 = it stayed), ``content_end_px_mean`` (where it ended, pixels from the target;
  ``content_end_px_subpixel_*`` the same match refined between pixels),
  ``content_within_2px`` (share ending within 2 px), ``scene_change_mean`` (share of pixels away
  from the drag that changed noticeably), and from the segmenter's instances before and after,
  ``object_progress_mean``/``_median`` (the centroid of the object under the handle; over the
  drags where it was found, ``object_found``);
* ``lost``: the share of drags the session stopped because tracking lost the content
  (``DragOptions.lost_error``; ``--lost-error 0`` disables it; lost drags count as not reached).

``per_drag`` in each row keeps those numbers drag by drag. Also the time of one step (with the
lost stop off). ``--coarse-steps K`` (ours) lets hybrid/heatmap repeat the Eq. 6 move up to K
times from the tracked handle; ``steps_total_mean`` counts those forward-only steps,
``steps_mean`` only the optimisation steps. (Result files written before issue 16 name the
tracker's columns ``distance_mean``/``distance_median``/``reached``.)

Drag ``j`` draws its latent seed, handle and direction from ``numpy.random.default_rng([seed, j])``:
handles lie on objects found by a segmenter (the one the model was aligned with, else rooms): on the heatmap model, the pixel of a
heatmap centre that lies on an object (drags without one are skipped and counted); on the
baseline, the object pixel nearest to a random object's centroid. Targets go in a uniform
direction, redrawn until both distances stay inside the image.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import replace

import numpy as np
import torch
from PIL import Image

from _timing import percentile_ms, report
from steergan.edit.animation import drag_frame, save_gif
from steergan.edit.coarse import to_pixels
from steergan.edit.drag import DragOptions, DragSession, initial_state
from steergan.metrics.drag_content import drag_content
from steergan.metrics.segmenter import load_segmenter
from steergan.models import load_model


def _direction(rng, handle, fractions, R, tries=100):
    for _ in range(tries):
        theta = rng.uniform(0, 2 * math.pi)
        d = np.array([math.cos(theta), math.sin(theta)])
        targets = [np.round(handle + d * f * R) for f in fractions]
        if all((0 <= t).all() and (t <= R - 1).all() for t in targets):
            return [t.tolist() for t in targets]
    return None


def sample_drags(model, segmenter, n, fractions, seed, max_tries_per_drag=50):
    """[(latent seed, handle, {fraction: target})] and skip counts (see the module docstring)."""
    R = model.resolution
    drags, skipped, j = [], {"no_centre_on_object": 0, "no_object": 0, "no_room": 0}, 0
    while len(drags) < n and j < n * max_tries_per_drag:
        rng = np.random.default_rng([seed, j])
        j += 1
        latent_seed = int(rng.integers(0, 2 ** 31 - 1))
        state = initial_state(model, latent_seed)
        inst = np.asarray(segmenter.segment(model.generate([latent_seed]))[0].instances)
        if state.heatmaps is not None:
            hm = state.heatmaps
            px = to_pixels(hm.centres[0], R).round().long().tolist()
            cands = [(x, y) for i, (x, y) in enumerate(px)
                     if bool(hm.active[0, i]) and 0 <= x < R and 0 <= y < R and inst[y, x] > 0]
            if not cands:
                skipped["no_centre_on_object"] += 1
                continue
            handle = np.array(cands[int(rng.integers(len(cands)))], dtype=np.float64)
        else:
            ids = [k for k in np.unique(inst) if k > 0]
            if not ids:
                skipped["no_object"] += 1
                continue
            ys, xs = np.nonzero(inst == ids[int(rng.integers(len(ids)))])
            k = int(np.argmin((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2))
            handle = np.array([xs[k], ys[k]], dtype=np.float64)
        targets = _direction(rng, handle, fractions, R)
        if targets is None:
            skipped["no_room"] += 1
            continue
        drags.append((latent_seed, handle.tolist(), dict(zip(fractions, targets))))
    return drags, skipped


def _r(v, k=3):
    return None if v is None else round(float(v), k)


def run_row(model, drags, fraction, opts, progress, segmenter):
    rows, per = [], []
    for k, (seed, handle, targets) in enumerate(drags):
        target = targets[fraction]
        s = DragSession(model, initial_state(model, seed), [handle], [target], options=opts)
        before = s.image()
        summary = s.run()
        after = s.image()
        seg = segmenter.segment(torch.stack([before, after]))
        c = drag_content(before, after, handle, target,
                         instances_before=seg[0].instances, instances_after=seg[1].instances)
        rows.append((summary, c))
        per.append({"seed": seed, "handle": handle, "target": target, "steps": summary["steps"],
                    "lost": summary["lost"], "tracker_reached": summary["reached"],
                    "tracker_distance_px": _r(summary["distance"] * model.resolution, 2),
                    "handle_feature_error": _r(summary["handle_feature_error"]),
                    "content_end": c["content_end"], "content_progress": _r(c["content_progress"]),
                    "content_end_px": _r(c["content_end_distance"], 2),
                    "content_end_px_subpixel": _r(c["content_end_distance_subpixel"], 2), "ncc": _r(c["ncc"]),
                    "scene_change": _r(c["scene_change"]), "object_progress": _r(c.get("object_progress"))})
        progress(k + 1, len(drags))
    n = len(rows)
    steps = [r["optimisation_steps"] for r, _ in rows]
    tracker = [r["distance"] for r, _ in rows]
    prog = [c["content_progress"] for _, c in rows]
    end = [c["content_end_distance"] for _, c in rows]
    fine = [c["content_end_distance_subpixel"] for _, c in rows]
    obj = [c["object_progress"] for _, c in rows if c.get("object_found")]
    return {"mode": opts.mode, "fraction": fraction, "n": n,
            "seconds_mean": round(statistics.fmean(r["seconds"] for r, _ in rows), 3),
            "steps_mean": round(statistics.fmean(steps), 1), "steps_median": statistics.median(steps),
            "steps_min": min(steps), "steps_max": max(steps),
            "steps_total_mean": round(statistics.fmean(r["steps"] for r, _ in rows), 1),   # + coarse steps
            # the drag's own point tracker
            "tracker_distance_mean": round(statistics.fmean(tracker), 4),
            "tracker_distance_median": round(statistics.median(tracker), 4),
            "tracker_distance_px_mean": round(statistics.fmean(tracker) * model.resolution, 2),
            "tracker_reached": round(sum(r["reached"] for r, _ in rows) / n, 3),
            "stalled": round(sum(r["stalled"] for r, _ in rows) / n, 3),
            "lost": round(sum(r["lost"] for r, _ in rows) / n, 3),
            "handle_feature_error_mean": round(statistics.fmean(r["handle_feature_error"] for r, _ in rows), 3),
            # independent of the tracker: pixels (and the segmenter) before vs after
            "content_progress_mean": round(statistics.fmean(prog), 3),
            "content_progress_median": round(statistics.median(prog), 3),
            "content_end_px_mean": round(statistics.fmean(end), 2),
            "content_end_px_median": round(statistics.median(end), 2),
            "content_within_2px": round(sum(e <= 2 for e in end) / n, 3),
            # the same patch match refined between pixels (targets are rarely on the grid)
            "content_end_px_subpixel_mean": round(statistics.fmean(fine), 2),
            "content_end_px_subpixel_median": round(statistics.median(fine), 2),
            "scene_change_mean": round(statistics.fmean(c["scene_change"] for _, c in rows), 3),
            "object_found": round(len(obj) / n, 3),
            "object_progress_mean": round(statistics.fmean(obj), 3) if obj else None,
            "object_progress_median": round(statistics.median(obj), 3) if obj else None,
            "per_drag": per}


def step_ms(model, drag, mode, opts, steps=20):
    """p50 / p95 of one optimisation step (the first, coarse step of hybrid excluded)."""
    seed, handle, targets = drag
    far = max(targets.values(), key=lambda t: math.dist(t, handle))
    s = DragSession(model, initial_state(model, seed), [handle], [far],
                    options=replace(opts, mode=mode, max_steps=steps, tolerance=1e-3, lost_error=0.0))
    times = []
    while not s.done:
        t0 = time.perf_counter()
        s.step()
        times.append(time.perf_counter() - t0)
    return {"p50_ms": percentile_ms(times, 0.5), "p95_ms": percentile_ms(times, 0.95), "steps": len(times)}


def example_gif(model, drag, fraction, opts, path, scale=3):
    """DragGAN alone (left) and the hybrid (right) on the same drag, one frame per step."""
    seed, handle, targets = drag
    panels = []
    for mode in ("drag", "hybrid"):
        s = DragSession(model, initial_state(model, seed), [handle], [targets[fraction]],
                        options=replace(opts, mode=mode))
        frames = [drag_frame(s.image(), s.handles, s.targets, scale)]
        s.run(lambda info: frames.append(drag_frame(s.image(), info["handles"], s.targets, scale)))
        panels.append(frames)
    n = max(len(p) for p in panels)
    w, h = panels[0][0].size
    out = []
    for k in range(n):
        im = Image.new("RGB", (2 * w + 4, h), (255, 255, 255))
        for c, p in enumerate(panels):
            im.paste(p[min(k, len(p) - 1)], (c * (w + 4), 0))
        out.append(im)
    save_gif(out, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--baseline", default="rooms-stylegan2", help="'' to skip the baseline row")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--fractions", default="0.125,0.25")
    ap.add_argument("--modes", default="drag,joint,hybrid,heatmap")
    ap.add_argument("--max-steps", type=int, default=200)
    ap.add_argument("--coarse-steps", type=int, default=DragOptions.coarse_steps,
                    help="Eq. 6 steps of hybrid/heatmap (ours: >1 repeats it from the tracked handle)")
    ap.add_argument("--coarse-alpha", type=float, default=DragOptions.coarse_alpha)
    ap.add_argument("--patience", type=int, default=DragOptions.patience,
                    help="stop a drag after this many steps without progress (0 = only the cap)")
    ap.add_argument("--lost-error", type=float, default=DragOptions.lost_error,
                    help="stop a drag as lost above this handle feature error (0 = never)")
    ap.add_argument("--tolerance", type=float, default=DragOptions.tolerance,
                    help="pixels: a drag stops when its tracker puts every handle this close to its target")
    ap.add_argument("--track-res", type=int, default=DragOptions.track_res,
                    help="generator block the tracker reads (default: the motion supervision's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--segmenter", default=None, help="finds the objects to drag (default: the one the model "
                    "was aligned with, else the bundled rooms segmenter)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--gif", default=None)
    args = ap.parse_args()
    fractions = [float(f) for f in args.fractions.split(",")]
    opts = replace(DragOptions(), max_steps=args.max_steps, coarse_steps=args.coarse_steps,
                   coarse_alpha=args.coarse_alpha, patience=args.patience, lost_error=args.lost_error,
                   tolerance=args.tolerance, track_res=args.track_res)

    def progress(what):
        return lambda k, n: print(f"\r{what}: {k}/{n}", end="\n" if k == n else "", file=sys.stderr, flush=True)

    res = {"n": args.n, "fractions": fractions, "seed": args.seed, "threads": torch.get_num_threads(),
           "options": opts.to_dict(), "models": {}, "rows": [], "step_ms": {}}
    for name, modes in ((args.model, args.modes.split(",")), (args.baseline, ["drag"])):
        if not name:
            continue
        m = load_model(name)
        segmenter = load_segmenter(args.segmenter or m.method.options().get("segmenter"))   # the model's, else rooms
        if not hasattr(segmenter, "segment"):
            print(f"error: {name}: drags need a scene segmenter (rooms, creatures or a file)", file=sys.stderr)
            raise SystemExit(2)
        drags, skipped = sample_drags(m, segmenter, args.n, fractions, args.seed)
        res["models"][m.source] = {"method": m.method.name, "drags": len(drags), "skipped": skipped}
        if not drags:
            continue
        heat = "heatmap_move" in m.capabilities
        modes = [md for md in modes if heat or md == "drag"]
        DragSession(m, initial_state(m, drags[0][0]), [drags[0][1]], [drags[0][2][fractions[0]]],
                    options=replace(opts, mode="drag", max_steps=3)).run()          # warm-up
        for fraction in fractions:
            for mode in modes:
                row = run_row(m, drags, fraction, replace(opts, mode=mode), progress(f"{name} {mode} {fraction}"),
                              segmenter)
                res["rows"].append({"model": m.source, **row})
        for mode in [md for md in modes if md in ("drag", "joint")]:
            res["step_ms"][f"{m.source} {mode}"] = step_ms(m, drags[0], mode, opts)
        if args.gif and heat:
            example_gif(m, drags[0], fractions[0], opts, args.gif)
    cols = ("tracker_distance_px_mean", "tracker_reached", "lost", "content_progress_mean",
            "content_progress_median", "content_end_px_mean", "content_within_2px", "scene_change_mean")
    print("model mode fraction | " + " ".join(cols), file=sys.stderr)
    for r in res["rows"]:
        print(f"{r['model']} {r['mode']} {r['fraction']} | " + " ".join(str(r[c]) for c in cols), file=sys.stderr)
    report(res, args.json)


if __name__ == "__main__":
    main()
