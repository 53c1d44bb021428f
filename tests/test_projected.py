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
    assert names and all(n.startswith("heads.") for n in names)     # no control planes: no tower
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


def test_gradcam_alignment_refuses_it_and_segmenter_alignment_does_not(tmp_path):
    for align in ("standard", "indoor"):
        opts = {"sampling": "multi", "align": align} if align == "indoor" else {}
        with pytest.raises(UserError, match="reads GradCAM from the StyleGAN2"):
            make_trainer(tmp_path, method="spatial", method_options=opts)
    with pytest.raises(UserError, match="--discriminator"):
        make_trainer(tmp_path, discriminator="patchgan")
    t = make_trainer(tmp_path, method="spatial", method_options={"align": "none"})
    assert isinstance(t.D, ProjectedDiscriminator) and t.D.cond_channels == 0


@pytest.mark.parametrize("cond", [1, 5])
def test_conditioned_d_output_depends_on_the_control_planes(cond):
    torch.manual_seed(0)
    d = ProjectedDiscriminator(get_preset("test"), cond_channels=cond)
    img, planes = torch.randn(2, 3, 16, 16), torch.rand(2, cond, 16, 16).requires_grad_(True)
    logits = d(torch.cat([img, planes], 1))
    logits.sum().backward()
    assert planes.grad is not None and planes.grad.abs().sum() > 0
    # the same image with other planes gets other logits, at every one of the four scales
    other = d(torch.cat([img, torch.zeros_like(planes)], 1))
    sizes = [16, 16, 16, 4]
    for chunk_a, chunk_b in zip(logits.split(sizes, 1), other.split(sizes, 1)):
        assert not torch.allclose(chunk_a, chunk_b)
    # the condition tower trains; the frozen features are still buffers
    names = [n for n, _ in d.named_parameters()]
    assert any(n.startswith("condition.") for n in names)
    assert all(n.startswith(("heads.", "condition.")) for n in names)
    with pytest.raises(ValueError, match="input channels"):
        d(img)


def test_paired_spatial_and_semantic_train_with_the_projected_d(tmp_path):
    from steergan.data import ImageDataset
    from steergan.data.scenes import make_dataset
    rooms = make_dataset("rooms", tmp_path / "rooms16", n=8, resolution=16, workers=1, progress=False)
    runs = {"spatial": {"sampling": "multi", "paired": True, "align": "segmenter", "n_objects": 2,
                        "align_interval": 1},
            "semantic": {}}
    for method, options in runs.items():
        t = Trainer(TrainOptions(data=str(rooms), out=str(tmp_path / method), preset="test", batch=4,
                                 kimg=0.008, seed=1, method=method, method_options=options,
                                 discriminator="projected"),
                    ImageDataset(rooms, 16), arch=get_preset("test"), progress=False)
        assert isinstance(t.D, ProjectedDiscriminator)
        assert t.D.cond_channels == t.method.d_cond_channels() > 0
        t.logger = SimpleNamespace(log=lambda *a, **k: None)
        cond_before = {k: v.detach().clone() for k, v in t.D.condition.named_parameters()}
        stats = t.train_step()
        assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
        assert ("G/align_seg" in stats) == (method == "spatial")
        assert any(not torch.equal(v, cond_before[k]) for k, v in t.D.condition.named_parameters())


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


def test_minibatch_stddev_heads_see_the_batch_and_old_heads_keep_their_keys():
    """projected_mbstd: a sample's logits depend on the rest of its group (a collapsed batch is
    easy to call fake); without it they do not, and the head's checkpoint keys are unchanged."""
    torch.manual_seed(0)
    x = torch.randn(4, 3, 64, 64)
    y = x.clone()
    y[1:] = torch.randn(3, 3, 64, 64)
    with_mb = ProjectedDiscriminator(get_preset("tiny", projected_mbstd=True)).eval()
    without = ProjectedDiscriminator(get_preset("tiny", projected_mbstd=False)).eval()
    with torch.no_grad():
        assert not torch.allclose(with_mb(x)[0], with_mb(y)[0])
        assert torch.allclose(without(x)[0], without(y)[0], atol=1e-5)
    assert not any(k.startswith("heads.0.out") for k in without.state_dict())
    assert any(k.startswith("heads.0.out") for k in with_mb.state_dict())


def test_d_only_architecture_fields_do_not_block_fine_tuning():
    a, b = get_preset("tiny", projected_mbstd=False), get_preset("tiny", projected_mbstd=True)
    assert a != b and a.same_generator(b) and not a.same_generator(get_preset("tiny", channel_base=2048))
    with pytest.raises(UserError, match="projected_mbstd"):
        get_preset("tiny", projected_mbstd=1)
