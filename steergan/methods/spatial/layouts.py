"""Object layouts read off instance masks: the real side of the paired discriminator.

A *layout* is one image's objects as Gaussian heatmap parameters: per object its centre
(the mean of its visible pixels, in the package's normalised coordinates, see
``heatmaps``) and sigma (the RMS distance of its pixels from that centre along one axis,
so the Gaussian covers the object the way a 1-sigma ellipse covers a blob), plus which of
the K slots hold an object. With ``SpatialGAN(paired=True)`` the trainer renders the real
images' layouts as D's extra input channel and G draws its heatmaps from the same
layouts, so D can only be fooled by putting the objects where the heatmap says.

Layouts are plain nested lists ``[[x, y, sigma], ...]`` when stored in a model's JSON
config (a few hundred of them), so generating from a trained model needs no data.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from ...errors import UserError
from .heatmaps import HIERARCHICAL, MULTI, Heatmaps

SIGMA_RANGE = (0.04, 0.6)     # normalised units; a 1-pixel object at 64 px has sigma ~0.01
STORED_LAYOUTS = 256          # kept in the model's config for sampling without data
D_PLANES = ("sum", "objects")  # what the paired D sees of the heatmaps (heatmap_channel / object_planes)
EMPTY_SIGMA = 0.15            # an empty slot: restoring it in the editor adds a mid-sized object
                              # (an inactive slot never reaches the image)


def empty_centres(k: int) -> torch.Tensor:
    """Where the K slots sit while empty: spread along the lower third (not stacked at the image
    centre, where the editor would draw them on top of each other), [K, 2]."""
    x = torch.linspace(-0.6, 0.6, k) if k > 1 else torch.zeros(1)
    return torch.stack([x, torch.full((k,), 0.5)], -1)


def layouts_from_instances(instances: torch.Tensor, max_objects: int,
                           chunk: int = 2048) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """uint8 instance maps [N, R, R] (0 = none) -> centres [N, K, 2], sigmas [N, K], active [N, K],
    on the maps' device (the trainer calls it on every real batch).

    Ids 1..K are taken in order; objects beyond ``max_objects`` are ignored (counted in the
    warning the caller may print), so are empty ids.
    """
    if instances.ndim != 3 or instances.shape[-1] != instances.shape[-2]:
        raise UserError(f"instance maps must be [N, R, R], got {tuple(instances.shape)}")
    n, r, dev = instances.shape[0], instances.shape[-1], instances.device
    coords = (torch.arange(r, dtype=torch.float32, device=dev) * 2 + 1) / r - 1
    centres = empty_centres(max_objects).to(dev).expand(n, -1, -1).clone()
    sigmas = torch.full((n, max_objects), EMPTY_SIGMA, device=dev)
    active = torch.zeros(n, max_objects, dtype=torch.bool, device=dev)
    for start in range(0, n, chunk):
        inst = instances[start:start + chunk].long()
        for k in range(max_objects):
            m = (inst == k + 1).float()                      # [n, R, R]
            area = m.sum((1, 2))
            ok = area > 0
            a = area.clamp(min=1)
            px, py = m.sum(1), m.sum(2)                      # column and row profiles
            cx, cy = (px * coords).sum(1) / a, (py * coords).sum(1) / a
            vx = (px * (coords - cx[:, None]).square()).sum(1) / a
            vy = (py * (coords - cy[:, None]).square()).sum(1) / a
            sl = slice(start, start + len(inst))
            centres[sl, k] = torch.where(ok[:, None], torch.stack([cx, cy], -1), centres[sl, k])
            sigmas[sl, k] = torch.where(ok, ((vx + vy) / 2).sqrt().clamp(*SIGMA_RANGE), EMPTY_SIGMA)
            active[sl, k] = ok
    return centres, sigmas, active


def foreground_layouts(instances: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One-slot layouts of everything that is not background (the single object of a
    hierarchical scene with all its parts, or an emoji's alpha mask)."""
    return layouts_from_instances((instances > 0).to(torch.uint8), 1)


def heatmaps_from_layouts(centres: torch.Tensor, sigmas: torch.Tensor, active: torch.Tensor) -> Heatmaps:
    k = centres.shape[1]
    return Heatmaps(centres, sigmas, (0,) * k, (-1,) * k, active, kind=MULTI)


