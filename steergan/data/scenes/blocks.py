"""`blocks`: a grey wall over a floor with one to three saturated red, green or blue objects.

A deliberately plain kind that no default was tuned on: issue 14's collapse case (a recipe
that drew one blob in every colour, then empty rooms) was found on data like this. Objects
are boxes, discs or triangles resting on the floor, in pure primaries at varied brightness.
"""
from __future__ import annotations

import numpy as np

from .canvas import Canvas, hsv
from .sample import SceneSample, finalize

CLASSES = ["background", "box", "disc", "triangle"]
PRIMARY_HUES = {"red": 0.0, "green": 1 / 3, "blue": 2 / 3}


def render_blocks(index: int, resolution: int, seed: int, supersample: int = 2) -> SceneSample:
    rng = np.random.default_rng([seed, index, 3])
    cv = Canvas(resolution, supersample)
    horizon = rng.uniform(0.45, 0.65)
    grey = rng.uniform(0.45, 0.75)
    cv.rect(0.0, 0.0, 1.0, horizon, np.full(3, grey, np.float32))
    cv.rect(0.0, horizon, 1.0, 1.0, np.full(3, grey * rng.uniform(0.5, 0.8), np.float32))
    specs = []
    n = int(rng.integers(1, 4))
    xs, bases = rng.uniform(0.15, 0.85, size=n), rng.uniform(horizon + 0.05, 0.95, size=n)
    for depth, k in enumerate(np.argsort(bases)):      # resting on the floor: lower = nearer, drawn later
        x, base = xs[k], bases[k]
        shape = CLASSES[int(rng.integers(1, 4))]
        colour = hsv(PRIMARY_HUES[rng.choice(list(PRIMARY_HUES))], rng.uniform(0.8, 1.0), rng.uniform(0.6, 1.0))
        size = rng.uniform(0.08, 0.16)
        iid = depth + 1
        if shape == "box":
            cv.rect(x - size, base - 2 * size * rng.uniform(0.6, 1.0), x + size, base, colour, 1, iid)
        elif shape == "disc":
            cv.ellipse(x, base - size, size, size, colour, 2, iid)
        else:
            cv.poly([(x, base - 2 * size), (x - size, base), (x + size, base)], colour, 3, iid)
        specs.append({"id": iid, "class": shape, "class_id": CLASSES.index(shape), "parent": None, "depth": depth})
    np.clip(cv.rgb, 0.0, 1.0, out=cv.rgb)
    return finalize(cv, specs)
