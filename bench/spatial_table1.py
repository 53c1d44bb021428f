"""SpatialGAN Table I analogue on procedural rooms: one fine-tune per row at equal kimg, then
Co-move Ratio (n samples) and fd_effnet for each.

Every row starts from the same generator (default: the bundled 60-minute ``rooms-stylegan2``,
D from scratch) and trains for the same number of images, so the rows differ only by the
method's configuration: the paper's ablation (TPAMI Tab. I) plus our paired discriminator.

    python bench/spatial_table1.py --data data/rooms64 --runs runs/table1 --kimg 10 --n 2000 \\
        --json bench/results/spatial_table1.json [--rows baseline,conference,...] [--threads 1]

A row whose run already reached ``--kimg`` is not retrained (the trainer resumes and stops).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _runs import earlier_rows, reject_unknown, thread_env, train_and_measure, write_json

# (label, method, options): TPAMI Tab. I rows, then ours.
ALIGN_EVERY = 4           # lazy alignment (scaled by 4), as the bundled models; the paper: every step
ROWS = {
    "baseline": ("StyleGAN2 baseline (no heatmap)", "stylegan2", {}),
    "conference": ("conference: hierarchical + SEL_norm + L_align", "spatial",
                   {"sampling": "hierarchical", "sel": "norm", "align": "standard", "align_interval": ALIGN_EVERY}),
    "multi": ("+ multi-object sampling", "spatial",
              {"sampling": "multi", "sel": "norm", "align": "standard", "align_interval": ALIGN_EVERY}),
    "sel_indoor": ("+ SEL_indoor", "spatial",
                   {"sampling": "multi", "sel": "indoor", "align": "standard", "align_interval": ALIGN_EVERY}),
    "align_indoor": ("+ L_align_indoor (full journal model)", "spatial",
                     {"sampling": "multi", "sel": "indoor", "align": "indoor", "align_interval": ALIGN_EVERY}),
    "paired": ("ours: SEL_indoor + paired D on instance layouts (no L_align)", "spatial",
               {"sampling": "multi", "sel": "indoor", "align": "none", "paired": True, "n_objects": 4}),
    "segmenter": ("ours: SEL_indoor_norm + L_align with a segmenter (prior layouts, plain D)", "spatial",
                  {"sampling": "multi", "sel": "indoor_norm", "align": "segmenter", "align_interval": 2}),
    "ours": ("ours: SEL_indoor_norm + segmenter L_align + paired D (the bundled rooms)", "spatial",
             {"sampling": "multi", "sel": "indoor_norm", "align": "segmenter", "align_interval": 2,
              "paired": True, "n_objects": 4}),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--runs", required=True, help="one run directory per row is made under it")
    ap.add_argument("--init-from", default="rooms-stylegan2")
    ap.add_argument("--kimg", type=float, default=10.0)
    ap.add_argument("--n", type=int, default=2000, help="Co-move samples per row")
    ap.add_argument("--fd-n", type=int, default=1000, help="fd_effnet samples per row (0: skip)")
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    if reject_unknown("rows", rows, ROWS):
        return 2
    env = thread_env(args.threads)
    out = {"data": args.data, "init_from": args.init_from, "kimg": args.kimg, "n": args.n,
           "threads": args.threads, "align_interval": ALIGN_EVERY, "rows": earlier_rows(args.json, "row", rows)}
    for key in rows:
        label, method, opts = ROWS[key]
        run_dir = Path(args.runs) / key
        print(f"[{key}] {label}", file=sys.stderr, flush=True)
        row = {"row": key, "label": label, **train_and_measure(
            run_dir, args.data, method, opts, args.init_from, args.kimg, env,
            comove_n=args.n, fd_n=args.fd_n)}
        out["rows"].append(row)
        write_json(args.json, out)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
