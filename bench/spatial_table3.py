"""SpatialGAN Table III analogue: fd_effnet of the StyleGAN2 baseline vs SpatialGAN at equal
kimg, per dataset; plus the heatmap model's Co-move Ratio.

Both rows of a dataset fine-tune the same generator (default: the bundled ``rooms-stylegan2``,
D from scratch) for the same number of images. The SpatialGAN row is our steering
configuration for single-object data: hierarchical heatmaps with SEL_norm (the paper's
conference model), a paired D whose level-0 heatmap comes from the object's mask, and the
alignment with a segmenter (the bundled creatures segmenter, or the background-distance
"foreground" objectness for emoji on a plain canvas).

    steergan data make creatures --out data/creatures64 -n 20000
    steergan data emoji --category "Smileys & Emotion" --placement random --copies 8 --out data/emoji-faces
    python bench/spatial_table3.py --runs runs/table3 --kimg 40 --n 1000 \\
        --datasets creatures=data/creatures64,emoji=data/emoji-faces --json bench/results/spatial_table3.json

The rooms column is Table I's ``baseline`` and ``ours`` rows (``bench/spatial_table1.py``).
A run that already reached ``--kimg`` is not retrained (the trainer resumes and stops).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _runs import earlier_rows, reject_unknown, thread_env, train_and_measure, write_json

SEGMENTER = {"creatures": "creatures", "emoji": "foreground"}


def spatial_options(dataset: str) -> dict:
    return {"sampling": "hierarchical", "sel": "norm", "paired": True, "align": "segmenter",
            "segmenter": SEGMENTER[dataset], "align_interval": 2}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", required=True, help="NAME=PATH,... with NAME in " + ", ".join(SEGMENTER))
    ap.add_argument("--runs", required=True, help="run directories NAME-baseline and NAME-spatial go under it")
    ap.add_argument("--init-from", default="rooms-stylegan2")
    ap.add_argument("--kimg", type=float, default=40.0)
    ap.add_argument("--n", type=int, default=1000, help="Co-move samples of the SpatialGAN row")
    ap.add_argument("--fd-n", type=int, default=1000, help="fd_effnet samples per row")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    try:
        datasets = dict(item.split("=", 1) for item in args.datasets.split(",") if item.strip())
    except ValueError:
        print("error: --datasets expects NAME=PATH,...", file=sys.stderr)
        return 2
    if reject_unknown("datasets", datasets, SEGMENTER):
        return 2
    env = thread_env(args.threads)
    out = {"init_from": args.init_from, "kimg": args.kimg, "n": args.n, "fd_n": args.fd_n,
           "threads": args.threads, "rows": earlier_rows(args.json, "dataset", datasets)}
    for name, path in datasets.items():
        for row, method, opts in (("baseline", "stylegan2", {}), ("spatial", "spatial", spatial_options(name))):
            print(f"[{name} {row}]", file=sys.stderr, flush=True)
            res = train_and_measure(Path(args.runs) / f"{name}-{row}", path, method, opts, args.init_from,
                                    args.kimg, env, comove_n=args.n, fd_n=args.fd_n, segmenter=SEGMENTER[name])
            out["rows"].append({"dataset": name, "data": path, "row": row, **res})
            write_json(args.json, out)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
