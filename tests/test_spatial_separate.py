"""SpatialGAN's separation loss (ours, off by default): touching heatmaps draw objects of different classes."""
import pytest
import torch

from steergan.errors import UserError
from steergan.methods import LossContext, build_method
from steergan.methods.spatial.heatmaps import Heatmaps
from steergan.methods.spatial.objectness import ObjectnessNet
from steergan.methods.spatial.separate import separation_loss, touching_pairs
from steergan.nn import get_preset

S = 32
MULTI = {"sampling": "multi", "sel": "indoor_norm", "align": "segmenter", "n_objects": 3}


def _heatmaps(centres, sigmas, active=(True, True, True)):
    return Heatmaps(torch.tensor([centres]), torch.tensor([sigmas]), (0, 0, 0), (-1, -1, -1),
                    active=torch.tensor([active]), kind="multi")


# a bed (large, centre) with a lamp's heatmap at its edge, and a third object far away
BED_AND_LAMP = _heatmaps([[0.0, 0.0], [0.35, 0.0], [-0.8, -0.8]], [0.3, 0.08, 0.05])


def _logp(paint):
    """Log-probabilities [1, 3, S, S] over (wall, bed, lamp): ``paint`` [S, S] class ids, confident."""
    logits = torch.nn.functional.one_hot(paint, 3).permute(2, 0, 1)[None].float() * 8
    return logits.log_softmax(1).requires_grad_(True)


def test_touching_pairs_are_the_overlapping_active_ones():
    pairs = touching_pairs(BED_AND_LAMP.render(S), BED_AND_LAMP.active)[0]
    assert pairs[0, 1] and pairs[1, 0]                        # bed and lamp touch, both ways
    assert not pairs[0, 2] and not pairs[2, 0] and not pairs[1, 2] and not pairs.diagonal().any()
    off = _heatmaps(BED_AND_LAMP.centres[0].tolist(), BED_AND_LAMP.sigmas[0].tolist(), (True, False, True))
    assert not touching_pairs(off.render(S), off.active).any()   # a removed object touches nothing


def test_one_class_under_both_costs_one_and_two_classes_almost_nothing():
    maps = BED_AND_LAMP.render(S)[0]
    objects = torch.tensor([False, True, True])
    merged = torch.where(maps[0] > 0.05, 1, 0)                # the lamp drawn into the bed: all bed
    merged = torch.where(maps[1] > 0.05, 1, merged)
    separate = torch.where(maps[1] > 0.3, 2, merged)          # a lamp of its own on the bed's edge
    lm, ls = _logp(merged), _logp(separate)
    high, low = separation_loss(lm, objects, BED_AND_LAMP), separation_loss(ls, objects, BED_AND_LAMP)
    assert high > 0.99 and low < 0.05
    high.backward()
    assert lm.grad[0, 2][maps[1] > 0.5].sum() < 0             # more "lamp" under the lamp's core lowers it
    # nothing touching: zero, and still a tensor one can add
    apart = _heatmaps([[-0.6, -0.6], [0.6, 0.6], [0.6, -0.6]], [0.1, 0.1, 0.1])
    assert separation_loss(lm, objects, apart) == 0


def test_option_is_off_by_default_validated_and_trains_the_generator():
    assert "separate" not in build_method("spatial", MULTI).options()
    assert build_method("spatial", {**MULTI, "separate": 0.5}).options()["separate"] == 0.5
    for bad in ({**MULTI, "separate": -1}, {**MULTI, "align": "none", "separate": 1.0},
                {"sampling": "hierarchical", "align": "segmenter", "separate": 1.0}):
        with pytest.raises(UserError):
            build_method("spatial", bad)
    m = build_method("spatial", {**MULTI, "separate": 1.0})
    arch = get_preset("test")
    G, D = m.build_generator(arch), m.build_discriminator(arch)
    hm = _heatmaps([[0.0, 0.0], [0.3, 0.0], [-0.8, -0.8]], [0.3, 0.1, 0.05])
    ws = G.mapping_ws(torch.randn(1, arch.z_dim))
    fake, extras = m.fake_for_d(G, ws, hm)
    terms = m.g_losses(LossContext(G, D, 0, fake=fake, ws=ws, control=hm, extras=extras))   # bundled rooms segmenter
    assert set(terms) == {"align_seg", "separate"} and 0 < float(terms["separate"].detach()) <= 1
    terms["separate"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())
    # a plain-background objectness has no classes to tell apart
    m = build_method("spatial", {**MULTI, "separate": 1.0, "segmenter": "foreground"})
    with pytest.raises(UserError, match="class segmenter"):
        m.g_losses(LossContext(G, D, 0, fake=fake.detach(), ws=ws, control=hm, extras=extras))


def test_the_stand_in_net_with_two_object_classes_reads_classes_not_objectness():
    """The loss reads the class mix, so a segmenter sure of "object" but split between two object
    classes costs half of one that names one class."""
    class TwoObjects(torch.nn.Module):
        def forward(self, x):
            n, _, h, w = x.shape
            return torch.stack([torch.full((n, h, w), -9.0), torch.zeros(n, h, w), torch.zeros(n, h, w)], 1)
    net = ObjectnessNet(TwoObjects(), ["wall", "bed", "lamp"], ["wall"], resolution=S)
    logp = net.log_probs(torch.zeros(1, 3, S, S))
    assert abs(float(separation_loss(logp, ~net.bg, BED_AND_LAMP)) - 0.5) < 1e-4


def test_unreduced_gives_one_value_per_counted_pair():
    maps = BED_AND_LAMP.render(S)[0]
    paint = torch.where(maps[0] > 0.05, 1, 0)
    per_pair = separation_loss(_logp(paint), torch.tensor([False, True, True]), BED_AND_LAMP, reduce=False)
    assert per_pair.shape == (1,)      # (lamp, bed); (bed, lamp) has no lamp core away from the bed's halo
    assert torch.isclose(per_pair.mean(), separation_loss(_logp(paint), torch.tensor([False, True, True]), BED_AND_LAMP))
