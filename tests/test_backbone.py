"""Backbone: shapes, initialisation statistics, resampling, extension points."""
import math

import numpy as np
import pytest
import torch

from steergan.nn import Discriminator, Generator, LayerAdapter, get_preset
from steergan.nn.layers import EqualConv2d, EqualLinear
from steergan.nn.modulated import ModulatedConv2d
from steergan.nn.resample import Downsample2x, Upsample2x, make_kernel, upfirdn2d


@pytest.mark.parametrize("preset", ["test", "tiny"])
def test_shapes_and_dtypes(preset):
    cfg = get_preset(preset)
    G, D = Generator(cfg), Discriminator(cfg)
    z = torch.randn(2, cfg.z_dim)
    img, feats = G(z, return_features=True)
    r = cfg.resolution
    assert img.shape == (2, 3, r, r) and img.dtype == torch.float32
    assert sorted(feats) == [2 ** i for i in range(2, r.bit_length())]
    for res, f in feats.items():
        assert f.shape == (2, cfg.channels(res), res, res)
    logits, dfeats = D(img, return_features=True)
    assert logits.shape == (2,)
    assert {4, 8, 16} <= set(dfeats)
    assert G.mapping_ws(z).shape == (2, cfg.num_ws, cfg.w_dim)


def test_paper256_architecture_builds():
    cfg = get_preset("paper256")
    G = Generator(cfg)
    assert G.num_ws == 14 and cfg.channels(256) == 64 and cfg.channels(32) == 512
    with torch.no_grad():
        assert G(torch.randn(1, cfg.z_dim)).shape == (1, 3, 256, 256)


def test_equalised_lr_init_statistics():
    torch.manual_seed(0)
    lin = EqualLinear(512, 512)
    x = torch.randn(4096, 512)
    assert lin(x).std().item() == pytest.approx(1.0, rel=0.05)   # unit-variance in -> out
    conv = EqualConv2d(64, 64, 3, padding=1)
    y = conv(torch.randn(64, 64, 16, 16))
    assert y.std().item() == pytest.approx(1.0, rel=0.05)
    # the stored weight is N(0, 1): the runtime scale carries 1/sqrt(fan_in)
    assert conv.weight.std().item() == pytest.approx(1.0, rel=0.05)
    assert conv.scale == pytest.approx(1 / math.sqrt(64 * 9))
    # the mapping network's lr_mul stores weights 1/lr_mul larger and scales them back
    slow = EqualLinear(256, 256, lr_mul=0.01)
    assert slow.weight.std().item() == pytest.approx(100.0, rel=0.05)
    assert slow(x[:, :256]).std().item() == pytest.approx(1.0, rel=0.05)


def _direct_upfirdn(x, k1, up, down, pad, gain):
    """Textbook definition, written with numpy loops."""
    k = np.outer(k1, k1) * gain
    n, c, h, w = x.shape
    u = np.zeros((n, c, h * up, w * up))
    u[:, :, ::up, ::up] = x
    p0, p1 = pad
    u = np.pad(u, ((0, 0), (0, 0), (p0, p1), (p0, p1)))
    kh = k.shape[0]
    oh = u.shape[2] - kh + 1
    out = np.zeros((n, c, oh, oh))
    kf = k[::-1, ::-1]  # true convolution
    for i in range(oh):
        for j in range(oh):
            out[:, :, i, j] = (u[:, :, i:i + kh, j:j + kh] * kf).sum(axis=(2, 3))
    return out[:, :, ::down, ::down]


@pytest.mark.parametrize("taps,up,down,pad,gain", [
    ((1, 3, 3, 1), 2, 1, (2, 1), 4.0),
    ((1, 3, 3, 1), 1, 2, (1, 1), 1.0),
    ((1, 2, 4), 1, 1, (1, 1), 1.0),   # asymmetric: catches a missing kernel flip
])
def test_fir_resampling_matches_direct_computation(taps, up, down, pad, gain):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    k = make_kernel(taps).double()
    got = upfirdn2d(x, k, up=up, down=down, pad=pad, gain=gain).numpy()
    want = _direct_upfirdn(x.numpy(), k.numpy(), up, down, pad, gain)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_resampling_sizes_and_dc_gain():
    x = torch.ones(1, 2, 8, 8)
    up = Upsample2x()(x)
    down = Downsample2x()(x)
    assert up.shape[-1] == 16 and down.shape[-1] == 4
    assert up[..., 3:-3, 3:-3].mean().item() == pytest.approx(1.0)   # constant stays constant
    assert down[..., 1:-1, 1:-1].mean().item() == pytest.approx(1.0)


