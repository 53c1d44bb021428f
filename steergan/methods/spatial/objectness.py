"""Alignment with a frozen segmenter's object map (``align="segmenter"``, ours).

The paper's L_align (Eq. 4) compares the heatmap with D's GradCAM: D's attention is a
self-supervised stand-in for "where the objects are". When a segmenter for the domain
exists (steergan ships one for rooms; any network mapping images to class logits can be
plugged in), its *object probability* ``p = 1 - sum_{background classes} softmax(logits)``
is a direct, differentiable answer to the same question. The loss asks for objects inside
each heatmap's core and for none far from every heatmap:

    L = BCE(p, 1) averaged over pixels with H > hi  +  BCE(p, 0) averaged over pixels with H < lo

with H = max_i H_i (so overlapping heatmaps do not add up). The band between lo and hi is
free: real objects are not Gaussian. Defaults: hi = 0.5 (within 1.18 sigma of a centre, inside
a box whose RMS radius is sigma), lo = 0.05 (beyond 2.45 sigma).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from ...errors import UserError
from ...nn.segnet import class_log_probs, read_segnet
from .heatmaps import Heatmaps

CORE, CLEAR = 0.5, 0.05
FOREGROUND = "foreground"        # segmenter name of ``ForegroundObjectness``


class ForegroundObjectness(nn.Module):
    """Object probability for plain-background data (imported emoji): how far a pixel's colour
    is from the background colour, ``p = sigmoid((max_c |x_c - bg_c| - tol) / temperature)``
    with x in [-1, 1]. Needs no training; differentiable in the image."""

    def __init__(self, background=(255, 255, 255), tol: float = 0.2, temperature: float = 0.04):
        # tol 0.2 ~ 25/255: ForegroundSegmenter's threshold; p(background) = sigmoid(-5) < 0.01
        super().__init__()
        self.register_buffer("bg", torch.tensor(background, dtype=torch.float32).view(1, 3, 1, 1) / 127.5 - 1,
                             persistent=False)
        self.tol, self.temperature = float(tol), float(temperature)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        dist = (images.float() - self.bg).abs().amax(1)
        return torch.sigmoid((dist - self.tol) / self.temperature).clamp(1e-6, 1 - 1e-6)


def load_objectness(segmenter: Optional[str] = None) -> nn.Module:
    """``"foreground"`` -> ``ForegroundObjectness``; else a segmenter file or bundled kind."""
    return ForegroundObjectness() if segmenter == FOREGROUND else ObjectnessNet.load(segmenter)


class ObjectnessNet(nn.Module):
    """Frozen segmentation logits -> object probability [N, H, W]; gradients reach the image."""

    def __init__(self, net: nn.Module, classes: Sequence[str], background: Sequence[str], resolution: int = 64):
        super().__init__()
        unknown = [b for b in background if b not in classes]
        if unknown or not background or len(background) == len(classes):
            raise UserError(f"segmenter background classes {list(background)} must be a proper subset of "
                            f"its classes {list(classes)}")
        self.net = net.eval().requires_grad_(False)
        self.register_buffer("bg", torch.tensor([c in background for c in classes]), persistent=False)
        self.classes = list(classes)
        self.resolution = int(resolution)

    @classmethod
    def load(cls, path: Optional[str] = None) -> "ObjectnessNet":
        net, meta = read_segnet(path)
        return cls(net, meta["classes"], meta.get("background", []), meta.get("resolution", 64))

    def train(self, mode: bool = True) -> "ObjectnessNet":
        return super().train(False)            # BatchNorm stays in inference mode

    def log_probs(self, images: torch.Tensor) -> torch.Tensor:
        """Per-class log-probabilities [N, C, H, W] at the images' size (``classes`` order)."""
        return class_log_probs(self.net, images, self.resolution)

    def objectness(self, logp: torch.Tensor) -> torch.Tensor:
        """P(object) [N, H, W] from ``log_probs``: log(1 - P(bg)) stably, as logsumexp over objects."""
        return logp[:, ~self.bg].logsumexp(1).exp().clamp(1e-6, 1 - 1e-6)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.objectness(self.log_probs(images))


def objectness_targets(hm: Heatmaps, size: int, core: float = CORE, clear: float = CLEAR,
                       indices: Optional[Sequence[int]] = None):
    """(core mask, clear mask) [N, S, S] from H = max_i H_i (over ``indices``, default all)."""
    k = hm.num_centres if indices is None else len(indices)
    h = hm.render(size, indices=indices).amax(1) if k else hm.centres.new_zeros(len(hm), size, size)
    return h > core, h < clear


def objectness_loss(p: torch.Tensor, hm: Heatmaps, core: float = CORE, clear: float = CLEAR,
                    indices: Optional[Sequence[int]] = None) -> torch.Tensor:
    """The loss of the module docstring for object probabilities ``p`` [N, S, S]; hierarchical
    heatmaps pass their level-0 ``indices`` (the object; deeper centres mark parts of it)."""
    inside, outside = objectness_targets(hm.detach(), p.shape[-1], core, clear, indices)
    loss = p.new_zeros(())
    if bool(inside.any()):
        loss = loss - torch.log(p[inside]).mean()
    if bool(outside.any()):
        loss = loss - torch.log1p(-p[outside]).mean()
    return loss
