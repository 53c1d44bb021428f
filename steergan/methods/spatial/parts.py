"""Parts that follow their heatmaps: the deeper hierarchy levels get the level-0 aids (ours).

The paper's single-object generator has 1, 2 and 4 centres on levels 0, 1 and 2, and only
the alignment with D's attention ties the deeper ones to anything. On our creatures the
level-0 centre moved the creature while the level-1 and level-2 centres did little. When
the data knows its parts (a scene dataset's semantic and instance maps), ``parts`` names the
class of each deeper slot, for example ``[["ear", "ear"], ["eye", "eye", "mouth"]]``: level
1's two centres are the ears, level 2's first three the eyes and the mouth (the fourth stays
unsupervised). Same-class parts fill their slots left to right. Then, as for the object:

* the paired D sees one plane per level (level 0: the whole object; level l: the sum of its
  supervised slots), real images with their own parts' heatmaps; G draws whole layouts
  (object and parts) from the data's, and a part absent from an image is an inactive slot;
* segmenter alignment asks, per part class, for that class inside its slots' cores and for
  none far from all of them (``objectness_loss`` on the class probability).

The trainer hands the method one uint8 *slot map* per image: 0 background, 1 the object's
pixels that are no supervised part, 2 + j the pixels of supervised slot j (``part_slots``
order).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from ...errors import UserError
from .heatmaps import CENTRES_PER_LEVEL, HIERARCHICAL, Heatmaps, hierarchical_structure
from .layouts import empty_centres, foreground_layouts, layouts_from_instances

Parts = tuple[tuple[str, ...], ...]


def check_parts(parts) -> Optional[Parts]:
    """The option's value as a tuple per deeper level, or None; one-line errors otherwise."""
    if parts is None:
        return None
    deeper = CENTRES_PER_LEVEL[1:]
    if not isinstance(parts, (list, tuple)) or not 1 <= len(parts) <= len(deeper):
        raise UserError(f"spatial option parts: expected a list of 1..{len(deeper)} lists of class names "
                        f"(levels 1..{len(deeper)}), got {parts!r}")
    out = []
    for level, names in enumerate(parts, 1):
        if (not isinstance(names, (list, tuple)) or len(names) > deeper[level - 1]
                or not all(isinstance(n, str) and n for n in names)):
            raise UserError(f"spatial option parts[{level - 1}]: expected at most {deeper[level - 1]} class "
                            f"names for level {level}, got {names!r}")
        out.append(tuple(names))
    if not any(out):
        raise UserError("spatial option parts: name at least one part class")
    return tuple(out)


def part_slots(parts: Parts) -> list[int]:
    """Hierarchical centre index of every supervised slot, in slot-map order."""
    levels, _ = hierarchical_structure()
    out = []
    for level, names in enumerate(parts, 1):
        first = levels.index(level)
        out += [first + k for k in range(len(names))]
    return out


def slot_classes(parts: Parts) -> list[str]:
    return [name for names in parts for name in names]


def part_slot_maps(instances: torch.Tensor, semantic: torch.Tensor, classes: Sequence[str],
                   parts: Parts) -> torch.Tensor:
    """Slot maps uint8 [N, R, R] (module docstring) from instance-id and class-id maps.

    An instance's class is the most common class id under it; among instances of one class,
    the leftmost (by centroid) takes that class's first slot. Extra instances of a class stay
    part of the object (value 1)."""
    names = slot_classes(parts)
    unknown = sorted({n for n in names if n not in classes})
    if unknown:
        raise UserError(f"spatial option parts names {unknown}, which the dataset's classes {list(classes)} lack")
    if instances.shape != semantic.shape:
        raise UserError(f"instance maps {tuple(instances.shape)} and class maps {tuple(semantic.shape)} differ")
    inst, sem = instances.numpy().astype(np.int64), semantic.numpy().astype(np.int64)
    out = (inst > 0).astype(np.uint8)
    slots_of = {c: [j for j, n in enumerate(names) if n == c] for c in set(names)}
    xs = np.arange(inst.shape[-1], dtype=np.float64)
    n_classes = max(len(classes), int(sem.max()) + 1)
    for i in range(len(inst)):
        found: dict[str, list[tuple[float, int]]] = {}
        for k in np.unique(inst[i]):
            if k == 0:
                continue
            m = inst[i] == k
            cls = classes[int(np.bincount(sem[i][m], minlength=n_classes).argmax())]
            if cls in slots_of:
                found.setdefault(cls, []).append((float((m.sum(0) * xs).sum() / m.sum()), int(k)))
        for cls, objs in found.items():
            for slot, (_, k) in zip(slots_of[cls], sorted(objs)):
                out[i][inst[i] == k] = 2 + slot
    return torch.from_numpy(out)


