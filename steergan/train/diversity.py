"""Collapse watch: improved precision and recall (Kynkäänniemi et al., NeurIPS 2019) at every tick.

A GAN that draws one blob in 64 colours can have a *better* Fréchet distance than one that
draws varied rooms badly; recall says it: the share of real images that lie inside the
k-NN manifold of the generated ones. Precision is the share of generated images inside the
real manifold (how many look real at all).

Features: EfficientNet-Lite0's pooled 1280-d features at the image's own size (the frozen
network from ``nn.pretrained``; cheap at 64 px). It is the projected D's network, so with
that D the figures are on the judge's own features, as the issue on collapse asks; the
evaluation-only judge (``metrics.judge``) is never read here. Fixed real subset and fixed
latents, so ticks compare with each other; sampling uses its own RNG, so the training
stream (and exact resume) is untouched.
"""
from __future__ import annotations

import functools
import logging

import torch
import torch.nn.functional as F

from ..nn.pretrained import effnet_input, load_efficientnet_lite0

log = logging.getLogger("steergan.train")


@functools.lru_cache(maxsize=1)
def _feature_net():
    # frozen and shared by every run in a process; built under a forked RNG because the package
    # initialises random weights before loading the real ones, and the training stream (exact
    # resume) must not depend on whether this process built it before
    with torch.random.fork_rng(devices=[]):
        return load_efficientnet_lite0()


def knn_radii(feats: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each row to its k-th nearest other row."""
    d = torch.cdist(feats, feats)
    return d.kthvalue(k + 1, dim=1).values         # +1: the row itself is at distance 0


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall of ``fake`` against ``real`` (rows are feature vectors)."""
    r_real, r_fake = knn_radii(real, k), knn_radii(fake, k)
    d = torch.cdist(fake, real)                     # [n_fake, n_real]
    precision = (d <= r_real[None, :]).any(dim=1).float().mean().item()
    recall = (d.t() <= r_fake[None, :]).any(dim=1).float().mean().item()
    return precision, recall


class CollapseWatch:
    """Scores G_ema against a fixed real subset; warns when recall falls below ``drop`` x its best."""

    def __init__(self, images: torch.Tensor, n: int = 256, k: int = 3, drop: float = 0.5, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.n, self.k, self.drop, self.seed = min(n, len(images)), k, drop, seed
        self.net = _feature_net()
        idx = torch.randperm(len(images), generator=g)[:self.n]
        self.real = self.features(images[idx].float() / 127.5 - 1)
        self.best_recall = 0.0

    @torch.no_grad()
    def features(self, images: torch.Tensor, batch: int = 64) -> torch.Tensor:
        out = []
        for i in range(0, len(images), batch):
            x = images[i:i + batch].float().cpu()
            if x.shape[-1] < 64:
                x = F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False)
            out.append(self.net.extract_features(effnet_input(x)).mean(dim=(2, 3)))
        return torch.cat(out)

    @torch.no_grad()
    def score(self, G_ema, method, device) -> dict[str, float]:
        g = torch.Generator().manual_seed(self.seed + 1)
        fakes = []
        for i in range(0, self.n, 64):
            b = min(64, self.n - i)
            z = torch.randn(b, G_ema.cfg.z_dim, generator=g).to(device)
            control = method.sample_control(b, G_ema, device, generator=g)
            fakes.append(G_ema(z, control, noise_mode="const").float().clamp(-1, 1).cpu())
        precision, recall = precision_recall(self.real, self.features(torch.cat(fakes)), self.k)
        record = {"Q/precision": precision, "Q/recall": recall}
        if self.best_recall > 0 and recall < self.drop * self.best_recall:
            log.warning("recall fell to %.2f (best %.2f in this run): the generator may be collapsing "
                        "(fewer kinds of image); keep an earlier checkpoint", recall, self.best_recall)
            record["Q/collapse_warning"] = 1.0
        self.best_recall = max(self.best_recall, recall)
        return record
