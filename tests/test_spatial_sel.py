"""Spatial encoding layers plugged into the backbone through adapters."""
import pytest
import torch

from steergan.errors import UserError
from steergan.methods import build_method
from steergan.methods.spatial.heatmaps import Heatmaps, sample_hierarchical, sample_multi_object
from steergan.methods.spatial.sel import SELConcat, SELIndoor, SELNorm
from steergan.nn import Generator, LayerSpec, get_preset

ARCH = get_preset("test")


def _pair(options, seed=0):
    """A spatial G and a baseline G holding the same backbone weights."""
    torch.manual_seed(seed)
    method = build_method("spatial", options)
    G = method.build_generator(ARCH).eval()
    base = Generator(ARCH).eval()
    missing, unexpected = base.load_state_dict(G.state_dict(), strict=False)
    assert not missing and all(".adapter." in k for k in unexpected)
    return method, G, base


def _ws(G, n=3, seed=1):
    return G.mapping_ws(torch.randn(n, ARCH.z_dim, generator=torch.Generator().manual_seed(seed)))


def test_sel_output_shapes():
    spec = LayerSpec(index=1, w_index=1, resolution=8, in_channels=16, out_channels=16, w_dim=16, upsample=True)
    x = torch.randn(2, 16, 4, 4)
    hier = sample_hierarchical(2, torch.Generator().manual_seed(0))
    assert SELNorm(spec, 1).before_conv(x, hier).shape == x.shape
    cat = SELConcat(spec, 2)
    assert cat.extra_in_channels == 4 and cat.before_conv(x, hier).shape == (2, 20, 4, 4)
    assert torch.equal(cat.before_conv(x, None)[:, 16:], torch.zeros(2, 4, 4, 4))
    multi = sample_multi_object(2, 3, torch.Generator().manual_seed(0)).set_style(0, torch.randn(16))
    affine = torch.nn.Linear(16, 16)
    s = SELIndoor(spec).styles(affine, torch.randn(2, 16), multi)
    assert s.shape == (2, 16, 4, 4)                     # style map at the conv's input resolution
    assert SELNorm(spec, "sum").before_conv(x, multi).shape == x.shape
    with pytest.raises(UserError):
        SELNorm(spec, 1).before_conv(x, "not heatmaps")
    with pytest.raises(UserError):
        SELIndoor(spec, mix="max")


@pytest.mark.parametrize("options", [{}, {"sampling": "multi", "sel": "norm"}])
def test_selnorm_is_exactly_the_identity_at_init(options):
    method, G, base = _pair(options)
    ws = _ws(G)
    hm = method.sample_control(3, G, "cpu", torch.Generator().manual_seed(2))
    with torch.no_grad():
        a = G.synthesis(ws, hm, noise_mode="const")
        b = base.synthesis(ws, noise_mode="const")
        c = G.synthesis(ws, None, noise_mode="const")
    assert torch.equal(a, b) and torch.equal(c, b)
    # ...but it is wired: once phi is non-zero the heatmap changes the image, differentiably
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, SELNorm):
                m.phi.weight.normal_()
    c0 = hm.centres.clone().requires_grad_(True)
    hm2 = Heatmaps(c0, hm.sigmas, hm.levels, hm.parents, hm.active, hm.styles, hm.kind)
    out = G.synthesis(ws, hm2, noise_mode="const")
    assert not torch.allclose(out, b)
    out.square().sum().backward()
    assert c0.grad is not None and c0.grad.abs().sum() > 0


def test_sel_placement_follows_the_paper():
    hier = build_method("spatial").build_generator(get_preset("tiny"))
    by_res = {spec.resolution: type(conv.adapter).__name__ if conv.adapter else None
              for spec, conv in zip(hier.synthesis.layer_specs, hier.synthesis.convs)}
    assert by_res == {4: "SELNorm", 8: "SELNorm", 16: "SELNorm", 32: None, 64: None}
    levels = [conv.adapter.source for conv in hier.synthesis.convs if conv.adapter]
    assert levels == [0, 1, 1, 2, 2]                    # 4 px <- level 0, 8 <- 1, 16 <- 2
    multi = build_method("spatial", {"sampling": "multi"}).build_generator(ARCH)
    assert all(isinstance(c.adapter, SELIndoor) for c in multi.synthesis.convs)
    cat = build_method("spatial", {"sel": "concat"}).build_generator(ARCH)
    assert [c.conv.weight.shape[1] - c.adapter.extra_in_channels for c in cat.synthesis.convs] == \
           [s.in_channels for s in cat.synthesis.layer_specs]


def test_selindoor_without_active_heatmaps_is_the_plain_style_path():
    method, G, base = _pair({"sampling": "multi"})
    ws = _ws(G)
    hm = method.sample_control(3, G, "cpu", torch.Generator().manual_seed(3))
    assert hm.styles is not None and hm.styles.shape == (3, 3, ARCH.w_dim)
    with torch.no_grad():
        ref = base.synthesis(ws, noise_mode="const")
        off = hm.remove(0).remove(1).remove(2)
        assert torch.equal(G.synthesis(ws, off, noise_mode="const"), ref)
        # zero maps through the spatial (per-pixel demodulated) path: equal up to rounding
        far = Heatmaps(hm.centres + 50, hm.sigmas * 0 + 0.05, hm.levels, hm.parents, hm.active, hm.styles, hm.kind)
        assert torch.allclose(G.synthesis(ws, far, noise_mode="const"), ref, atol=1e-5)
        # no per-object codes: every region uses the image's w -> the plain path again
        plain = Heatmaps(hm.centres, hm.sigmas, hm.levels, hm.parents, hm.active, None, hm.kind)
        assert torch.allclose(G.synthesis(ws, plain, noise_mode="const"), ref, atol=1e-5)
        assert not torch.allclose(G.synthesis(ws, hm, noise_mode="const"), ref, atol=1e-3)


