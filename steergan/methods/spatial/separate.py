"""Separation loss (``separate``, ours): two touching heatmaps draw two objects, not one.

On rooms about a quarter of the samples draw two heatmaps as one object (most often a small
object's heatmap absorbed into a bed), and moving one of them cannot carry "the" object: those
moves score about 0.3 on the Co-move Ratio whatever else the training does. Neither the
segmenter alignment (it asks for *an* object under every core) nor the paired D (one summed
heatmap plane) tells a lamp drawn into the bed from a lamp of its own.

The segmenter's instances are connected regions of one class, so two touching objects stay two
only if they differ in class. For every pair of active object heatmaps (k, j) whose k core
(H_k > CORE) reaches into j's halo (H_j > CLEAR somewhere in it), this term reads the
segmenter's class distribution over the object classes (renormalised without the background),
averaged over k's core, q_k, and over j's core away from k (H_j > CORE and H_k < CLEAR), q_j,
and asks for a small chance that both are the same class:

    L = mean over such pairs of  sum_c q_k(c) q_j(c)

Real rooms rarely put two objects of one class against each other (two touching beds), so the
term asks for what the data shows. Pairs whose j core lies entirely in k's halo are skipped
(nothing of j is away from k).
"""
from __future__ import annotations

import torch

from .heatmaps import Heatmaps
from .objectness import CLEAR, CORE


def touching_pairs(maps: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """[N, K, K] bool: k != j both active, k's core reaching j's halo (``maps`` [N, K, S, S])."""
    core = maps > CORE
    reach = torch.einsum("nkhw,njhw->nkj", core.float(), (maps > CLEAR).float()) > 0
    both = active[:, :, None] & active[:, None, :]
    eye = torch.eye(maps.shape[1], dtype=torch.bool, device=maps.device)[None]
    return reach & both & ~eye


def separation_loss(logp: torch.Tensor, objects: torch.Tensor, hm: Heatmaps, reduce: bool = True) -> torch.Tensor:
    """The module docstring's loss. ``logp`` [N, C, S, S]: the segmenter's per-class
    log-probabilities of the generated images; ``objects`` [C] bool: the non-background classes.
    ``reduce=False``: one value per counted pair instead of their mean."""
    hm = hm.detach()
    maps = hm.render(logp.shape[-1])                                           # [N, K, S, S]
    pairs = touching_pairs(maps, hm.active)
    none = logp.new_zeros(()) if reduce else logp.new_zeros(0)
    if not bool(pairs.any()):
        return none
    lo = logp[:, objects]
    q = (lo - lo.logsumexp(1, keepdim=True)).exp()                            # [N, C', S, S]
    n, k, j = pairs.nonzero(as_tuple=True)
    own = (maps[n, k] > CORE).float()                                          # [P, S, S]
    away = ((maps[n, j] > CORE) & (maps[n, k] < CLEAR)).float()
    keep = away.flatten(1).sum(1) > 0
    if not bool(keep.any()):
        return none
    n, own, away = n[keep], own[keep], away[keep]

    def mean_over(region):                                                     # [P, C']
        return torch.einsum("pchw,phw->pc", q[n], region) / region.flatten(1).sum(1, keepdim=True)

    same = (mean_over(own) * mean_over(away)).sum(1)
    return same.mean() if reduce else same
