"""Two training aids for SemanticStyleGAN at 64 px on a CPU budget (ours, not in the paper;
both off by default, so the official recipe is unchanged).

* ``MaskConsistency`` (option ``consistency``): a frozen scene segmenter reads the generated
  image and is asked, by cross-entropy, to find the generator's own label map in it. The
  label map is the target (detached), so the image learns to draw what its mask says; the
  mask is never pulled towards what the image happens to show. Classes are matched by name;
  pixels of classes the segmenter does not know are ignored. Why: the dual D sums its image
  and mask towers only at 4x4, and at 45 CPU-minutes the images drew walls and floors where
  the masks said but few of the objects (mask/image mIoU 0.31; bed 0.09, lamp 0.0).
  **It trains against that segmenter**, so mIoU must then be read with another one
  (``bench/train_eval_segmenter.py``).
* ``texture_seeking`` (option ``texture_seeking``): mode seeking (MSGAN) restricted to one
  class's texture code. Per sample one class present in the label map takes the texture code
  of another sample of the batch; the term is 1 / (mean |change| of the image inside that
  class's region / mean |change| of the code). Why: a projected-D fine-tune left the texture
  codes dead (swapping one changed its region by 0.0005 against 0.0129 before). It rewards
  change inside the region only; it does not read or penalise the change outside (the
  texture-swap locality figure), so that figure is not trained against.
* ``class_balance`` (option ``class_balance``): KL(the data's pixel share per class || the
  generated label maps' share, read through a sharpened softmax of the label-map logits). Why:
  after 45 + 80 CPU-minutes the label maps of the bundled model held **no lamp pixel at all**
  (lamps are 0.7% of the data's pixels), so no image loss could teach lamps and their IoU was 0.
  The gradient reaches the label map only; the consistency aid then teaches the image to draw
  what the mask says. It reads label-map statistics, no network.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import UserError
from ...nn.segnet import class_log_probs, read_segnet
from .layout import LatentLayout

BALANCE_TEMPERATURE = 0.05     # label-map logits lie in about [-1, 1]: 0.05 makes the softmax nearly the argmax
IGNORE = -100           # cross_entropy's ignore_index: pixels of classes the segmenter does not know


class MaskConsistency(nn.Module):
    """Frozen segmenter; ``loss(image, segmentation)`` = CE(segmenter(image), argmax segmentation)."""

    def __init__(self, net: nn.Module, segmenter_classes: Sequence[str], model_classes: Sequence[str],
                 resolution: int = 64):
        super().__init__()
        shared = [c for c in model_classes if c in segmenter_classes]
        if not shared:
            raise UserError(f"semantic option consistency: the segmenter's classes {list(segmenter_classes)} "
                            f"share no name with the model's {list(model_classes)}")
        self.net = net.eval().requires_grad_(False)
        self.resolution = int(resolution)
        lut = [segmenter_classes.index(c) if c in segmenter_classes else IGNORE for c in model_classes]
        self.register_buffer("lut", torch.tensor(lut), persistent=False)

    @classmethod
    def load(cls, path, model_classes: Sequence[str]) -> "MaskConsistency":
        net, meta = read_segnet(path)
        return cls(net, meta["classes"], model_classes, meta.get("resolution", 64))

    def train(self, mode: bool = True) -> "MaskConsistency":
        return super().train(False)          # BatchNorm stays in inference mode

    def loss(self, image: torch.Tensor, segmentation: torch.Tensor) -> torch.Tensor:
        target = self.lut[segmentation.detach().argmax(1)]
        if bool((target == IGNORE).all()):
            return image.sum() * 0
        return F.nll_loss(class_log_probs(self.net, image, self.resolution), target, ignore_index=IGNORE)


def class_shares(masks: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Pixel share per class [K] of label maps [N, R, R] (class ids)."""
    counts = torch.bincount(masks.flatten().long(), minlength=num_classes)[:num_classes].double()
    return (counts / counts.sum().clamp_min(1)).float()


def class_balance(segmentation: torch.Tensor, share: torch.Tensor, temperature: float = BALANCE_TEMPERATURE
                  ) -> torch.Tensor:
    """KL(share || the batch's class shares), the shares read from ``segmentation`` [N, K, R, R]
    (the label-map logits whose argmax is the label map) through a softmax at ``temperature``.

    Sharpened, because the plain softmax share can be met without the class ever winning a pixel
    (the bundled model: lamp probability 0.9% on average, 0 pixels labelled lamp). In log space
    (log of the mean = logsumexp - log count), so a dead class's pull neither underflows nor
    fades with its probability; it concentrates on the pixels closest to turning that class."""
    logq = F.log_softmax(segmentation.float() / temperature, dim=1)                 # [N, K, R, R]
    count = logq.shape[0] * logq.shape[2] * logq.shape[3]
    log_fake = logq.transpose(0, 1).flatten(1).logsumexp(1) - math.log(count)       # [K]
    return (torch.xlogy(share, share) - share * log_fake).sum()


def texture_seeking(synthesis: nn.Module, layout: LatentLayout, ws: torch.Tensor, image: torch.Tensor,
                    segmentation: torch.Tensor, generator: torch.Generator = None,
                    eps: float = 1e-5) -> torch.Tensor:
    """1 / (mean |image change| inside the swapped class's region / mean |code change|), over the
    batch; sample i takes class k_i's texture code from sample i + 1 (k_i drawn among the
    classes its label map shows; the region is that class's pixels before the swap)."""
    n = ws.shape[0]
    if n < 2:
        return image.sum() * 0
    lab = segmentation.detach().argmax(1)                                 # [N, R, R]
    present = F.one_hot(lab, layout.num_classes).flatten(1, 2).any(1)    # [N, K]
    pick = torch.multinomial(present.float().cpu(), 1, generator=generator).squeeze(1).to(ws.device)
    slots = torch.tensor([layout.slot(int(k), "texture") for k in pick], device=ws.device)
    rows = torch.arange(n, device=ws.device)
    donor = ws.roll(1, dims=0)[rows, slots]                              # [N, w_dim]
    swapped = ws.clone()
    swapped[rows, slots] = donor
    code_change = (donor - ws[rows, slots]).abs().mean(1)                 # [N]
    after = synthesis.compose(swapped).image
    region = (lab == pick[:, None, None]).unsqueeze(1).to(image.dtype)   # [N, 1, R, R]
    inside = ((after - image).abs() * region).sum((1, 2, 3)) / (region.sum((1, 2, 3)) * image.shape[1]).clamp_min(1)
    ratio = (inside / code_change.clamp_min(eps)).mean()
    return 1 / (ratio + eps)