def test_selindoor_blends():
    spec = LayerSpec(0, 0, 4, 8, 8, 8, False)
    affine = torch.nn.Linear(8, 8)
    w = torch.randn(1, 8)
    code = torch.randn(8)
    one = Heatmaps(torch.zeros(1, 1, 2), torch.full((1, 1), 0.3), (0,), (-1,)).set_style(0, code)
    h = one.render(4)[0, 0]
    s_bg, s_1 = affine(w)[0], affine(code[None])[0]
    convex = SELIndoor(spec, "convex").styles(affine, w, one)[0]
    total = SELIndoor(spec, "sum").styles(affine, w, one)[0]
    assert torch.allclose(convex, s_bg[:, None, None] * (1 - h) + s_1[:, None, None] * h, atol=1e-6)
    assert torch.allclose(total, s_bg[:, None, None] + s_1[:, None, None] * h, atol=1e-6)


def test_moving_an_object_changes_the_image_mostly_near_it():
    """Reliable at init for SEL_indoor (each object has its own code); SEL_norm is the
    identity at init, so it is only meaningful there after training."""
    R = ARCH.resolution
    g = (torch.arange(R) * 2 + 1) / R - 1
    yy, xx = torch.meshgrid(g, g, indexing="ij")
    near = ((xx + 0.5) ** 2 + yy ** 2 < 0.25) | ((xx + 0.5) ** 2 + (yy - 0.5) ** 2 < 0.25)
    near_sum = far_sum = 0.0
    for seed in range(4):
        method, G, _ = _pair({"sampling": "multi"}, seed=seed)
        hm = method.sample_control(1, G, "cpu", torch.Generator().manual_seed(seed))
        hm = hm.set_centre(0, [-0.5, 0.0]).set_centre(1, [0.6, 0.6]).set_centre(2, [0.6, -0.6]).set_sigma(0, 0.2)
        ws = _ws(G, 1, seed)
        with torch.no_grad():
            d = (G.synthesis(ws, hm, noise_mode="const")
                 - G.synthesis(ws, hm.move(0, [0.0, 0.5]), noise_mode="const")).abs().sum(1)[0]
        near_sum += d[near].mean().item()
        far_sum += d[~near].mean().item()
    assert near_sum > 2 * far_sum


def test_per_forward_memo_renders_once_and_never_goes_stale():
    """Synthesis hands layers a per-forward view that memoises heatmap renders; centres
    optimised in place (drag editing) must still be re-rendered on the next pass."""
    method, G, _ = _pair({"sampling": "multi"})
    hm = method.sample_control(1, G, "cpu", torch.Generator().manual_seed(0))
    view = hm.per_forward()
    assert view.render(8) is view.render(8) and hm.render(8) is not hm.render(8)
    torch.testing.assert_close(view.render(8), hm.render(8), rtol=0, atol=0)
    ws = _ws(G, 1)
    centres = hm.centres.clone().requires_grad_(True)
    live = Heatmaps(centres, hm.sigmas, hm.levels, hm.parents, hm.active, hm.styles, hm.kind)
    first = G.synthesis(ws, live, noise_mode="const")
    first.sum().backward()                       # gradients reach centres through the memo
    assert centres.grad is not None and centres.grad.abs().sum() > 0
    with torch.no_grad():
        centres.add_(0.3)                        # an optimiser step, in place
        moved = G.synthesis(ws, live, noise_mode="const")
        expected = G.synthesis(ws, hm.move(0, [0.3, 0.3], False).move(1, [0.3, 0.3], False)
                               .move(2, [0.3, 0.3], False), noise_mode="const")
    torch.testing.assert_close(moved, expected)
    assert not torch.allclose(moved, first.detach())


def test_indoor_norm_equals_indoor_at_init_and_learns_a_spatial_branch():
    torch.manual_seed(0)
    both = build_method("spatial", {"sampling": "multi", "sel": "indoor_norm"})
    only = build_method("spatial", {"sampling": "multi", "sel": "indoor"})
    G = both.build_generator(ARCH).eval()
    H = only.build_generator(ARCH).eval()
    missing, unexpected = H.load_state_dict(G.state_dict(), strict=False)
    assert not missing and unexpected and all(".norm." in k for k in unexpected)
    hm = both.sample_control(2, G, torch.device("cpu"), torch.Generator().manual_seed(3))
    ws = _ws(G, 2)
    assert torch.equal(G.synthesis(ws, hm), H.synthesis(ws, hm))      # the SEL_norm branch starts as x + 0
    assert both.capabilities[-1] == "heatmap_style"
    G.synthesis(ws, hm).square().mean().backward()
    grads = [p.grad for n, p in G.named_parameters() if ".norm.phi." in n]
    assert grads and any(g is not None and g.abs().sum() > 0 for g in grads)
    with pytest.raises(UserError):
        build_method("spatial", {"sel": "indoor_norm"})                  # needs multi-object heatmaps