def part_layouts(slot_maps: torch.Tensor, parts: Parts) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hierarchical layouts from slot maps: centres [N, K, 2], sigmas [N, K], active [N, K] over all
    K hierarchical centres; level 0 is the whole object, unsupervised slots are inactive."""
    levels, _ = hierarchical_structure()
    n = slot_maps.shape[0]
    c0, s0, a0 = foreground_layouts(slot_maps)
    sup = part_slots(parts)
    shifted = torch.where(slot_maps >= 2, slot_maps - 1, torch.zeros_like(slot_maps))
    cp, sp, ap = layouts_from_instances(shifted, len(sup))
    centres = empty_centres(len(levels)).to(slot_maps.device).expand(n, -1, -1).clone()
    sigmas = s0.new_full((n, len(levels)), float(s0.mean()) if n else 0.1)
    active = torch.zeros(n, len(levels), dtype=torch.bool, device=slot_maps.device)
    centres[:, :1], sigmas[:, :1], active[:, :1] = c0, s0, a0
    centres[:, sup] = torch.where(ap[..., None], cp, centres[:, sup])
    sigmas[:, sup], active[:, sup] = sp, ap
    return centres, sigmas, active


def layout_heatmaps(centres: torch.Tensor, sigmas: torch.Tensor, active: torch.Tensor) -> Heatmaps:
    levels, parents = hierarchical_structure()
    return Heatmaps(centres, sigmas, levels, parents, active, kind=HIERARCHICAL)


def with_layout_parts(hm: Heatmaps, centres: torch.Tensor, sigmas: torch.Tensor, active: torch.Tensor,
                      parts: Parts) -> Heatmaps:
    """G's control: the supervised slots (centre, width, presence) taken from a real layout;
    the unsupervised ones keep the prior's draw."""
    sup = part_slots(parts)
    c, s, a = hm.centres.clone(), hm.sigmas.clone(), hm.active.clone()
    c[:, sup], s[:, sup], a[:, sup] = centres[:, sup].to(c), sigmas[:, sup].to(s), active[:, sup].to(a.device)
    return hm._replace(centres=c, sigmas=s, active=a)


def part_planes(hm: Heatmaps, parts: Parts, resolution: int) -> torch.Tensor:
    """D's condition planes [N, 1 + len(parts), R, R] in [-1, 1]: the level-0 map, then per part
    level the sum of its supervised slots (clipped at 1; inactive slots render zero)."""
    sup = part_slots(parts)
    planes = [hm.render(resolution, indices=hm.level_indices(0)).sum(1, keepdim=True)]
    for level in range(1, len(parts) + 1):
        idx = [i for i in sup if hm.levels[i] == level]
        planes.append(hm.render(resolution, indices=idx).sum(1, keepdim=True) if idx
                      else hm.centres.new_zeros(len(hm), 1, resolution, resolution))
    return torch.cat(planes, 1).clamp(max=1.0) * 2 - 1


def part_alignment_loss(class_prob, classes: Sequence[str], hm: Heatmaps, parts: Parts) -> torch.Tensor:
    """Segmenter alignment of the parts: for each part class, its probability map (from
    ``class_prob(c) -> [N, S, S]``) is pushed up in the cores of that class's slots and down far
    from all of them (``objectness_loss``); summed over classes."""
    from .objectness import objectness_loss
    sup, names = part_slots(parts), slot_classes(parts)
    loss = hm.centres.new_zeros(())
    for cls in dict.fromkeys(names):
        if cls not in classes:
            raise UserError(f"the alignment segmenter has no class {cls!r} (it has {list(classes)})")
        loss = loss + objectness_loss(class_prob(cls), hm, indices=[i for i, n in zip(sup, names) if n == cls])
    return loss
