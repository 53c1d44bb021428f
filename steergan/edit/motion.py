"""DragGAN's motion supervision (Pan et al., SIGGRAPH 2023, Eq. 1), on generator features.

Points are ``(x, y)`` pixel positions of the output image (x right, y down; pixel ``j`` has
its centre at ``j``). ``features`` are one generator block's output, bilinearly upsampled to
the image size (DragGAN's ``F``), so a feature pixel is an image pixel.

For a handle ``p`` moving towards ``t`` with unit direction ``d = (t - p) / |t - p|``, every
pixel ``q`` of the disc ``|q - p| < r1`` asks the feature at ``q + d`` (sampled bilinearly,
a sub-pixel shift) to become the feature at ``q``, which is detached:
``L = sum_i mean_q |F(q).detach() - F(q + d_i)|``. The gradient therefore pulls the content
one small step along ``d`` without also pushing the patch back (DragGAN's code detaches the
un-shifted patch since commit d0422b1, "consistent with paper").
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F


def upsample_features(feat: torch.Tensor, resolution: int) -> torch.Tensor:
    """A block's features [N, C, r, r] -> [N, C, R, R] (bilinear, as DragGAN's ``F``)."""
    if feat.shape[-1] == resolution:
        return feat
    return F.interpolate(feat, size=(resolution, resolution), mode="bilinear", align_corners=False)


def disc_pixels(p: Sequence[float], r1: float, resolution: int) -> torch.Tensor:
    """Integer pixels ``q`` (long [M, 2] as x, y) with ``|q - p| < r1``, inside the image."""
    x0, x1 = max(0, int(p[0] - r1)), min(resolution - 1, int(p[0] + r1) + 1)
    y0, y1 = max(0, int(p[1] - r1)), min(resolution - 1, int(p[1] + r1) + 1)
    ys, xs = torch.meshgrid(torch.arange(y0, y1 + 1), torch.arange(x0, x1 + 1), indexing="ij")
    q = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)
    keep = (q.double() - torch.tensor([float(p[0]), float(p[1])], dtype=torch.float64)).norm(dim=1) < r1
    return q[keep]


def sample_at(features: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Bilinear features [M, C] at float pixel positions ``xy`` [M, 2] (pixel ``j`` at ``j``)."""
    R = features.shape[-1]
    grid = (xy.to(features.dtype) / (R - 1) * 2 - 1)[None, None]          # [1, 1, M, 2]
    out = F.grid_sample(features[:1], grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out[0, :, 0].t()


def motion_loss(features: torch.Tensor, handles: Sequence[Sequence[float]], targets: Sequence[Sequence[float]],
                r1: float, min_distance: float = 1.0) -> Optional[torch.Tensor]:
    """DragGAN Eq. 1 (first term) for every handle farther than ``min_distance`` from its target.

    ``features``: [1, C, R, R] with grad. Returns None when no handle needs to move.
    """
    R = features.shape[-1]
    loss = None
    for p, t in zip(handles, targets):
        d = torch.tensor([t[0] - p[0], t[1] - p[1]], dtype=torch.float64)
        dist = float(d.norm())
        if dist <= min_distance:
            continue
        q = disc_pixels(p, r1, R)
        if len(q) == 0:
            continue
        fixed = features[0, :, q[:, 1], q[:, 0]].t().detach()              # F(q), frozen
        shifted = sample_at(features, q.double() + d / dist)                # F(q + d), sub-pixel
        term = F.l1_loss(shifted, fixed)
        loss = term if loss is None else loss + term
    return loss


def mask_loss(features: torch.Tensor, features0: torch.Tensor, movable: torch.Tensor) -> torch.Tensor:
    """DragGAN Eq. 1 (second term): ``|(F - F0) * (1 - M)|_1``, a mean over the whole map
    (as DragGAN's code; not normalised by the area that must stay fixed)."""
    keep = (~movable).to(features.dtype)[None, None]
    return F.l1_loss(features * keep, features0 * keep)
