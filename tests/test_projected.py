"""The optional projected discriminator: frozen features, trainable heads, trainer plumbing."""
import copy
from types import SimpleNamespace

import pytest
import torch

from steergan.errors import UserError
from steergan.nn import get_preset
from steergan.nn.projected import ProjectedDiscriminator, RandomProjection
from steergan.train import Trainer, TrainOptions

from test_train import fake_dataset


@pytest.fixture(scope="module")
def D():
    torch.manual_seed(0)
    return ProjectedDiscriminator(get_preset("test"))     # 16 px images, features at 64 px


def test_logits_shape_and_gradient_reaches_the_image(D):
    x = torch.randn(3, 3, 16, 16, requires_grad=True)
    logits, feats = D(x, return_features=True)
    # one logit per 4x4 position of each of the four scales (16, 8, 4, 2 px at 64 px input)
    assert logits.shape == (3, 16 + 16 + 16 + 4)
    assert sorted(feats) == [2, 4, 8, 16]
    logits.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.isfinite(logits).all()


def test_only_the_heads_are_parameters_and_the_wheel_weights_are_not_saved(D):
    names = [n for n, _ in D.named_parameters()]
    assert names and all(n.startswith("heads.") for n in names)
    state = D.state_dict()
    assert any(k.startswith("projection.") for k in state)          # resumed runs need the same projection
    assert not any(k.startswith("features.") for k in state)        # comes from the wheel


def test_frozen_parts_do_not_move_in_training(D):
    d = copy.deepcopy(D).train()
    frozen = {k: v.clone() for k, v in d.named_buffers() if not k.startswith("heads.")}
    heads = {k: v.clone() for k, v in d.named_parameters()}
    opt = torch.optim.Adam(d.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        d(torch.randn(4, 3, 16, 16)).square().mean().backward()
        opt.step()
    assert all(torch.equal(v, frozen[k]) for k, v in d.named_buffers() if k in frozen)
    assert any(not torch.equal(v, heads[k]) for k, v in d.named_parameters())
    assert not d.features.training              # BatchNorm keeps its ImageNet statistics


def test_projection_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    a, b, c = RandomProjection(0), RandomProjection(0), RandomProjection(1)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a.ccm[0].weight, b.ccm[0].weight)
    assert not torch.equal(a.ccm[0].weight, c.ccm[0].weight)


def make_trainer(tmp_path, name="run", **kw):
    opts = dict(data="fake", out=str(tmp_path / name), preset="test", batch=4, kimg=0.016,
                tick_kimg=0.008, seed=3, discriminator="projected")
    opts.update(kw)
    return Trainer(TrainOptions(**opts), fake_dataset(), arch=get_preset("test"), progress=False)


def test_trainer_steps_with_the_projected_d_and_no_r1(tmp_path):
    t = make_trainer(tmp_path)
    assert isinstance(t.D, ProjectedDiscriminator) and t.r1_gamma == 0
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    g_before = copy.deepcopy(t.G.state_dict())
    for _ in range(2):
        stats = t.train_step()
    assert "D/r1" not in stats and {"G/loss", "D/loss"} <= set(stats)
    assert any(not torch.equal(v, g_before[k]) for k, v in t.G.state_dict().items())


def test_resume_with_the_projected_d_continues_exactly(tmp_path):
    straight = make_trainer(tmp_path, "a", kimg=0.016)
    straight.run()
    make_trainer(tmp_path, "b", kimg=0.008).run()
    resumed = make_trainer(tmp_path, "b", kimg=0.016)
    resumed.run()
    for module in ("G", "D"):
        a, b = getattr(straight, module).state_dict(), getattr(resumed, module).state_dict()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{module}.{k} differs after resume"


def test_resume_with_the_other_discriminator_is_refused(tmp_path):
    make_trainer(tmp_path, kimg=0.008).run()
    with pytest.raises(UserError, match="projected discriminator"):
        make_trainer(tmp_path, discriminator="stylegan2").run()


def test_methods_that_read_the_stylegan2_d_refuse_it(tmp_path):
    with pytest.raises(UserError, match="needs the StyleGAN2 discriminator"):
        make_trainer(tmp_path, method="spatial")
    with pytest.raises(UserError, match="--discriminator"):
        make_trainer(tmp_path, discriminator="patchgan")


def test_linkgan_regulariser_and_its_adversarial_term_run_on_the_projected_d(tmp_path):
    t = make_trainer(tmp_path, method="link", method_options={"interval": 1, "adv_weight": 0.1, "links": [
        {"region": {"box": [0, 0, 0.5, 1]}, "axes": 4}]})
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    stats = t.train_step()
    assert {"G/link_reg", "G/link_adv"} <= set(stats)
    assert all(torch.isfinite(p).all() for p in t.G.parameters())


def test_feature_pyramid_matches_the_wheel_network_and_stays_in_eval(D):
    from steergan.nn.pretrained import load_efficientnet_lite0
    net = load_efficientnet_lite0()
    x = torch.randn(2, 3, 64, 64)
    y = net._swish(net._bn0(net._conv_stem(x)))
    for block in net._blocks:
        y = block(y)
    d = copy.deepcopy(D).train()          # train mode must not switch its BatchNorm to batch statistics
    assert torch.allclose(d.features(x)[-1], y, atol=1e-5)
