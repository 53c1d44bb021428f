"""The ensemble discriminator: the projected D and a StyleGAN2 D judging the same input."""
from types import SimpleNamespace

import torch

from steergan.nn import get_preset
from steergan.nn.discriminator import Discriminator
from steergan.nn.ensemble import EnsembleDiscriminator
from steergan.nn.projected import ProjectedDiscriminator
from steergan.train.losses import d_logistic

from test_projected import make_trainer


def test_both_ds_judge_and_weigh_half_each():
    torch.manual_seed(0)
    d = EnsembleDiscriminator(get_preset("test"), cond_channels=2).eval()   # eval: spectral norm holds still
    x = torch.randn(3, 5, 16, 16)
    logits = d(x)
    k = d.projected(x).shape[1]
    assert logits.shape == (3, 2 * k)
    assert torch.equal(logits[:, :k], d.projected(x))
    # the pixel D's logit fills the second half, so a mean over logits weighs the two Ds alike
    assert torch.equal(logits[:, k:], d.pixel(x)[:, None].expand(-1, k))
    assert torch.equal(d.r1_logits(x), d.pixel(x))
    d_logistic(logits, d(torch.randn(3, 5, 16, 16))).backward()
    for part in (d.projected.heads, d.projected.condition, d.pixel):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())


def test_trainer_runs_r1_on_the_pixel_d_only(tmp_path):
    t = make_trainer(tmp_path, discriminator="ensemble")
    assert isinstance(t.D, EnsembleDiscriminator) and t.r1_gamma > 0
    assert isinstance(t.D.projected, ProjectedDiscriminator) and isinstance(t.D.pixel, Discriminator)
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    seen = []
    real_r1 = t.D.r1_logits
    t.D.r1_logits = lambda x: seen.append(x.shape) or real_r1(x)
    stats = t.train_step()                        # step 0: the lazy R1 step runs
    assert seen and stats["D/r1"] > 0 and {"G/loss", "D/loss"} <= set(stats)


def test_resume_with_the_ensemble_continues_exactly(tmp_path):
    straight = make_trainer(tmp_path, "a", kimg=0.016, discriminator="ensemble")
    straight.run()
    make_trainer(tmp_path, "b", kimg=0.008, discriminator="ensemble").run()
    resumed = make_trainer(tmp_path, "b", kimg=0.016, discriminator="ensemble")
    resumed.run()
    for module in ("G", "D"):
        a, b = getattr(straight, module).state_dict(), getattr(resumed, module).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), f"{module} differs after resume"
