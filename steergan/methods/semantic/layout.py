"""The factorised latent space W+ = W_base x W^1 x ... x W^K (SemanticStyleGAN Sec. 3.1).

A W+ code here has ``base_layers + 2K`` entries of w_dim: the shared base codes first,
then per class k a shape code (slot ``base + 2k``) and a texture code (``base + 2k + 1``).
Each local generator has ``base + shape + texture`` layers; layer ``i`` of class k reads
the slot ``layer_slots(k)[i]``. The pseudo-depth is read out after the shape layers, so
a texture code can change only that class's feature map, never a mask. Class 0 is the
background: it has no depth head (its depth is 0) and no base code; its shape code drives
its first layers instead (as in the official code).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

PARTS = ("shape", "texture")


@dataclass(frozen=True)
class LatentLayout:
    num_classes: int
    base_layers: int = 2
    shape_layers: int = 2
    texture_layers: int = 2

    @property
    def num_ws(self) -> int:
        return self.base_layers + 2 * self.num_classes

    @property
    def local_layers(self) -> int:
        return self.base_layers + self.shape_layers + self.texture_layers

    @property
    def depth_after(self) -> int:
        """The pseudo-depth d_k is read after this many layers: base and shape only."""
        return self.base_layers + self.shape_layers

    def slot(self, k: int, part: str) -> int:
        """W+ index of class k's shape or texture code."""
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {part!r}")
        return self.base_layers + 2 * k + (part == "texture")

    def layer_slots(self, k: int) -> list[int]:
        """The W+ slot each layer of class k's local generator reads."""
        shape, texture = self.slot(k, "shape"), self.slot(k, "texture")
        if k == 0:    # background: no base code
            return [shape] * self.depth_after + [texture] * self.texture_layers
        return list(range(self.base_layers)) + [shape] * self.shape_layers + [texture] * self.texture_layers

    def class_slots(self, k: int) -> set[int]:
        return set(self.layer_slots(k))

    def mix(self, w1: torch.Tensor, w2: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Per-class style mixing: base codes from w1; each class of each sample independently takes
        (shape, texture) from (w1, w1), (w1, w2) or (w2, w2), uniformly (official training recipe)."""
        n, k = w1.shape[0], self.num_classes
        choice = torch.randint(0, 3, (n, k), generator=generator).to(w1.device)
        ws = w1[:, None, :].repeat(1, self.num_ws, 1)
        shape_idx = [self.slot(c, "shape") for c in range(k)]
        texture_idx = [self.slot(c, "texture") for c in range(k)]
        ws[:, shape_idx] = torch.where((choice == 2)[..., None], w2[:, None, :], w1[:, None, :])
        ws[:, texture_idx] = torch.where((choice >= 1)[..., None], w2[:, None, :], w1[:, None, :])
        return ws
