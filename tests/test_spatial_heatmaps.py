"""SpatialGAN heatmaps: samplers, differentiable rendering, edits, exact JSON."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

from steergan.errors import UserError
from steergan.methods.spatial.heatmaps import (Heatmaps, sample_hierarchical, sample_multi_object,
                                               collate)

N = 2000


def _normal_stats(std, lo, hi, clamp=None):
    """Mean/std of N(0, std^2) truncated to [lo, hi], then optionally clamped to +-clamp."""
    x = torch.linspace(lo, hi, 200_001, dtype=torch.float64)
    p = torch.exp(-0.5 * (x / std) ** 2)
    p = p / p.sum()
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    mean = (p * x).sum()
    return mean.item(), ((p * (x - mean) ** 2).sum()).sqrt().item()


def test_hierarchical_sampler_statistics_paper_prior():
    h = sample_hierarchical(N, torch.Generator().manual_seed(0))
    assert h.levels == (0, 1, 1, 2, 2, 2, 2) and h.parents == (-1, 0, 0, 0, 0, 0, 0)
    assert h.centres.shape == (N, 7, 2) and h.sigmas.shape == (N, 7) and h.styles is None
    c0 = h.centres[:, 0]
    # level 0: N(centre, h/3 = 2/3), outside the image dropped (redrawn), clamped to +-0.75
    mean, std = _normal_stats(2 / 3, -1, 1, clamp=0.75)
    assert c0.abs().max() <= 0.75
    assert c0.mean(0).abs().max() < 0.03
    assert c0.std(0).sub(std).abs().max() < 0.03
    # deeper centres: N(c0, h/6 = 1/3)
    for level in (1, 2):
        idx = h.level_indices(level)
        off = h.centres[:, idx] - c0[:, None]
        assert off.mean().abs() < 0.02 and abs(off.std().item() - 1 / 3) < 0.02
    # official widths s = 2 sigma^2: U[0.5,1), (U+0.1)/1.4, (U+0.1)/2 -> shrinking influence
    s = 2 * h.sigmas.square()
    for idx, (lo, hi) in (([0], (0.5, 1.0)), ([1, 2], (0.1 / 1.4, 1.1 / 1.4)), ([3, 4, 5, 6], (0.05, 0.55))):
        v = s[:, idx]
        assert v.min() >= lo - 1e-6 and v.max() < hi + 1e-6
        assert abs(v.mean().item() - (lo + hi) / 2) < 0.015
        assert abs(v.std().item() - (hi - lo) / math.sqrt(12)) < 0.015
    assert h.sigmas[:, 0].mean() > h.sigmas[:, 1:3].mean() > h.sigmas[:, 3:].mean()


def test_hierarchical_sampler_official_prior():
    h = sample_hierarchical(N, torch.Generator().manual_seed(1), prior="official")
    c0 = h.centres[:, 0]
    _, std = _normal_stats(0.33, -8, 8, clamp=0.75)
    assert c0.mean(0).abs().max() < 0.03 and c0.std(0).sub(std).abs().max() < 0.02
    for level, half in ((1, 0.4), (2, 0.8)):
        off = h.centres[:, h.level_indices(level)] - c0[:, None]
        assert off.abs().max() <= half and abs(off.std().item() - 2 * half / math.sqrt(12)) < 0.02
    with pytest.raises(UserError):
        sample_hierarchical(2, prior="mine")


def test_multi_object_sampler_statistics():
    h = sample_multi_object(N, 3, torch.Generator().manual_seed(2))
    assert h.levels == (0, 0, 0) and h.parents == (-1, -1, -1) and h.kind == "multi"
    _, std = _normal_stats(1.0, -1, 1)       # N(centre, h/2 = 1), inside the image
    assert h.centres.abs().max() <= 1
    assert h.centres.mean((0, 1)).abs().max() < 0.03
    assert abs(h.centres.reshape(-1, 2).std(0).mean().item() - std) < 0.02
    s = 2 * h.sigmas.square()
    assert s.min() >= 0.1 / 1.4 - 1e-6 and s.max() < 1.1 / 1.4


def test_samplers_are_deterministic_and_leave_the_global_rng_alone():
    state = torch.get_rng_state()
    a = sample_hierarchical(5, torch.Generator().manual_seed(7))
    b = sample_hierarchical(5, torch.Generator().manual_seed(7))
    c = sample_hierarchical(5, torch.Generator().manual_seed(8))
    m1 = sample_multi_object(5, 4, torch.Generator().manual_seed(7))
    m2 = sample_multi_object(5, 4, torch.Generator().manual_seed(7))
    assert torch.equal(torch.get_rng_state(), state)
    assert a.same_as(b) and m1.same_as(m2) and not a.same_as(c)
    torch.manual_seed(3)
    d = sample_hierarchical(5)
    torch.manual_seed(3)
    assert d.same_as(sample_hierarchical(5))


def _small(dtype=torch.float64):
    c = torch.tensor([[[0.1, -0.2], [0.5, 0.3]]], dtype=dtype)
    s = torch.tensor([[0.4, 0.25]], dtype=dtype)
    return c, s


@pytest.mark.parametrize("mode", ["area", "point"])
def test_render_gradcheck_centres_and_sigmas(mode):
    c, s = _small()
    c.requires_grad_(True)
    s.requires_grad_(True)
    f = lambda c, s: Heatmaps(c, s, (0, 0), (-1, -1)).render(4, mode)  # noqa: E731
    assert torch.autograd.gradcheck(f, (c, s), eps=1e-6, atol=1e-5)


def test_area_render_is_consistent_across_resolutions_and_peaks_at_the_centre():
    c, s = _small(torch.float32)
    h = Heatmaps(c, s, (0, 0), (-1, -1))
    fine, coarse = h.render(16), h.render(8)
    assert torch.allclose(F.avg_pool2d(fine, 2), coarse, atol=1e-6)
    # wide Gaussians: the area average approaches point sampling at high resolution
    assert torch.allclose(h.render(128, "area"), h.render(128, "point"), atol=2e-3)
    # convention: x -> column, y -> row, pixel centre (2j + 1)/R - 1
    single = Heatmaps(torch.tensor([[[-0.4, 0.3]]]), torch.tensor([[0.1]]), (0,), (-1,))
    m = single.render(8)[0, 0]
    row, col = divmod(int(m.argmax()), 8)
    assert (col, row) == (2, 5)      # x=-0.4 in column 2 = [-0.5, -0.25], y=0.3 in row 5 = [0.25, 0.5]
    assert single.render(8).shape == (1, 1, 8, 8) and single.render_sum(4).shape == (1, 1, 4, 4)
    # tails stay accurate (erfc form): far from the centre, tiny but positive
    far = Heatmaps(torch.tensor([[[0.9, 0.9]]]), torch.tensor([[0.05]]), (0,), (-1,)).render(16)
    assert far[0, 0, 0, 0] >= 0 and far[0, 0, 15, 15] > 0.1


def test_move_parent_moves_descendants_and_leaf_moves_alone():
    h = sample_hierarchical(3, torch.Generator().manual_seed(0))
    d = torch.tensor([0.1, -0.05])
    moved = h.move(0, d)
    assert torch.allclose(moved.centres - h.centres, d.expand(3, 7, 2))
    only = h.move(0, d, with_descendants=False)
    assert torch.allclose(only.centres[:, 0] - h.centres[:, 0], d.expand(3, 2))
    assert torch.equal(only.centres[:, 1:], h.centres[:, 1:])
    leaf = h.move(4, d)
    delta = leaf.centres - h.centres
    assert torch.allclose(delta[:, 4], d.expand(3, 2)) and delta[:, [0, 1, 2, 3, 5, 6]].abs().max() == 0
    assert h.descendants(0) == [1, 2, 3, 4, 5, 6] and h.descendants(3) == []
    # a general tree: 0 -> 1 -> 2, 0 -> 3
    t = Heatmaps(torch.zeros(1, 4, 2), torch.ones(1, 4), (0, 1, 2, 1), (-1, 0, 1, 0))
    assert t.move(1, [0.5, 0.0]).centres[0, :, 0].tolist() == [0.0, 0.5, 0.5, 0.0]
    # absolute placement keeps the subtree's layout; per-sample deltas work
    placed = h.set_centre(0, [0.0, 0.0])
    assert torch.allclose(placed.centres[:, 1:] - placed.centres[:, :1], h.centres[:, 1:] - h.centres[:, :1], atol=1e-6)
    per = h.move(2, torch.randn(3, 2))
    assert per.centres.shape == h.centres.shape
    assert torch.equal(h.centres, sample_hierarchical(3, torch.Generator().manual_seed(0)).centres)  # no in-place
    with pytest.raises(UserError):
        h.move(7, d)
    with pytest.raises(UserError):
        Heatmaps(torch.zeros(1, 2, 2), torch.ones(1, 2), (0, 0), (1, 0))   # cycle


def test_sigma_remove_restore_and_styles():
    h = sample_multi_object(2, 3, torch.Generator().manual_seed(0))
    r = h.remove(1)
    maps = r.render(8)
    assert maps[:, 1].abs().max() == 0 and maps[:, 0].abs().max() > 0
    assert torch.equal(r.restore(1).render(8), h.render(8))
    wide = h.set_sigma(0, 0.9)
    assert torch.all(wide.sigmas[:, 0] == 0.9) and torch.equal(wide.sigmas[:, 1:], h.sigmas[:, 1:])
    with pytest.raises(UserError):
        h.set_sigma(0, 0.0)
    w = torch.randn(2, 16)
    code = torch.arange(16.0)
    st = h.set_style(2, code)
    full = st.styles_or(w)
    assert torch.equal(full[:, 2], code.expand(2, 16)) and torch.equal(full[:, 0], w)
    assert torch.equal(st.set_style(2, None).styles_or(w), w[:, None].expand(2, 3, 16))
    assert torch.equal(h.styles_or(w), w[:, None].expand(2, 3, 16))


def test_json_round_trip_is_bit_exact():
    g = torch.Generator().manual_seed(0)
    h = sample_hierarchical(3, g).move(1, [1 / 3, 0.1]).set_sigma(2, 1e-3)
    h = Heatmaps(h.centres * torch.tensor([1.0, 1e-30]), h.sigmas, h.levels, h.parents, h.active, None, h.kind)
    back = Heatmaps.from_json(h.to_json())
    assert back.same_as(h) and back.to_json() == h.to_json()
    m = sample_multi_object(2, 3, g).set_style(0, torch.randn(8)).remove(2)
    back = Heatmaps.from_json(m.to_json())
    assert back.same_as(m) and back.styles[:, 1].isnan().all()
    assert json.loads(m.to_json())["styles"][0][1] is None          # standard JSON, no NaN tokens
    d = sample_multi_object(1, 2, g).to(dtype=torch.float64).move(0, [0.1, 0.7])
    assert Heatmaps.from_json(d.to_json()).same_as(d)
    with pytest.raises(UserError):
        Heatmaps.from_json('{"centres": 3}')
    with pytest.raises(UserError):
        Heatmaps.from_json("not json")


def test_batching_helpers():
    a = sample_multi_object(1, 3, torch.Generator().manual_seed(0))
    b = sample_multi_object(2, 3, torch.Generator().manual_seed(1)).set_style(0, torch.ones(4))
    c = collate([a, b])
    assert len(c) == 3 and c.styles.shape == (3, 3, 4) and c.styles[0].isnan().all()
    assert c.select(0).same_as(c.select([0])) and torch.equal(c.select(0).centres, a.centres)
    assert c.select([1, 2]).same_as(b)
    assert c.clone().same_as(c) and c.to("cpu").same_as(c) and c.detach().same_as(c)
    with pytest.raises(UserError):
        Heatmaps.cat([a, sample_hierarchical(1)])
