"""Demo sheets for the LinkGAN and SemanticStyleGAN models (the spatial one is ``showcase``).

* link rows: the original, the link's axes resampled five times, and the mean change of
  those resamples (the link's region outlined): the change should stay inside the box;
* semantic rows: the original, its label map, a texture swap and a shape resample of the
  largest non-background class, then the image built up class by class.
"""
from __future__ import annotations

import torch

from ..methods.link.edits import link_spec, resampled_ws
from ..methods.link.spec import BoxRegion
from ..methods.semantic import edits as sem
from .difference import change_map, heat_image
from .semantic_views import label_image
from ..visual import tile


def link_rows(model, seeds, link: int = 0, n: int = 5, scale: int = 3):
    spec = link_spec(model)[link]
    rows = []
    for seed in seeds:
        ws, edited, _ = resampled_ws(model, seed, link, n)
        before = model.synthesize(ws)
        after = model.synthesize(edited)
        region = spec.region.mask(model.resolution)[0, 0] if isinstance(spec.region, BoxRegion) else None
        cols = [("original", tile(before, scale))]
        cols += [(f"resample {i}", tile(after[i:i + 1], scale)) for i in range(n)]
        cols.append(("mean change", heat_image(change_map(before, after), region=region, scale=scale)))
        rows.append((f"seed {seed}", cols))
    return rows


def semantic_rows(model, seeds, scale: int = 3):
    method = sem.check_model(model)
    rows = []
    for seed in seeds:
        ws = model.ws_from_seed(seed)
        out = sem.render(model, ws)
        lab = sem.labels(out)[0]
        area = torch.bincount(lab.flatten(), minlength=len(method.classes))
        area[0] = -1                                           # not the background
        k = int(area.argmax())
        name = method.classes[k]
        tex = sem.render(model, sem.swap_code(ws, model.ws_from_seed(seed + 5000), model, k, "texture")).image
        shp = sem.render(model, sem.resample_code(ws, model, k, "shape", seed=seed + 7000)).image
        built, _ = sem.build_up(model, ws)
        cols = [("original", tile(out.image, scale)),
                ("labels", label_image(lab, scale=scale)),
                (f"{name}: new texture", tile(tex, scale)),
                (f"{name}: new shape", tile(shp, scale))]
        step = max(1, len(built) // 4)
        cols += [(f"build-up {i + 1}", tile(built[i:i + 1], scale)) for i in range(0, len(built), step)][:4]
        rows.append((f"seed {seed}", cols))
    return rows
