"""Spatial encoding layers (SEL, TPAMI Sec. 3.2, Fig. 6/7) as backbone ``LayerAdapter``s.

Each adapter reads the layer's heatmap from the control state (a ``Heatmaps``) at the
resolution of the layer's *input* (the upsampling conv of the 8 px block sees a 4 px input,
as in the official code), rendered by area averaging: this is the paper's *coarse heatmap
processing* ("first down-sample the heatmap to the intermediate resolution and then process
it via a convolution layer", Sec. 3.2 / 4.3). All heatmap convolutions therefore run at
feature resolution; the official code's full-resolution pre-encoder is gone.

``source`` says what a layer reads: a hierarchy level (int: its 1/2/4 centre channels,
one channel per centre as in the official code) or ``"sum"`` (multi-object: the full map
H = sum_i H_i, one channel, so the object order does not matter). With ``control=None``
every adapter falls back to the plain StyleGAN2 layer (SELConcat feeds zero planes).
"""
from __future__ import annotations

from typing import Union

import torch
from torch import nn

from ...errors import UserError
from ...nn import EqualConv2d, LayerAdapter, LayerSpec
from .heatmaps import CENTRES_PER_LEVEL, Heatmaps

Source = Union[int, str]
INDOOR_MIXES = ("convex", "sum")


def source_channels(source: Source) -> int:
    return 1 if source == "sum" else CENTRES_PER_LEVEL[source]


def heatmap_input(control, source: Source, resolution: int) -> torch.Tensor:
    """[N, c, r, r] heatmap planes a layer reads (see the module docstring)."""
    if not isinstance(control, Heatmaps):
        raise UserError(f"the spatial method expects Heatmaps as control, got {type(control).__name__}")
    if source == "sum":
        return control.render_sum(resolution)
    return control.render_level(source, resolution)


def input_resolution(spec: LayerSpec) -> int:
    return spec.resolution // 2 if spec.upsample else spec.resolution


class SELNorm(LayerAdapter):
    """SEL_norm (Eq. 2) with a residual connection (Fig. 6), applied before the modulated conv.

    ``x + phi_sigma(H) * (x - mu(x)) / sigma(x) + phi_mu(H)``, with mu/sigma the per-sample,
    per-channel instance statistics and phi point-wise maps of shape (h, w, 1) (Eq. 2) from
    a small conv net on the coarse heatmap: conv3x3(c -> hidden, lrelu), conv3x3(hidden -> 2).
    The last conv is zero-initialised, so at init the layer is *exactly* the identity
    (x + 0) while its weights still get gradients; this replaces the official
    ``0.1 * conv_CxC(...)`` output branch, whose CxC 3x3 convs made G 3.7x more expensive.
    """

    def __init__(self, spec: LayerSpec, source: Source, hidden: int = 32):
        super().__init__()
        self.source = source
        c = source_channels(source)
        self.shared = EqualConv2d(c, hidden, 3, padding=1, activation=True)
        self.phi = EqualConv2d(hidden, 2, 3, padding=1)      # -> (phi_sigma, phi_mu)
        with torch.no_grad():
            self.phi.weight.zero_()

    def before_conv(self, x: torch.Tensor, control) -> torch.Tensor:
        if control is None:
            return x
        h = heatmap_input(control, self.source, x.shape[-1]).to(x.dtype)
        phi = self.phi(self.shared(h))
        xc = x - x.mean(dim=(2, 3), keepdim=True)      # (x.var is 3x slower on channels_last)
        xn = xc * torch.rsqrt(xc.square().mean(dim=(2, 3), keepdim=True) + 1e-5)
        return x + (phi[:, :1] * xn + phi[:, 1:])


class SELConcat(LayerAdapter):
    """SEL_concat (Sec. 3.2): the coarse heatmap planes are concatenated to the conv input.

    The layer's own modulated conv is "the convolution layer" processing the concatenation;
    the backbone widens it by ``extra_in_channels`` (its affine styles cover the new planes).
    """

    def __init__(self, spec: LayerSpec, source: Source):
        super().__init__()
        self.source = source
        self.extra_in_channels = source_channels(source)

    def before_conv(self, x: torch.Tensor, control) -> torch.Tensor:
        if control is None:
            h = x.new_zeros(x.shape[0], self.extra_in_channels, x.shape[2], x.shape[3])
        else:
            h = heatmap_input(control, self.source, x.shape[-1]).to(x.dtype)
        return torch.cat([x, h], dim=1)


