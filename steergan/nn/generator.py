"""Generator = mapping + synthesis, with truncation, style mixing and W / W+ access."""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from .adapters import AdapterFactory
from .mapping import MappingNetwork
from .presets import ArchConfig
from .synthesis import SynthesisNetwork


class Generator(nn.Module):
    def __init__(self, cfg: ArchConfig, adapter_factory: Optional[AdapterFactory] = None,
                 synthesis: Optional[nn.Module] = None):
        """``synthesis`` replaces the StyleGAN2 synthesis network by a method's own (same call
        signature, W+ of ``synthesis.num_ws`` entries), e.g. SemanticStyleGAN's local generators."""
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.mapping = MappingNetwork(cfg)
        self.synthesis = synthesis if synthesis is not None else SynthesisNetwork(cfg, adapter_factory)
        self.num_ws = self.synthesis.num_ws

    @property
    def resolution(self) -> int:
        return self.cfg.resolution

    def z_from_seed(self, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """The same seed gives the same z on every machine (CPU generator, float32)."""
        g = torch.Generator().manual_seed(int(seed))
        return torch.randn(1, self.cfg.z_dim, generator=g).to(device)

    def mapping_ws(self, z: torch.Tensor, truncation: float = 1.0, mix_prob: float = 0.0,
                   update_w_avg: bool = False) -> torch.Tensor:
        """z -> W+ [N, num_ws, w_dim], with optional style mixing (a 2nd z after a random cut)."""
        w = self.mapping(z, truncation, update_w_avg)
        ws = w[:, None, :].repeat(1, self.num_ws, 1)
        if mix_prob > 0 and torch.rand(()) < mix_prob:
            w2 = self.mapping(torch.randn_like(z), truncation)
            cut = int(torch.randint(1, self.num_ws, ()))
            ws[:, cut:] = w2[:, None, :]
        return ws

    def forward(self, z: torch.Tensor, control: Any = None, truncation: float = 1.0,
                mix_prob: float = 0.0, noise_mode: str = "random", return_features: bool = False,
                update_w_avg: bool = False):
        ws = self.mapping_ws(z, truncation, mix_prob, update_w_avg)
        return self.synthesis(ws, control, noise_mode=noise_mode, return_features=return_features)
