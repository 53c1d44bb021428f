"""``steergan eval --metric locality | miou`` for SemanticStyleGAN models (called by ``cli.eval``)."""
from __future__ import annotations

import time

from .common import emit


def evaluate_semantic(metric: str, m, n: int, truncation: float, segmenter, as_json: bool) -> None:
    from ..metrics.semantic import mask_image_miou, texture_swap_locality
    t0 = time.time()
    if metric == "locality":
        r = texture_swap_locality(m, n, truncation=truncation)
        r.update(metric="texture_swap_locality", model=m.source, seconds=round(time.time() - t0, 1))
        emit(r, as_json, [f"texture swap: masked MSE inside {r['inside'] * 1e3:.2f}e-3, outside "
                          f"{r['outside'] * 1e3:.2f}e-3, ratio outside/inside {r['ratio']:.3f} (n={n})"])
        return
    from ..metrics import SceneSegmenter
    r = mask_image_miou(m, SceneSegmenter.load(segmenter), n, truncation=truncation)
    r.update(metric="mask_image_miou", model=m.source, seconds=round(time.time() - t0, 1))
    emit(r, as_json, [f"mIoU(generated mask, segmenter on generated image) = {r['miou']:.3f}, "
                      f"pixel accuracy {r['pixel_accuracy']:.3f} (n={n})"])