def test_demodulation_normalises_output_and_spatial_styles_agree():
    torch.manual_seed(0)
    conv = ModulatedConv2d(32, 32, 3, w_dim=8)
    x = torch.randn(4, 32, 16, 16)
    styles = torch.rand(4, 32) * 3 + 0.1
    y = conv(x, styles)
    assert y[:, :, 2:-2, 2:-2].std().item() == pytest.approx(1.0, rel=0.15)
    # a constant style map must give exactly what the vector style gives
    y_map = conv(x, styles[:, :, None, None].expand(-1, -1, 16, 16))
    torch.testing.assert_close(y, y_map, rtol=1e-4, atol=1e-5)
    up = ModulatedConv2d(32, 16, 3, w_dim=8, upsample=True)
    torch.testing.assert_close(up(x, styles), up(x, styles[:, :, None, None].expand(-1, -1, 16, 16)),
                               rtol=1e-4, atol=1e-5)


def test_truncation_and_w_plus():
    cfg = get_preset("test")
    G = Generator(cfg)
    z = torch.randn(3, cfg.z_dim)
    G.mapping.w_avg.copy_(torch.randn(cfg.w_dim))
    w0 = G.mapping(z, truncation=0.0)
    torch.testing.assert_close(w0, G.mapping.w_avg.expand(3, -1))
    ws = G.mapping_ws(z)
    assert torch.equal(ws[:, 0], ws[:, -1])       # no mixing: every layer the same w
    torch.manual_seed(1)
    mixed = G.mapping_ws(z, mix_prob=1.0)
    assert not torch.equal(mixed[:, 0], mixed[:, -1])
    # W+ changes in one layer change the image
    a = G.synthesis(ws, noise_mode="const")
    ws2 = ws.clone()
    ws2[:, -1] += 1
    assert not torch.allclose(a, G.synthesis(ws2, noise_mode="const"))
    assert torch.equal(a, G.synthesis(ws, noise_mode="const"))   # const noise is deterministic



def test_synthesis_split_at_a_resolution_gives_the_whole_forward():
    """``run_blocks`` in two calls (what PTI does to render its frozen blocks once) is ``forward``."""
    cfg = get_preset("test")
    G = Generator(cfg)
    ws = G.mapping_ws(torch.randn(2, cfg.z_dim))
    whole = G.synthesis(ws, noise_mode="const")
    for split in G.synthesis.resolutions[1:]:
        x, img = G.synthesis.run_blocks(ws, noise_mode="const", stop_res=split)
        assert x.shape[-1] == img.shape[-1] == split // 2
        _, out = G.synthesis.run_blocks(ws, noise_mode="const", start_res=split, x=x, img=img)
        assert torch.equal(out, whole), split
    with pytest.raises(ValueError, match="constant"):
        G.synthesis.run_blocks(ws, noise_mode="const", start_res=8)
    with pytest.raises(ValueError, match="resolutions"):
        G.synthesis.run_blocks(ws, noise_mode="const", stop_res=12)

class _ConcatOnes(LayerAdapter):
    """Adds one constant input channel and a visible shift after the conv."""
    extra_in_channels = 1

    def before_conv(self, x, control):
        return torch.cat([x, torch.ones_like(x[:, :1]) * control], dim=1)

    def after_conv(self, x, control):
        return x + control


def test_adapters_extend_layers_without_touching_the_backbone():
    cfg = get_preset("test")
    seen = []

    def factory(spec):
        seen.append(spec)
        return _ConcatOnes() if spec.resolution == 8 and spec.kind == "conv" else None

    G = Generator(cfg, adapter_factory=factory)
    convs = [s for s in seen if s.kind == "conv"]
    rgbs = [s for s in seen if s.kind == "rgb"]
    assert [s.index for s in convs] == list(range(len(G.synthesis.convs)))
    assert [s.resolution for s in rgbs] == [4, 8, 16] and rgbs[-1].w_index == G.num_ws - 1
    assert sum(s.resolution == 8 for s in convs) == 2
    ws = G.mapping_ws(torch.randn(1, cfg.z_dim))
    a = G.synthesis(ws, control=0.0, noise_mode="const")
    b = G.synthesis(ws, control=1.0, noise_mode="const")
    assert not torch.allclose(a, b)


def test_discriminator_accepts_extra_input_planes_and_gradients_flow():
    cfg = get_preset("test")
    D = Discriminator(cfg, in_channels=5)
    x = torch.randn(4, 5, 16, 16, requires_grad=True)
    D(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in D.parameters())
