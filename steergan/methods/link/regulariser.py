"""LinkGAN's regulariser (Zhu et al., ICCV 2023, Sec. 3.2, Eq. 3-6) as pure functions.

For a link i with axes w_i and region mask M_i:

* x~_1 = G(w with w_i perturbed)        -> Eq. 4: L_i^c = || (1 - M_i) (x~_1 - x~) ||^2  (no leak out)
* x~_2 = G(w with w_i^c perturbed)      -> Eq. 3: L_i   = || M_i (x~_2 - x~) ||^2        (no leak in)
* Eq. 5: L_reg^i = lambda_1 L_i + lambda_2 L_i^c;  Eq. 6: L = L_G + sum_i L_reg^i.

Squared errors are means over the masked pixels and channels of the batch (the paper does not say
how it normalises), so a weight means the same for a small box and a large class region.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from ...errors import UserError
from .spec import BoxRegion, ClassRegion, Region

PERTURBATIONS = ("resample", "additive")


def perturb(ws: torch.Tensor, axes: torch.Tensor, alpha: float, target: Optional[torch.Tensor] = None,
            noise: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Move the channels ``axes`` (bool [w_dim]) of every layer of W+ ``ws`` [N, L, D].

    ``target`` [N, D]: "resample" — lerp those channels towards another latent by ``alpha``
    (alpha = 1 is the test-time partial resampling). ``noise`` [N, D]: "additive" — the paper's
    ``w_i + alpha * p_i`` with p ~ N(0, I). The same move is applied to every layer: the partition
    is over channels, not layers.
    """
    m = axes.to(ws.dtype)
    if target is not None:
        return ws + alpha * (target[:, None, :] - ws) * m
    if noise is None:
        raise ValueError("perturb needs a target (resample) or noise (additive)")
    return ws + alpha * noise[:, None, :] * m


def masked_sq_error(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of (a - b)^2 over the pixels where ``mask`` [N or 1, 1, H, W] is set (0 if none)."""
    m = mask.to(a.dtype).expand(a.shape[0], 1, *a.shape[-2:])
    return ((a - b).square() * m).sum() / (m.sum() * a.shape[1]).clamp_min(1)


def dilate(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    if pixels <= 0:
        return mask
    return F.max_pool2d(mask, 2 * pixels + 1, stride=1, padding=pixels)


def region_mask(region: Region, class_map: Optional[torch.Tensor], size: int, class_ids=None,
                device=None) -> torch.Tensor:
    """Float mask [N or 1, 1, H, W]: a box, or the (dilated) pixels of the link's classes."""
    if isinstance(region, BoxRegion):
        return region.mask(size, device)
    assert isinstance(region, ClassRegion) and class_map is not None
    ids = torch.as_tensor(class_ids, device=class_map.device)
    m = torch.isin(class_map, ids).float()[:, None]
    return dilate(m, region.dilate)


@torch.no_grad()
def class_map(segmenter, images: torch.Tensor) -> torch.Tensor:
    """Class ids long [N, H, W] from any module mapping images to class ids or logits [N, C, H, W]."""
    out = segmenter(images.detach())
    if out.ndim == 4:
        out = out.argmax(1)
    if tuple(out.shape) != (images.shape[0], *images.shape[-2:]):
        raise UserError(f"segmenter returned shape {tuple(out.shape)} for images {tuple(images.shape)}")
    return out


def pair_mask(region: Region, size: int, maps: Optional[tuple[torch.Tensor, torch.Tensor]] = None,
              class_ids=None, device=None) -> torch.Tensor:
    """The region for an image pair (x, x'): the box, or where the class is in either image (an
    edited object may change shape; both its old and its new pixels are its own)."""
    if isinstance(region, BoxRegion):
        return region.mask(size, device)
    return torch.maximum(region_mask(region, maps[0], size, class_ids), region_mask(region, maps[1], size, class_ids))


def link_terms(x: torch.Tensor, x_linked: torch.Tensor, x_unlinked: torch.Tensor,
               mask_linked: torch.Tensor, mask_unlinked: torch.Tensor) -> dict[str, torch.Tensor]:
    """Eq. 3 and 4 plus the two changes the regulariser does not constrain (for monitoring).

    ``mask_linked`` is the region for the pair (x, x_linked), ``mask_unlinked`` for (x, x_unlinked)
    (the same box, or for a class the union of both images' class masks: "the region" is where the
    class is in either image of the pair).
    """
    return {
        "leak_in": masked_sq_error(x_unlinked, x, mask_unlinked),        # Eq. 3, want 0
        "leak_out": masked_sq_error(x_linked, x, 1 - mask_linked),       # Eq. 4, want 0
        "change_in": masked_sq_error(x_linked, x, mask_linked),          # the edit itself, want > 0
        "change_out": masked_sq_error(x_unlinked, x, 1 - mask_unlinked),  # the rest of w's effect
    }
