"""Follow loss (``follow``, ours): an object moves with its heatmap, unchanged.

The segmenter alignment asks for *an* object under every heatmap core and none far from all of
them; it does not ask that the object under a moved centre is the one that was there before. On
rooms the bundled model often answers a move by redrawing (a bed becomes a table on its way to the
wall, or the bed stays and a new one appears): Co-move 0.64. This term asks for the move itself.

For a few samples of the G batch: pick one active object centre ``k`` (hierarchical heatmaps:
the level-0 centre, moved with its parts), shift it by ``p`` (uniform direction, length
``SHIFT`` of the image, kept inside ``BOUND``), draw both layouts with the same w, style codes and
constant noise, and ask

    moved(x + p) = before(x)   where H_k(x) > CORE and no other heatmap reaches CLEAR at x or at
                               x + p (the object's own core, carried along), and
    moved(x)     = before(x)   where every heatmap of both layouts is below CLEAR (the rest stays)

as L1 in pixels. ``before`` is a detached target: the moved rendering learns to carry the
object, the unmoved one is left to the adversarial and alignment losses. The pixels between
(the vacated place and the object's rim) are free: what a wall behind a moved bed looks like is
the generator's to decide.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from .heatmaps import Heatmaps
from .objectness import CLEAR, CORE

SHIFT = (0.2, 0.5)          # |p| in normalised units (the image is 2 wide): 10-25% of the image
BOUND = 0.85                # a moved centre stays this far inside the edges


def pick_objects(hm: Heatmaps, generator: Optional[torch.Generator] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(index [N] of one active level-0 centre per sample, has-one [N] bool)."""
    roots = torch.tensor(hm.level_indices(0), device=hm.device)
    act = hm.active[:, roots].float().cpu()
    has = act.sum(1) > 0
    pick = torch.multinomial(act + (~has).float()[:, None], 1, generator=generator)[:, 0]
    return roots[pick.to(hm.device)], has.to(hm.device)


def shifts_for(hm: Heatmaps, index: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Shift vectors [N, 2] that keep centre ``index`` inside ``BOUND``."""
    n = len(hm)
    angle = torch.rand(n, generator=generator) * (2 * math.pi)
    length = SHIFT[0] + torch.rand(n, generator=generator) * (SHIFT[1] - SHIFT[0])
    p = torch.stack([angle.cos(), angle.sin()], 1).to(hm.centres) * length.to(hm.centres)[:, None]
    c = hm.centres[torch.arange(n, device=hm.device), index]
    return (c + p).clamp(-BOUND, BOUND) - c


def _carried(hm: Heatmaps, index: torch.Tensor) -> torch.Tensor:
    """[N, K] bool: centre ``index[i]`` of sample i and every centre below it (a part goes where
    its object goes; multi-object centres have none)."""
    carry = torch.zeros(hm.centres.shape[:2], dtype=torch.bool, device=hm.device)
    for root in hm.level_indices(0):
        carry[index == root] |= torch.isin(torch.arange(hm.num_centres, device=hm.device),
                                           torch.tensor([root, *hm.descendants(root)], device=hm.device))
    return carry


def moved_heatmaps(hm: Heatmaps, index: torch.Tensor, shift: torch.Tensor) -> Heatmaps:
    """Centre ``index[i]`` of sample i (and, hierarchical, every centre below it) moved by ``shift[i]``."""
    carry = _carried(hm, index)
    return hm._replace(centres=hm.centres + carry[..., None].to(shift.dtype) * shift[:, None, :])


def _sample_at(maps: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """``maps`` [N, C, S, S] read at x + shift[n] (normalised units, align_corners=False)."""
    size = maps.shape[-1]
    axis = (torch.arange(size, device=maps.device, dtype=shift.dtype) * 2 + 1) / size - 1
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([xs, ys], -1)[None] + shift[:, None, None, :]      # grid_sample wants (x, y)
    return F.grid_sample(maps, grid.to(maps.dtype), mode="bilinear", padding_mode="border", align_corners=False)


def follow_loss(G, ws: torch.Tensor, hm: Heatmaps, generator: Optional[torch.Generator] = None,
                before: Optional[torch.Tensor] = None,
                render: Optional[Callable[[torch.Tensor, Heatmaps], torch.Tensor]] = None,
                latent_grad: bool = False) -> torch.Tensor:
    """The module docstring's loss for latents ``ws`` and heatmaps ``hm`` (a few samples).
    ``before``: the unmoved images if the caller has them (detached here); ``render(ws, hm)``:
    how to draw the moved layout (default ``G.synthesis`` with constant noise); ``latent_grad``:
    let the loss reach ``ws`` too (a projection fits the latent, not G, to carry its objects)."""
    hm = hm.detach()
    index, has = pick_objects(hm, generator)
    shift = shifts_for(hm, index, generator)
    moved = moved_heatmaps(hm, index, shift)
    render = render or (lambda w, h: G.synthesis(w, h, noise_mode="const"))
    if before is None:
        with torch.no_grad():
            before = render(ws.detach(), hm)
    before = before.detach()
    after = render(ws if latent_grad else ws.detach(), moved)
    size = before.shape[-1]
    maps = hm.render(size)                                                      # [N, K, S, S]
    carry = _carried(hm, index)
    own = (maps * carry[..., None, None]).amax(1)
    others = (maps * ~carry[..., None, None]).amax(1, keepdim=True)           # objects that stay put
    # the object's own core, where no other object lies at its old or its new place
    core = ((own > CORE) & (others[:, 0] < CLEAR) & (_sample_at(others, shift)[:, 0] < CLEAR)
            & has[:, None, None])
    rest = torch.maximum(maps.amax(1), moved.render(size).amax(1)) < CLEAR
    carried = _sample_at(after, shift)
    loss = after.new_zeros(())
    if bool(core.any()):
        loss = loss + (carried - before).abs().mean(1)[core].mean()
    if bool(rest.any()):
        loss = loss + (after - before).abs().mean(1)[rest].mean()
    return loss
