"""`creatures`: one object with hierarchical parts (a head with ears, eyes, a mouth).

The head's position, size, aspect and rotation (pose) vary; every part is placed in the
head's own frame, so parts follow the pose the way a cat's or a person's features do.
Parts record the head as their parent, which is the hierarchy SpatialGAN's heatmaps model.
"""
from __future__ import annotations

import numpy as np

from .canvas import Canvas, hsv, rotate, value_noise
from .sample import SceneSample, finalize

CLASSES = ["background", "head", "ear", "eye", "mouth"]
CID = {name: i for i, name in enumerate(CLASSES)}


def _to_image(cx, cy, angle, u, v):
    """Head frame (u right, v down, head radius units already applied) -> image coords."""
    du, dv = rotate(np.float32(u), np.float32(v), -angle)
    return cx + du, cy + dv


def _paint_background(cv: Canvas, rng: np.random.Generator) -> None:
    r = cv.full()
    h = rng.random()
    top = hsv(h, rng.uniform(0.15, 0.5), rng.uniform(0.55, 0.95))
    bottom = hsv(h + rng.uniform(-0.15, 0.15), rng.uniform(0.2, 0.6), rng.uniform(0.35, 0.8))
    t = np.broadcast_to(r.y, r.shape)[..., None]
    r.rgb[...] = top * (1 - t) + bottom * t
    if rng.random() < 0.5:  # soft texture on some backgrounds
        noise = value_noise(rng, cv.n, cv.n, int(rng.integers(3, 8)))
        r.rgb[...] *= (0.85 + 0.3 * noise)[..., None]


def render_creatures(index: int, resolution: int, seed: int, supersample: int = 2) -> SceneSample:
    rng = np.random.default_rng([seed, index, 2])
    cv = Canvas(resolution, supersample)
    _paint_background(cv, rng)

    # Pose of the head: position, size, aspect, in-plane rotation.
    rx = rng.uniform(0.17, 0.30)
    ry = rx * rng.uniform(0.8, 1.15)
    cx = rng.uniform(0.3, 0.7)
    cy = rng.uniform(0.35, 0.7)
    angle = rng.normal(0.0, 0.25)
    fur = hsv(rng.random(), rng.uniform(0.2, 0.75), rng.uniform(0.35, 0.95))
    inner = np.clip(fur * rng.uniform(0.6, 1.3), 0, 1)
    specs, iid = [], 0

    def add(cls, parent):
        nonlocal iid
        iid += 1
        specs.append({"id": iid, "class": cls, "class_id": CID[cls], "parent": parent, "depth": len(specs)})
        return iid

    # Ears first (behind the head): triangles (cat-like) or round (bear/human-like).
    pointy = rng.random() < 0.6
    ear_size = rng.uniform(0.45, 0.8)
    ear_spread = rng.uniform(0.45, 0.8)
    ear_ids = []
    for side in (-1, 1):
        e = add("ear", None)
        ear_ids.append(e)
        bu, bv = side * ear_spread * rx, -0.75 * ry
        if pointy:
            tip = _to_image(cx, cy, angle, bu + side * 0.25 * rx * ear_size, bv - ear_size * ry * 0.9)
            b1 = _to_image(cx, cy, angle, bu - 0.35 * rx * ear_size, bv + 0.2 * ry)
            b2 = _to_image(cx, cy, angle, bu + 0.35 * rx * ear_size, bv + 0.2 * ry)
            cv.poly([tip, b1, b2], fur, CID["ear"], e)
        else:
            ex, ey = _to_image(cx, cy, angle, bu * 1.1, bv)
            cv.ellipse(ex, ey, 0.35 * rx * ear_size + 0.02, 0.35 * rx * ear_size + 0.02, fur, CID["ear"], e, angle)
    head = add("head", None)
    for s in specs:
        if s["class"] == "ear":
            s["parent"] = head
    shade = lambda x, y: fur * (1.05 - 0.35 * np.clip((y - (cy - ry)) / (2 * ry), 0, 1))[..., None]  # noqa: E731
    cv.ellipse(cx, cy, rx, ry, shade, CID["head"], head, angle)
    # Re-order so the head is listed before its parts (instance ids stay painter ids).
    specs.sort(key=lambda s: (s["class"] != "head", s["depth"]))

    # Eyes: same height, symmetric about the head's axis, sclera + pupil in one part.
    eye_v = rng.uniform(-0.25, 0.05) * ry
    eye_u = rng.uniform(0.3, 0.5) * rx
    eye_r = rng.uniform(0.10, 0.18) * rx
    sclera = hsv(rng.uniform(0.1, 0.2), rng.uniform(0.0, 0.5), rng.uniform(0.85, 1.0))
    pupil = hsv(rng.random(), rng.uniform(0.3, 0.9), rng.uniform(0.05, 0.35))
    look = rng.uniform(-0.35, 0.35, size=2) * eye_r
    for side in (-1, 1):
        e = add("eye", head)
        ex, ey = _to_image(cx, cy, angle, side * eye_u, eye_v)
        cv.ellipse(ex, ey, eye_r, eye_r * rng.uniform(0.7, 1.1), sclera, CID["eye"], e, angle)
        cv.ellipse(ex + look[0], ey + look[1], eye_r * 0.55, eye_r * 0.55, pupil)   # pupil: same label

    # Mouth: an ellipse below the eyes, wide or small, open or closed.
    m = add("mouth", head)
    mu, mv = rng.normal(0, 0.04) * rx, rng.uniform(0.35, 0.6) * ry
    mx, my = _to_image(cx, cy, angle, mu, mv)
    mw, mh = rng.uniform(0.15, 0.4) * rx, rng.uniform(0.05, 0.2) * ry
    mouth_col = hsv(rng.uniform(-0.05, 0.05), rng.uniform(0.4, 0.8), rng.uniform(0.25, 0.6))
    cv.ellipse(mx, my, mw, mh, mouth_col, CID["mouth"], m, angle)
    if rng.random() < 0.5:  # a nose/snout highlight, part of the head
        nx, ny = _to_image(cx, cy, angle, 0.0, (eye_v + mv) / 2 + 0.05 * ry)
        cv.ellipse(nx, ny, 0.08 * rx, 0.06 * ry, inner * 0.7, CID["head"], head, angle)

    r = cv.full()
    cv.rgb *= (1.0 - 0.25 * ((r.x - 0.5) ** 2 + (r.y - 0.5) ** 2))[..., None]
    np.clip(cv.rgb, 0.0, 1.0, out=cv.rgb)
    return finalize(cv, specs)