class SELIndoor(LayerAdapter):
    """SEL_indoor (Eq. 3, Fig. 7): a spatial style map replaces the layer's style.

    ``S_i = affine(w_i)`` for each sub-heatmap's code (NaN rows / no codes: the image's w),
    ``S_bg = affine(w)``. Two blends (option ``indoor_mix``):

    * ``"convex"`` (default, our choice): ``a_i = H_i / max(1, sum_j H_j)`` and
      ``S = sum_i a_i S_i + (1 - sum_i a_i) S_bg``. This is Eq. 3 with S_i measured relative
      to the background (S_bg + sum_i a_i (S_i - S_bg)); the weights never exceed 1, so at an
      object's centre its own code *replaces* the background's (what "replacing objects",
      Fig. 9c, needs) and the style magnitude stays that of a single StyleGAN2 style.
    * ``"sum"``: Eq. 3 literally, ``S = sum_i H_i S_i + S_bg``.

    Either way, with every H_i = 0 it is exactly the plain style ``S_bg``. The modulated
    conv demodulates per pixel, so the spatial styles need nothing else from the backbone.
    """

    def __init__(self, spec: LayerSpec, mix: str = "convex"):
        super().__init__()
        if mix not in INDOOR_MIXES:
            raise UserError(f"unknown indoor_mix {mix!r}; choose one of {', '.join(INDOOR_MIXES)}")
        self.mix = mix
        self.in_res = input_resolution(spec)

    def mix_weights(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(a [N, K, r, r], background weight [N, r, r]) from the sub-heatmaps h."""
        if self.mix == "convex":
            a = h / h.sum(1, keepdim=True).clamp(min=1.0)
            return a, 1 - a.sum(1)
        return h, torch.ones_like(h[:, 0])

    def before_conv(self, x: torch.Tensor, control) -> torch.Tensor:
        # Only noted: the style map is built in x's memory format (a mismatch costs ~25%).
        self._channels_last = x.is_contiguous(memory_format=torch.channels_last)
        return x

    def styles(self, affine: nn.Module, w: torch.Tensor, control) -> torch.Tensor:
        s_bg = affine(w)
        if control is None:
            return s_bg
        if not isinstance(control, Heatmaps):
            raise UserError(f"the spatial method expects Heatmaps as control, got {type(control).__name__}")
        if not bool(control.active.any()):
            return s_bg                                         # nothing to place: plain style path
        a, bg = control.memo(("indoor_mix", self.mix, self.in_res, s_bg.dtype),
                             lambda: self.mix_weights(control.render(self.in_res).to(s_bg.dtype)))
        s_i = affine(control.styles_or(w))                      # [N, K, C]
        s = torch.einsum("nkc,nkhw->nhwc", s_i, a) + s_bg[:, None, None, :] * bg[..., None]
        s = s.permute(0, 3, 1, 2)                               # [N, C, r, r], channels_last strides
        return s if getattr(self, "_channels_last", False) else s.contiguous()


class SELIndoorNorm(SELIndoor):
    """SEL_indoor's spatial styles plus SEL_norm's heatmap-driven normalisation (ours).

    SEL_indoor alone can only *restyle* where a heatmap is; the SEL_norm branch (identity at
    init) also gives every layer a direct, additive spatial signal from H = sum_i H_i, the
    shortest path for "put an object here". Per-object style codes keep working.
    """

    def __init__(self, spec: LayerSpec, mix: str = "convex", hidden: int = 32):
        super().__init__(spec, mix)
        self.norm = SELNorm(spec, "sum", hidden)

    def before_conv(self, x: torch.Tensor, control) -> torch.Tensor:
        return self.norm.before_conv(super().before_conv(x, control), control)
