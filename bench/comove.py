"""Co-move Ratio of a heatmap model (SpatialGAN TPAMI Sec. 4.2, Tab. I): 1 = objects follow their
heatmap exactly, 0 = they do not move. See ``steergan.metrics.comove`` for the protocol.

    python bench/comove.py --model PATH_OR_NAME --n 2000 \
        [--segmenter steergan/assets/segmenter_rooms.safetensors] [--seed 0] [--max-shift 0.25] \
        [--json out.json] [--per-sample]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import torch

from steergan.errors import UserError
from steergan.metrics.comove import co_move_ratio
from steergan.metrics.segmenter import ASSETS, SceneSegmenter
from steergan.models import load_model

from _timing import provenance


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="bundled model name, generator .safetensors or checkpoint")
    ap.add_argument("--n", type=int, default=2000, help="samples (the paper averages 50k)")
    ap.add_argument("--segmenter", default=str(ASSETS / "segmenter_rooms.safetensors"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-shift", type=float, default=0.25, help="largest move, fraction of the image size")
    ap.add_argument("--min-shift", type=float, default=0.1, help="smallest move, fraction of the image size")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--truncation", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--per-sample", action="store_true", help="include every sample in the JSON")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model = load_model(args.model, device=args.device)
        seg = SceneSegmenter.load(args.segmenter)
        t0, last = time.perf_counter(), [0.0]

        def progress(done, total):
            now = time.perf_counter()
            if now - last[0] > 10 or done == total:
                last[0] = now
                print(f"  {done}/{total} samples ({now - t0:.0f}s)", file=sys.stderr, flush=True)

        res = co_move_ratio(model, args.n, seg, seed=args.seed, max_shift=args.max_shift, min_shift=args.min_shift,
                            batch=args.batch, truncation=args.truncation, per_sample=args.per_sample,
                            progress=progress)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    res = {"model": args.model, "source": model.source, "segmenter": args.segmenter,
           "segmenter_kind": seg.kind, "seconds": round(time.perf_counter() - t0, 1), **res}
    fmt = lambda v: "nan" if math.isnan(v) else f"{v:.3f}"  # noqa: E731
    print(f"Co-move Ratio {fmt(res['mean'])} (median {fmt(res['median'])}, std {fmt(res['std'])}) "
          f"over {res['n_valid']}/{res['n']} samples; skipped: "
          + (", ".join(f"{k} {v}" for k, v in res["skipped"].items() if v) or "none"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**res, "provenance": provenance()}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
