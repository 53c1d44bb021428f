"""Metrics of SemanticStyleGAN models: how local a texture swap is, and how well the generated
masks agree with the generated images.

``texture_swap_locality(model, n)``: for seed i, one class k present in the generated label
map (at least ``min_area`` of the image, drawn at random) takes its texture code from seed
n + i; masked MSE (``metrics.locality``) inside class k's region (generated labels before
or after the swap) and outside it, and their ratio. Also per class. The issue's aim: the
outside change at most 5% of the inside change.

``mask_image_miou(model, segmenter, n)``: mean IoU between the generator's own label map
(argmax of its segmentation) and a segmenter's prediction on the generated image, over the
classes the two share by name (the bundled rooms segmenter for rooms models), averaged over
the classes the segmenter finds; pixels of unshared classes are left out.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from ..errors import UserError
from ..methods.semantic.edits import check_model, labels, render, swap_code
from ..models import to_uint8
from .locality import LocalityAccumulator
from .segmenter import confusion, scores_from_confusion


def _ws(model, seeds, truncation):
    return torch.cat([model.ws_from_seed(s, truncation) for s in seeds])


def texture_swap_locality(model, n: int = 200, seed: int = 0, truncation: float = 1.0, min_area: float = 0.01,
                          batch: int = 16, part: str = "texture", start_ws: Optional[torch.Tensor] = None) -> dict:
    """``start_ws``: W+ [N, L, D] to edit instead of seeds' (e.g. inverted images; n = N)."""
    method = check_model(model)
    if start_ws is not None:
        n = len(start_ws)
    if n < 1:
        raise UserError("--n must be at least 1")
    rng = np.random.default_rng(seed)
    total, per_class = LocalityAccumulator(), {}
    chosen = []
    for start in range(0, n, batch):
        seeds = list(range(seed * 1_000_000 + start, seed * 1_000_000 + min(n, start + batch)))
        ws = _ws(model, seeds, truncation) if start_ws is None else start_ws[start:start + len(seeds)].to(model.device)
        donors = _ws(model, [s + n for s in seeds], truncation)
        before = render(model, ws)
        lab_before = labels(before)
        picks = []
        for i in range(len(seeds)):
            area = torch.bincount(lab_before[i].flatten(), minlength=len(method.classes)).float()
            present = torch.nonzero(area / area.sum() >= min_area).flatten().tolist()
            picks.append(int(rng.choice(present)))
        edited = torch.cat([swap_code(ws[i:i + 1], donors[i:i + 1], model, k, part) for i, k in enumerate(picks)])
        after = render(model, edited)
        lab_after = labels(after)
        k = torch.tensor(picks, device=lab_before.device)[:, None, None]
        mask = (lab_before == k) | (lab_after == k)
        total.add(before.image, after.image, mask)
        for i, c in enumerate(picks):
            acc = per_class.setdefault(c, LocalityAccumulator())
            acc.add(before.image[i:i + 1], after.image[i:i + 1], mask[i:i + 1])
        chosen += picks
    result = total.result()
    result.update(part=part, n=n, min_area=min_area, truncation=truncation,
                  per_class={method.classes[c]: {**acc.result(), "n": chosen.count(c)}
                             for c, acc in sorted(per_class.items())})
    return result


def mask_image_miou(model, segmenter, n: int = 200, seed: int = 0, truncation: float = 1.0,
                    batch: int = 32) -> dict:
    method = check_model(model)
    shared = [c for c in method.classes if c in segmenter.classes]
    if not shared:
        raise UserError(f"the model's classes {method.classes} share no name with the segmenter's "
                        f"{segmenter.classes}")
    # both label maps -> ids in the shared list; other classes -> one "unshared" id that is not scored
    lut_model = torch.tensor([shared.index(c) if c in shared else len(shared) for c in method.classes])
    lut_seg = torch.tensor([shared.index(c) if c in shared else len(shared) for c in segmenter.classes])
    cm = np.zeros((len(shared) + 1, len(shared) + 1), np.int64)
    for start in range(0, n, batch):
        seeds = range(seed * 1_000_000 + start, seed * 1_000_000 + min(n, start + batch))
        out = render(model, _ws(model, seeds, truncation))
        mine = lut_model[labels(out).cpu()]
        theirs = lut_seg[segmenter.predict_semantic(to_uint8(out.image)).long()]
        cm += confusion(mine.numpy(), theirs.numpy(), len(shared) + 1)   # rows: the segmenter's labels
    scores = scores_from_confusion(cm[:-1, :-1], shared)
    return {"miou": scores["mean_iou"], "pixel_accuracy": scores["pixel_accuracy"], "iou": scores["iou"],
            "classes": shared, "n": n, "truncation": truncation}
