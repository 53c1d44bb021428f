"""SemanticStyleGAN's generator on the shared backbone (mapping network, W+ access, truncation).

``SemanticSynthesis`` has the backbone synthesis network's call signature
(``synthesis(ws, control, noise_mode, return_features)`` -> image), so the trainer,
``SteerModel.generate`` and every metric work unchanged; ``compose`` returns everything
else: the final segmentation, the coarse masks and the per-class pseudo-depths.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from ...nn import ArchConfig, Generator
from .fusion import coarse_masks, fuse
from .layout import LatentLayout
from .local import FourierFeatures, LocalGenerator
from .render import RenderNet


@dataclass
class SemanticOutput:
    image: torch.Tensor          # [N, 3, R, R], about [-1, 1]
    segmentation: torch.Tensor   # [N, K, R, R], upsample(2m - 1) + residuals (what D sees)
    coarse_mask: torch.Tensor    # [N, K, S, S], softmax over depths, sums to 1 per pixel
    depths: torch.Tensor         # [N, K, S, S] pseudo-depths (background: 0)
    features: dict               # {resolution: render-net block output}


class SemanticSynthesis(nn.Module):
    def __init__(self, cfg: ArchConfig, layout: LatentLayout, coarse_size: int = 32, render_start: int = 16,
                 local_channels: int = 32, feature_channels: int = 64):
        super().__init__()
        self.layout = layout
        self.num_ws = layout.num_ws
        self.coarse_size = coarse_size
        self.fourier = FourierFeatures(coarse_size, local_channels)
        self.local = nn.ModuleList(
            LocalGenerator(local_channels, feature_channels, cfg.w_dim, layout.local_layers, layout.depth_after,
                           has_depth=k > 0)
            for k in range(layout.num_classes))
        self.render = RenderNet(cfg, feature_channels, layout.num_classes, coarse_size, render_start)
        for k in range(layout.num_classes):
            self.register_buffer(f"slots_{k}", torch.tensor(layout.layer_slots(k)), persistent=False)

    def compose(self, ws: torch.Tensor, noise_mode: str = "random",
                visible: Optional[torch.Tensor] = None) -> SemanticOutput:
        """W+ [N, num_ws, w_dim] (or one w [N, w_dim]) -> all outputs; ``visible`` (bool [N, K])
        keeps only some classes in the fusion (composition figure)."""
        if ws.ndim == 2:
            ws = ws[:, None, :].expand(-1, self.num_ws, -1)
        hidden, depths = self.local_outputs(ws)
        m = coarse_masks(depths, visible)
        f = fuse(m, hidden, [g.to_feature for g in self.local])
        m, f, depths = (self.to_image_layout(t) for t in (m, f, depths))
        img, seg, features = self.render(f, m, noise_mode)
        return SemanticOutput(img, seg, m, depths, features)

    def local_outputs(self, ws: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """(K last hidden states [N, P, C], pseudo-depths [N, P, K]) of the local generators."""
        x = self.fourier()
        hidden, depths = [], []
        for k, g in enumerate(self.local):
            h_k, d_k = g(x, ws.index_select(1, getattr(self, f"slots_{k}")))
            hidden.append(h_k)
            depths.append(d_k if d_k is not None else h_k.new_zeros(h_k.shape[0], h_k.shape[1], 1))
        return hidden, torch.cat(depths, dim=-1)

    def to_image_layout(self, tokens: torch.Tensor) -> torch.Tensor:
        """[N, P, C] pixel tokens -> [N, C, S, S] (a channels-last view, no copy)."""
        n, _, c = tokens.shape
        return tokens.reshape(n, self.coarse_size, self.coarse_size, c).permute(0, 3, 1, 2)

    def forward(self, ws: torch.Tensor, control=None, noise_mode: str = "random", return_features: bool = False):
        out = self.compose(ws, noise_mode)
        return (out.image, out.features) if return_features else out.image


class SemanticGenerator(Generator):
    """Mapping network + ``SemanticSynthesis``; style mixing is per class (``LatentLayout.mix``)."""

    def __init__(self, cfg: ArchConfig, layout: LatentLayout, **synthesis_options):
        super().__init__(cfg, synthesis=SemanticSynthesis(cfg, layout, **synthesis_options))
        self.layout = layout

    def mapping_ws(self, z: torch.Tensor, truncation: float = 1.0, mix_prob: float = 0.0,
                   update_w_avg: bool = False) -> torch.Tensor:
        w = self.mapping(z, truncation, update_w_avg)
        if mix_prob > 0 and torch.rand(()) < mix_prob:
            return self.layout.mix(w, self.mapping(torch.randn_like(z), truncation))
        return w[:, None, :].repeat(1, self.num_ws, 1)
