"""The extension point through which control methods reach into synthesis layers.

A method passes an ``adapter_factory(spec) -> LayerAdapter | None`` to the synthesis
network. Each styled layer then asks its adapter to (1) add input channels before the
convolution (e.g. SEL_concat), (2) replace the layer's styles (e.g. spatially varying
styles for SEL_indoor) and (3) transform the features after it (e.g. SEL_norm).
The backbone never needs to know which method is plugged in.

A control state may define ``per_forward()``: synthesis calls it once per forward pass and
hands the result to every layer, so a state can memoise work that many layers repeat
(SpatialGAN renders the same heatmap at a few resolutions for ~15 layers). The memo lives
only for that pass, so a state whose tensors are optimised in place stays correct.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
from torch import nn


@dataclass(frozen=True)
class LayerSpec:
    """What an adapter may need to know about the layer it attaches to."""

    index: int          # position among styled conv layers (0 = the 4x4 conv)
    w_index: int        # which entry of W+ this layer reads
    resolution: int     # output resolution of the layer
    in_channels: int
    out_channels: int
    w_dim: int
    upsample: bool
    kind: str = "conv"  # "conv" for styled 3x3 layers, "rgb" for toRGB (gets before_conv and styles only)


class LayerAdapter(nn.Module):
    """Identity adapter; subclasses override only what they change."""

    extra_in_channels: int = 0

    def before_conv(self, x: torch.Tensor, control: Any) -> torch.Tensor:
        return x

    def styles(self, affine: nn.Module, w: torch.Tensor, control: Any) -> torch.Tensor:
        """Return styles [N, C_in] or a spatial style map [N, C_in, H, W]."""
        return affine(w)

    def after_conv(self, x: torch.Tensor, control: Any) -> torch.Tensor:
        return x


def per_forward(control: Any) -> Any:
    """The control state one synthesis pass should hand to its layers (see the docstring)."""
    hook = getattr(control, "per_forward", None)
    return hook() if callable(hook) else control


AdapterFactory = Callable[[LayerSpec], Optional[LayerAdapter]]
