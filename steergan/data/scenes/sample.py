"""The sample type and the step that turns a painted canvas into ground truth.

Boxes and centres are measured on the final (output-resolution) instance mask,
never on the scene description, so the JSON always agrees with the masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SceneSample:
    """One rendered scene.

    image: uint8 HxWx3. semantic: uint8 HxW class ids. instances: uint8 HxW
    (0 = none, k = object with "instance": k). objects: JSON-able list of dicts
    with keys instance, class, class_id, box [x0, y0, x1, y1] (pixels,
    end-exclusive), centre [x, y] (mean of visible pixel centres, i.e. col+0.5 /
    row+0.5), parent (instance id or None), depth (painter order: 0 = drawn
    first / farthest back; higher values may occlude lower ones).
    """

    image: np.ndarray
    semantic: np.ndarray
    instances: np.ndarray
    objects: list = field(default_factory=list)


def min_pixels(resolution: int) -> int:
    # "Visible" means a few pixels at 64 px, scaled with the image area.
    return max(4, round(4 * (resolution / 64) ** 2))


def finalize(canvas, specs: list[dict]) -> SceneSample:
    """specs: [{"id": painted inst value, "class": name, "class_id": int,
    "parent": painted id or None, "depth": int}] -> SceneSample with
    invisible objects dropped and instances renumbered 1..K in spec order."""
    image, semantic, inst = canvas.finish()
    counts = np.bincount(inst.ravel(), minlength=256)
    keep = [s for s in specs if counts[s["id"]] >= min_pixels(canvas.res)]
    lut = np.zeros(256, np.uint8)   # painted id -> final id; dropped ids -> 0
    for k, s in enumerate(keep, 1):
        lut[s["id"]] = k
    inst = lut[inst]
    objects = []
    for k, s in enumerate(keep, 1):
        ys, xs = np.nonzero(inst == k)
        parent = s.get("parent")
        objects.append({
            "instance": k,
            "class": s["class"],
            "class_id": int(s["class_id"]),
            "box": [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1],
            "centre": [round(float(xs.mean()) + 0.5, 3), round(float(ys.mean()) + 0.5, 3)],
            "parent": int(lut[parent]) if parent is not None and lut[parent] else None,
            "depth": int(s["depth"]),
        })
    return SceneSample(image, semantic, inst, objects)