def heatmap_channel(hm: Heatmaps, resolution: int) -> torch.Tensor:
    """The plane D sees next to RGB: H = sum_i H_i clipped to [0, 1], mapped to [-1, 1]
    like the image (overlapping objects saturate instead of growing). Hierarchical heatmaps
    show D their level-0 map only: real images have a layout for the whole object, none
    for the deeper (unsupervised) centres."""
    if hm.kind == HIERARCHICAL:
        h = hm.render(resolution, indices=hm.level_indices(0)).sum(1, keepdim=True)
    else:
        h = hm.render_sum(resolution)
    return h.clamp(max=1.0) * 2 - 1


def object_planes(hm: Heatmaps, resolution: int) -> torch.Tensor:
    """D's planes for ``d_planes="objects"``: one per slot, [N, K, R, R] in [-1, 1], the
    largest sigma first and empty slots last (-1). In the summed plane a small object's
    heatmap inside a large one's core saturates away, so D cannot tell a lamp drawn as part
    of the bed from a lamp of its own; here every object is its own plane."""
    h = hm.render(resolution)
    key = torch.where(hm.active, hm.sigmas, torch.full_like(hm.sigmas, -1.0))
    order = key.argsort(1, descending=True)
    h = h.gather(1, order[:, :, None, None].expand_as(h))
    return h * 2 - 1


def to_json(centres: torch.Tensor, sigmas: torch.Tensor, active: torch.Tensor, keep_slots: bool = False) -> list:
    """Layouts as ``[[[x, y, sigma], ...], ...]`` (4 decimals): active objects only, or with
    ``keep_slots`` one entry per slot, ``null`` for an inactive one (hierarchical parts)."""
    out = []
    for c, s, a in zip(centres.tolist(), sigmas.tolist(), active.tolist()):
        out.append([[round(x, 4), round(y, 4), round(sg, 4)] if on else None
                    for (x, y), sg, on in zip(c, s, a) if on or keep_slots])
    return out


def from_json(layouts: Sequence, max_objects: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inverse of ``to_json`` (slots beyond an image's objects inactive); checks the values."""
    if not isinstance(layouts, (list, tuple)) or not layouts:
        raise UserError("spatial option layouts: expected a non-empty list of layouts")
    n = len(layouts)
    centres = empty_centres(max_objects).expand(n, -1, -1).clone()
    sigmas = torch.full((n, max_objects), EMPTY_SIGMA)
    active = torch.zeros(n, max_objects, dtype=torch.bool)
    for i, objs in enumerate(layouts):
        if not isinstance(objs, (list, tuple)) or len(objs) > max_objects:
            raise UserError(f"spatial option layouts[{i}]: expected at most {max_objects} [x, y, sigma] triples")
        for k, o in enumerate(objs):
            if o is None:                                    # an inactive slot (``keep_slots``)
                continue
            ok = (isinstance(o, (list, tuple)) and len(o) == 3
                  and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in o))
            if not ok or not (-1.5 <= o[0] <= 1.5 and -1.5 <= o[1] <= 1.5 and 0 < o[2] <= 2):
                raise UserError(f"spatial option layouts[{i}][{k}] = {o!r}: expected [x, y, sigma] with "
                                f"x, y in [-1.5, 1.5] and sigma in (0, 2]")
            centres[i, k] = torch.tensor(o[:2], dtype=torch.float32)
            sigmas[i, k] = float(o[2])
            active[i, k] = True
    return centres, sigmas, active


class LayoutBank:
    """Draws layouts uniformly from a fixed set (optionally mirrored left-right at random)."""

    def __init__(self, centres: torch.Tensor, sigmas: torch.Tensor, active: torch.Tensor):
        keep = active.any(1)                                 # an image with no object says nothing
        if not bool(keep.any()):
            raise UserError("no image of the dataset holds an object: the paired discriminator needs "
                            "instance maps with at least one object id > 0")
        self.centres, self.sigmas, self.active = centres[keep], sigmas[keep], active[keep]

    def __len__(self) -> int:
        return len(self.centres)

    def sample(self, batch: int, generator: Optional[torch.Generator] = None,
               mirror: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.randint(len(self), (batch,), generator=generator)
        c = self.centres[idx].clone()
        if mirror:
            flip = torch.rand(batch, generator=generator) < 0.5
            c[flip, :, 0] = -c[flip, :, 0]
        return c, self.sigmas[idx].clone(), self.active[idx].clone()

    def subset_json(self, count: int = STORED_LAYOUTS, seed: int = 0, keep_slots: bool = False) -> list:
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(self), generator=g)[:count]
        return to_json(self.centres[idx], self.sigmas[idx], self.active[idx], keep_slots)
