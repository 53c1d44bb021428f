"""GradCAM of the discriminator (TPAMI Sec. 3.1, after Selvaraju et al. [28]).

For each feature map A (D's 4, 8 and 16 px maps, ``D(img, return_features=True)``):
channel weights ``alpha_c`` = spatial mean of d(sum of logits)/dA_c — the paper reports
maps "computed via maximizing the output of D" (Sec. 3.1), i.e. the gradient of the logit
itself; summing over the batch keeps per-sample gradients separate (up to D's minibatch-std
coupling) — then ``ReLU(sum_c alpha_c A_c)`` ("a weighted combination ... followed by a ReLU")
and a per-sample min-max normalisation to [0, 1] with the min and max held constant
(as in the official code).

The map is differentiable w.r.t. the image through A. ``create_graph=True`` also
differentiates through the weights alpha (a second-order pass through D, like R1);
``False`` treats alpha as constants — what the official code did, and half the cost.
D's parameters never receive gradients from here (the trainer freezes D in the G phase).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import UserError

CAM_RESOLUTIONS = (4, 8, 16)


def minmax_normalise(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Per-sample (dim 0) min-max to [0, 1]; min and max are detached."""
    flat = x.detach().flatten(1)
    lo = flat.min(1).values.view(-1, *([1] * (x.ndim - 1)))
    hi = flat.max(1).values.view(-1, *([1] * (x.ndim - 1)))
    return (x - lo) / (hi - lo + eps)


def gradcam(D: nn.Module, images: torch.Tensor, resolutions: Sequence[int] = CAM_RESOLUTIONS,
            create_graph: bool = True) -> dict[int, torch.Tensor]:
    """{resolution: CAM [N, 1, r, r] in [0, 1]} of ``D`` on ``images``."""
    if not images.requires_grad:               # e.g. real images: A must still have a graph
        images = images.detach().requires_grad_(True)
    logits, feats = D(images, return_features=True)
    missing = [r for r in resolutions if r not in feats]
    if missing:
        raise UserError(f"the discriminator has no {missing} px feature maps for GradCAM "
                        f"(has {sorted(feats)})")
    maps = [feats[r] for r in resolutions]
    grads = torch.autograd.grad(logits.float().sum(), maps, create_graph=create_graph, retain_graph=True)
    cams = {}
    for r, a, g in zip(resolutions, maps, grads):
        alpha = g.mean(dim=(2, 3), keepdim=True)
        if not create_graph:
            alpha = alpha.detach()
        cams[r] = minmax_normalise(F.relu((alpha * a).sum(1, keepdim=True)))
    return cams


def gradcam_maps(D: nn.Module, images: torch.Tensor, resolutions: Sequence[int] = CAM_RESOLUTIONS,
                 size: Optional[int] = None):
    """For visualisation (Fig. 3/13): {resolution: float32 numpy [N, H, W] in [0, 1]}.

    ``size`` upsamples every map (bilinear) to size x size, e.g. the image resolution.
    """
    with torch.enable_grad():
        cams = gradcam(D, images.detach(), resolutions, create_graph=False)
    out = {}
    for r, cam in cams.items():
        cam = cam.detach().float()
        if size is not None and size != r:
            cam = F.interpolate(cam, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
        out[r] = cam[:, 0].cpu().numpy()
    return out
