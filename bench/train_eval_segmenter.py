"""Train a second, evaluation-only scene segmenter: the bundled one is what SpatialGAN's
segmenter alignment (and SemanticStyleGAN's ``consistency`` term) train against, so a figure
read with it (Co-move, mask/image mIoU) can be lowered by the training itself. This one has
its own width, seed and render seed and is read by no training loss; it lives in
``bench/results``, not in the package, so no training code can reach it.

    python bench/train_eval_segmenter.py --kind rooms --minutes 10 \
        --out bench/results/eval_segmenter_rooms.safetensors --json bench/results/eval_segmenter_rooms.json
"""
from __future__ import annotations

import argparse

from _timing import report
from steergan.metrics.segmenter import SceneSegmenter, evaluate_segmenter

RENDER_SEED = 5          # no training set, the hold-out sets (1) or the judge (7) use it


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", default="rooms")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--width", type=int, default=24, help="the bundled segmenters use 16")
    ap.add_argument("--renders", type=int, default=3000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    seg = SceneSegmenter.train(a.kind, n=a.renders, steps=100_000, seed=RENDER_SEED, width=a.width,
                               time_limit=a.minutes * 60, log=None)
    seg.save(a.out)
    held_out = evaluate_segmenter(seg, n=200, seed=1)
    bundled = evaluate_segmenter(SceneSegmenter.load(a.kind), n=200, seed=1)
    report({"segmenter": a.out, "kind": a.kind, "trained": seg.meta["trained"],
            "held_out_seed1": held_out, "bundled_on_the_same_renders": bundled}, a.json)


if __name__ == "__main__":
    main()
