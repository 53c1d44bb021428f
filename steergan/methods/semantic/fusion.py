"""Fusion (SemanticStyleGAN Sec. 3.1, Eq. 3-4): depths compete per pixel for ownership.

m_k = softmax_k(d_k) are the coarse masks; the fused feature is f = sum_k m_k * f_k with
f_k = A_k h_k + b_k, each class's linear feature head applied to its last hidden state.
By linearity f = [A_1 ... A_K] (m_1 h_1, ..., m_K h_K) + sum_k m_k b_k: one matmul over
the mask-weighted hidden states, so the K wide feature maps f_k are never materialised
(the fusion is memory-bound on CPU; ``class_features`` builds them for inspection).
``visible`` (bool [N, K]) drops classes and renormalises the others, which builds an image
up class by class (the paper's composition figure). Tensors are pixel tokens [N, P, C].
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from ...errors import UserError
from ...nn.layers import EqualLinear


def coarse_masks(depths: torch.Tensor, visible: Optional[torch.Tensor] = None) -> torch.Tensor:
    """depths [N, P, K] -> m [N, P, K], summing to 1 over the (visible) classes."""
    if visible is not None:         # renormalised over the visible classes = their softmax alone
        if not bool(visible.any(dim=1).all()):
            raise UserError("every sample needs at least one visible class")
        depths = depths.masked_fill(~visible.bool()[:, None, :], float("-inf"))
    return torch.softmax(depths, dim=-1)


def fuse(m: torch.Tensor, hidden: Sequence[torch.Tensor], heads: Sequence[EqualLinear]) -> torch.Tensor:
    """m [N, P, K], K hidden states [N, P, C], K feature heads (C -> F) -> f [N, P, F]."""
    weighted = torch.cat([m[..., k:k + 1] * h for k, h in enumerate(hidden)], dim=-1)   # [N, P, K*C]
    weight = torch.cat([head.weight * head.scale for head in heads], dim=1)              # [F, K*C]
    bias = torch.stack([head.bias * head.lr_mul for head in heads], dim=0)                # [K, F]
    return weighted @ weight.t().to(weighted.dtype) + m @ bias.to(m.dtype)


def class_features(hidden: Sequence[torch.Tensor], heads: Sequence[EqualLinear]) -> list[torch.Tensor]:
    """The per-class feature maps f_k = A_k h_k + b_k (what ``fuse`` avoids building)."""
    return [head(h) for h, head in zip(hidden, heads)]
