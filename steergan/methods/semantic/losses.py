"""SemanticStyleGAN's loss terms (Sec. 3.3, Eq. 5-6) besides StyleGAN2's adversarial ones.

* ``dual_r1``: R1 on the real image and the real label map separately, the mask weighted
  far more (official 10 vs 1000 at 256 px: ``seg_ratio`` = 100 times the image's gamma).
* ``mask_regulariser``: L_mask = || pool(final segmentation) - (2m - 1) ||^2, i.e. the
  render net's residual Delta m stays small, so the coarse masks (and hence the local
  generators) carry the semantics (weight lambda_mask = 100).
* ``one_hot_labels``: real label maps as D sees them, one-hot in {-1, +1} like 2m - 1.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def one_hot_labels(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """class ids [N, H, W] -> [N, K, H, W] in {-1, +1}."""
    return F.one_hot(labels.long(), num_classes).permute(0, 3, 1, 2).float() * 2 - 1


def dual_r1(real_logits: torch.Tensor, real: torch.Tensor, img_channels: int, gamma_img: float,
            gamma_seg: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(gamma_img / 2 * E||grad_img D||^2 + gamma_seg / 2 * E||grad_seg D||^2, r1_img, r1_seg)
    for ``real`` = [image, label map] stacked on channels (the grads come from one backward)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    r1_img = grad[:, :img_channels].square().sum(dim=(1, 2, 3)).mean()
    r1_seg = grad[:, img_channels:].square().sum(dim=(1, 2, 3)).mean()
    return r1_img * (gamma_img / 2) + r1_seg * (gamma_seg / 2), r1_img, r1_seg


def mask_regulariser(segmentation: torch.Tensor, coarse_mask: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the final segmentation, pooled to the coarse size, and 2m - 1."""
    pooled = F.adaptive_avg_pool2d(segmentation, coarse_mask.shape[-1])
    return (pooled - (2 * coarse_mask - 1)).square().mean()
