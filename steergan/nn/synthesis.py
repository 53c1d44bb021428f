"""StyleGAN2 synthesis network (skip architecture) with per-layer adapters and features."""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from .adapters import AdapterFactory, LayerSpec, per_forward
from .modulated import StyledConv, ToRGB
from .presets import ArchConfig


class SynthesisNetwork(nn.Module):
    """W+ [N, num_ws, w_dim] (+ a method's control state) -> image [N, 3, R, R] in [-1, 1]-ish.

    ``features`` (when asked) maps each resolution to the output of its block, which
    GradCAM alignment and point dragging read.
    """

    def __init__(self, cfg: ArchConfig, adapter_factory: Optional[AdapterFactory] = None):
        super().__init__()
        self.cfg = cfg
        self.resolutions = [2 ** i for i in range(2, cfg.resolution.bit_length())]
        make = adapter_factory or (lambda spec: None)
        c4 = cfg.channels(4)
        self.const = nn.Parameter(torch.randn(1, c4, 4, 4))
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.layer_specs: list[LayerSpec] = []
        w_index, in_ch = 0, c4
        for res in self.resolutions:
            out_ch = cfg.channels(res)
            for up in ([False] if res == 4 else [True, False]):
                spec = LayerSpec(len(self.convs), w_index, res, in_ch, out_ch, cfg.w_dim, up)
                self.layer_specs.append(spec)
                self.convs.append(StyledConv(in_ch, out_ch, cfg.w_dim, res, upsample=up,
                                             adapter=make(spec), blur_kernel=cfg.blur_kernel))
                in_ch, w_index = out_ch, w_index + 1
            # toRGB reads the W+ entry after its block's last conv (as StyleGAN2 does).
            rgb_spec = LayerSpec(len(self.to_rgbs), w_index, res, out_ch, cfg.img_channels, cfg.w_dim,
                                 False, kind="rgb")
            self.to_rgbs.append(ToRGB(out_ch, cfg.w_dim, upsample=res > 4, out_channels=cfg.img_channels,
                                      blur_kernel=cfg.blur_kernel, adapter=make(rgb_spec)))
        self.num_ws = w_index + 1
        assert self.num_ws == cfg.num_ws

    def forward(self, ws: torch.Tensor, control: Any = None, noise_mode: str = "random",
                return_features: bool = False):
        features = {} if return_features else None
        _, img = self.run_blocks(ws, control, noise_mode, features=features)
        return (img, features) if return_features else img

    def run_blocks(self, ws: torch.Tensor, control: Any = None, noise_mode: str = "random", start_res: int = 4,
                   stop_res: Optional[int] = None, x: Optional[torch.Tensor] = None,
                   img: Optional[torch.Tensor] = None, features: Optional[dict] = None):
        """The blocks from ``start_res`` px up to (not including) ``stop_res`` px, going on from the
        activations ``(x, img)`` the block before left (from the constant when ``start_res`` is 4);
        returns ``(x, img)``. Two calls split at one resolution give what one ``forward`` gives:
        pivotal tuning renders its frozen coarse blocks once instead of at every step."""
        if ws.ndim == 2:  # a single w for every layer
            ws = ws[:, None, :].expand(-1, self.num_ws, -1)
        if start_res not in self.resolutions or (stop_res is not None and stop_res not in self.resolutions):
            raise ValueError(f"blocks run between resolutions of {self.resolutions}, got {start_res}..{stop_res}")
        if (start_res == 4) != (x is None):
            raise ValueError("x is the constant at 4 px and must be given (with img) from any later block")
        if x is None:
            x = self.const.expand(ws.shape[0], -1, -1, -1)
        control = per_forward(control)
        layer = next(s.index for s in self.layer_specs if s.resolution == start_res)
        for block, res in enumerate(self.resolutions):
            if res < start_res:
                continue
            if stop_res is not None and res >= stop_res:
                break
            for _ in range(1 if res == 4 else 2):
                x = self.convs[layer](x, ws[:, layer], control, noise_mode)
                layer += 1
            img = self.to_rgbs[block](x, ws[:, layer], img, control)
            if features is not None:
                features[res] = x
        return x, img
