"""GradCAM of D and the alignment losses (Eq. 4 and 5)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from steergan.methods import build_method
from steergan.methods.spatial.align import (align_loss, align_loss_indoor, hierarchical_target,
                                            indoor_candidates, truncated_l1)
from steergan.methods.spatial.gradcam import gradcam, gradcam_maps, minmax_normalise
from steergan.methods.spatial.heatmaps import sample_hierarchical, sample_multi_object
from steergan.methods.spatial.sel import SELNorm
from steergan.nn import get_preset

ARCH = get_preset("test")


class LinearD(nn.Module):
    """logit = <V8, A8> + <V4, A4> with A8 = 1x1 conv of the image, A4 = 2x2 mean of A8."""

    def __init__(self, C=5, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W = nn.Parameter(torch.randn(C, 3, generator=g))
        self.V8 = nn.Parameter(torch.randn(C, 8, 8, generator=g))
        self.V4 = nn.Parameter(torch.randn(C, 4, 4, generator=g))

    def forward(self, img, return_features=False):
        a8 = torch.einsum("ci,nihw->nchw", self.W, img)
        a4 = F.avg_pool2d(a8, 2)
        logits = (a8 * self.V8).sum((1, 2, 3)) + (a4 * self.V4).sum((1, 2, 3))
        return (logits, {8: a8, 4: a4}) if return_features else logits


def test_gradcam_matches_the_hand_computed_answer():
    D = LinearD().requires_grad_(False)
    img = torch.randn(3, 3, 8, 8)
    cams = gradcam(D, img, (4, 8))
    a8 = torch.einsum("ci,nihw->nchw", D.W, img)
    a4 = F.avg_pool2d(a8, 2)
    # d logit / d A8 = V8 + V4 (upsampled) / 4, so its spatial mean is mean(V8) + mean(V4) / 4
    alpha8 = D.V8.mean((1, 2)) + D.V4.mean((1, 2)) / 4
    alpha4 = D.V4.mean((1, 2))
    for r, a, alpha in ((8, a8, alpha8), (4, a4, alpha4)):
        cam = torch.relu((alpha[None, :, None, None] * a).sum(1, keepdim=True))
        lo = cam.flatten(1).min(1).values[:, None, None, None]
        hi = cam.flatten(1).max(1).values[:, None, None, None]
        expected = (cam - lo) / (hi - lo)
        assert cams[r].shape == (3, 1, r, r)
        assert torch.allclose(cams[r], expected, atol=1e-5)
        assert cams[r].min() >= 0 and cams[r].max() <= 1


def test_gradcam_is_differentiable_wrt_the_image_in_both_modes():
    D = LinearD().requires_grad_(False)
    grads = []
    for create_graph in (True, False):
        img = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
        cams = gradcam(D, img, (4, 8), create_graph=create_graph)
        (cams[4].square().sum() + cams[8].sum()).backward()
        grads.append(img.grad)
    assert grads[0].abs().sum() > 0
    assert torch.allclose(grads[0], grads[1], atol=1e-5)   # linear D: the weights do not depend on the image
    assert all(p.grad is None for p in D.parameters())


def test_gradcam_maps_for_visualisation():
    D = LinearD()
    maps = gradcam_maps(D, torch.randn(2, 3, 8, 8), (4, 8), size=16)
    assert set(maps) == {4, 8}
    assert all(isinstance(m, np.ndarray) and m.shape == (2, 16, 16) and m.dtype == np.float32 for m in maps.values())
    assert all(m.min() >= 0 and m.max() <= 1 for m in maps.values())
    assert all(p.grad is None for p in D.parameters())


def test_truncation_drops_errors_below_tau():
    cam = torch.zeros(1, 1, 2, 2, requires_grad=True)
    target = torch.tensor([0.1, 0.2, 0.3, 0.6]).view(1, 1, 2, 2)
    loss = truncated_l1(cam, target, 0.25)
    assert loss.item() == pytest.approx(0.45)             # mean of the errors above tau
    loss.backward()
    assert cam.grad.view(-1).tolist() == pytest.approx([0, 0, -0.5, -0.5])
    few = torch.tensor([0.1, 0.2, 0.3, 0.1]).view(1, 1, 2, 2)
    assert truncated_l1(torch.zeros(1, 1, 2, 2), few, 0.25).item() == pytest.approx(0.175)  # <= 1 kept: mean
    assert truncated_l1(torch.zeros(1, 1, 2, 2), few, 0.0).item() == pytest.approx(0.175)


def test_hierarchical_targets_and_level_pairing():
    hm = sample_hierarchical(2, torch.Generator().manual_seed(0))
    S = 16
    t0, t1, t2 = (hierarchical_target(hm, level, S) for level in (0, 1, 2))
    assert torch.equal(t0, hm.render_level(0, S))        # level 0: the Gaussian as is
    for t in (t1, t2):
        flat = t.flatten(1)
        assert torch.allclose(flat.min(1).values, torch.zeros(2)) and torch.allclose(flat.max(1).values, torch.ones(2))
    right = {4: t0, 8: t1, 16: t2}
    loss, terms = align_loss(right, hm, 0.25, S)
    assert set(terms) == {4, 8, 16} and loss.item() == pytest.approx(0.0, abs=1e-6)
    wrong, _ = align_loss({4: t2, 8: t1, 16: t0}, hm, 0.25, S)
    assert wrong.item() > 0.1
    # CAMs at D's own resolutions are upsampled to the image
    coarse = {r: F.avg_pool2d(t, S // r) for r, t in right.items()}
    assert align_loss(coarse, hm, 0.25, S)[0].item() < wrong.item()


def test_indoor_loss_takes_the_nearest_candidate():
    hm = sample_multi_object(2, 3, torch.Generator().manual_seed(4))
    hm = hm.set_centre(0, [-0.6, -0.6]).set_centre(1, [0.6, 0.6]).set_centre(2, [0.6, -0.6]).set_sigma(0, 0.3)
    S = 16
    cands, valid = indoor_candidates(hm, S)
    assert cands.shape == (2, 4, S, S) and valid.all()
    for k in range(4):                                      # each H_i and H itself: zero loss
        cam = cands[:, k:k + 1]
        assert align_loss_indoor({4: cam, 8: cam}, hm, 0.25, S)[0].item() == pytest.approx(0.0, abs=1e-6)
    cam = cands[:, 0:1]
    removed = align_loss_indoor({4: cam}, hm.remove(0), 0.25, S)[0]
    assert removed.item() > 0.05                            # a removed object is no candidate
    assert align_loss({4: cam}, hm, 0.25, S)[0].item() > 0  # Eq. 4 with the full map differs


@pytest.mark.parametrize("options", [{}, {"sampling": "multi", "align_second_order": True}])
def test_alignment_trains_g_and_leaves_frozen_d_alone(options):
    torch.manual_seed(0)
    method = build_method("spatial", options)
    G, D = method.build_generator(ARCH), method.build_discriminator(ARCH).requires_grad_(False)
    hm = method.sample_control(4, G, "cpu")
    fake = G.synthesis(G.mapping_ws(torch.randn(4, ARCH.z_dim)), hm)
    loss, terms = method.alignment(D, fake, hm)
    assert set(terms) == {4, 8, 16} and torch.isfinite(loss) and loss > 0
    loss.backward()
    assert all(p.grad is None for p in D.parameters())
    assert G.synthesis.convs[0].conv.weight.grad.abs().sum() > 0
    sel = [m for m in G.modules() if isinstance(m, SELNorm)]
    assert all(m.phi.weight.grad.abs().sum() > 0 for m in sel)   # zero-init layers still learn


def test_minmax_normalise_handles_flat_maps():
    x = torch.zeros(2, 1, 4, 4)
    assert torch.equal(minmax_normalise(x), x)
