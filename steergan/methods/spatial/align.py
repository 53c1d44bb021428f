"""Self-supervised alignment of heatmaps with D's attention (TPAMI Sec. 3.3, Eq. 4/5).

* Truncation (Sec. 3.3): "We truncate the L_align values if smaller than tau": it is the
  per-pixel error |GradCAM - H| that is truncated, not the heatmap. As in the official
  code, the loss is the mean of the errors above tau (pooled over the batch), or the
  plain mean when at most one pixel survives. tau = 0.25 for all experiments.
* Pairing (Sec. 4.1 + official code): D's 4 px map <-> level 0, 8 px <-> level 1,
  16 px <-> level 2; level weights 1, 1, 1. Multi-object heatmaps under Eq. 4 (the
  ablation of Tab. I) use the full map H = minmax(sum_i H_i) at each of the three.
* Targets (official code): level 0 is its single Gaussian as is; levels 1 and 2 are the
  mean of their centres, min-max normalised per sample. Multi-object (Eq. 5): the
  candidates are every active sub-heatmap H_i (as is) and the full map
  H = minmax(sum_i H_i); no level pairing exists, so each of D's 4/8/16 px maps is compared
  with the candidates (our choice), each term weight 1.
* Comparison at image resolution: the CAM is upsampled (bilinear) and the heatmap
  rendered there, as the official code did.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from .gradcam import minmax_normalise
from .heatmaps import MULTI, Heatmaps

TAU = 0.25
LEVEL_OF_RESOLUTION = {4: 0, 8: 1, 16: 2}


def truncated_l1(cam: torch.Tensor, target: torch.Tensor, tau: float = TAU) -> torch.Tensor:
    """Mean of |cam - target| over the entries above ``tau`` (all entries if <= 1 survive)."""
    e = (cam - target).abs()
    keep = e > tau
    n = int(keep.sum())
    if n <= 1:
        return e.mean()
    return (e * keep).sum() / n


def truncated_distance(cam: torch.Tensor, candidates: torch.Tensor, tau: float = TAU) -> torch.Tensor:
    """Per-sample, per-candidate distance [N, M]: mean over pixels of |e| with e <= tau set to 0.

    (A proper distance for the min of Eq. 5, unlike the kept-entries mean whose normaliser
    depends on how many pixels survive.)
    """
    e = (cam - candidates).abs()
    return (e * (e > tau)).flatten(2).mean(2)


def _upsample(cam: torch.Tensor, size: int) -> torch.Tensor:
    if cam.shape[-1] == size:
        return cam
    return F.interpolate(cam, size=(size, size), mode="bilinear", align_corners=False)


def hierarchical_target(hm: Heatmaps, level: int, size: int) -> torch.Tensor:
    """[N, 1, S, S] target of one level (see the module docstring)."""
    maps = hm.render_level(level, size)
    if maps.shape[1] == 1:
        return maps
    return minmax_normalise(maps.mean(1, keepdim=True))


def align_loss(cams: dict[int, torch.Tensor], hm: Heatmaps, tau: float = TAU,
               size: Optional[int] = None) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Eq. 4 summed over the paired resolutions -> (total, {resolution: term})."""
    size = size or max(c.shape[-1] for c in cams.values())
    terms = {}
    full = minmax_normalise(hm.render_sum(size)) if hm.kind == MULTI else None
    for r, cam in cams.items():
        if full is not None:                 # multi-object heatmaps with Eq. 4: H at every resolution
            target = full.to(cam.dtype)
        else:
            level = LEVEL_OF_RESOLUTION.get(r)
            if level is None or level not in hm.levels:
                continue
            target = hierarchical_target(hm, level, size).to(cam.dtype)
        terms[r] = truncated_l1(_upsample(cam, size), target.detach(), tau)
    if not terms:
        raise ValueError("no D resolution pairs with a heatmap level")
    return sum(terms.values()), terms


def indoor_candidates(hm: Heatmaps, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """{H_1..H_n, H} as [N, n+1, S, S] and their validity [N, n+1] (removed H_i are invalid)."""
    subs = hm.render(size)
    full = minmax_normalise(subs.sum(1, keepdim=True))
    valid = torch.cat([hm.active, hm.active.any(1, keepdim=True)], 1)
    return torch.cat([subs, full], 1), valid


def align_loss_indoor(cams: dict[int, torch.Tensor], hm: Heatmaps, tau: float = TAU,
                      size: Optional[int] = None) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Eq. 5: per sample, align with whichever of {H_1..H_n, H} is nearest (truncated L1).

    The min only selects (it is not differentiable w.r.t. the choice), so the loss is the
    truncated L1 of Eq. 4 against each sample's selected candidate.
    """
    size = size or max(c.shape[-1] for c in cams.values())
    cands, valid = indoor_candidates(hm, size)
    cands = cands.detach()
    terms = {}
    for r, cam in cams.items():
        up = _upsample(cam, size)
        with torch.no_grad():
            d = truncated_distance(up, cands.to(up.dtype), tau).masked_fill(~valid, float("inf"))
            pick = d.argmin(1)
        target = cands[torch.arange(len(pick), device=pick.device), pick][:, None].to(up.dtype)
        terms[r] = truncated_l1(up, target, tau)
    return sum(terms.values()), terms
