"""Losses, checkpoints, exact resume and the non-finite guard."""
import copy
import json
from types import SimpleNamespace

import pytest
import torch

from steergan import checkpoint as ckpt_io
from steergan.errors import UserError
from steergan.models import export_generator, load_model
from steergan.nn import get_preset
from steergan.train import Trainer, TrainOptions
from steergan.train.augment import DiffAugment, gaussian_blur
from steergan.train.ema import ema_beta
from steergan.train.losses import lazy_adam_params, mode_seeking, r1_penalty


def fake_dataset(n=16, res=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return SimpleNamespace(images=torch.randint(0, 256, (n, 3, res, res), generator=g, dtype=torch.uint8))


def make_trainer(tmp_path, name="run", **kw):
    opts = dict(data="fake", out=str(tmp_path / name), preset="test", batch=4, kimg=0.016,
                tick_kimg=0.008, seed=3)
    opts.update(kw)
    return Trainer(TrainOptions(**opts), fake_dataset(), arch=get_preset("test"), progress=False)


def test_r1_matches_finite_differences():
    torch.manual_seed(0)
    w = torch.randn(3 * 4 * 4, dtype=torch.float64)
    f = lambda x: torch.tanh(x.flatten(1) @ w)  # noqa: E731 - a smooth stand-in for D
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    r1 = r1_penalty(f(x), x)
    eps, total = 1e-6, 0.0
    for n in range(2):
        g = torch.zeros(x[n].numel(), dtype=torch.float64)
        base = x.detach().clone()
        for i in range(g.numel()):
            plus, minus = base.clone(), base.clone()
            plus[n].view(-1)[i] += eps
            minus[n].view(-1)[i] -= eps
            g[i] = (f(plus)[n] - f(minus)[n]) / (2 * eps)
        total += g.square().sum().item()
    assert r1.item() == pytest.approx(total / 2, rel=1e-6)


def test_lazy_regularisation_correction():
    lr, betas = lazy_adam_params(0.002, (0.0, 0.99), 16)
    assert lr == pytest.approx(0.002 * 16 / 17)
    assert betas[1] == pytest.approx(0.99 ** (16 / 17))
    assert lazy_adam_params(0.002, (0.0, 0.99), 0) == (0.002, (0.0, 0.99))


def test_ema_rampup_shortens_early_half_life():
    early = ema_beta(32, images_seen=1000, ema_kimg=10, rampup=0.05)
    late = ema_beta(32, images_seen=10_000_000, ema_kimg=10, rampup=0.05)
    assert early < late and late == pytest.approx(0.5 ** (32 / 10000))


def test_diffaugment_is_differentiable_and_random():
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    aug = DiffAugment()
    y = aug(x)
    y.sum().backward()
    assert y.shape == x.shape and x.grad.abs().sum() > 0
    assert not torch.allclose(aug(x), aug(x))
    with pytest.raises(UserError):
        DiffAugment("color,blur")


def test_gaussian_blur_smooths_the_image_channels_only():
    x = torch.randn(2, 4, 16, 16, requires_grad=True)
    y = gaussian_blur(x, 1.5)
    assert y.shape == x.shape and torch.equal(y[:, 3], x[:, 3])          # a packed map passes unchanged
    assert y[:, :3].std() < 0.5 * x[:, :3].std()                          # noise averaged away
    assert y[:, :3].mean().item() == pytest.approx(x[:, :3].mean().item(), abs=0.05)
    y.sum().backward()
    assert x.grad[:, :3].abs().sum() > 0
    assert torch.equal(gaussian_blur(x, 0.0), x)
    assert gaussian_blur(torch.randn(1, 3, 4, 4), 16.0).shape == (1, 3, 4, 4)     # a kernel wider than the image


def test_d_input_blur_fades_over_blur_kimg_for_real_and_fake(tmp_path):
    t = make_trainer(tmp_path, blur_sigma=2.0, blur_kimg=1.0, augment="")
    assert t.blur_sigma() == 2.0
    x = torch.randn(2, 3, 16, 16)
    assert t.augment(x).std() < 0.7 * x.std()
    t.images_seen = 500
    assert t.blur_sigma() == pytest.approx(1.0)
    t.images_seen = 1000
    assert t.blur_sigma() == 0.0 and torch.equal(t.augment(x), x)
    t.images_seen = 0
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    assert t.train_step()["D/blur_sigma"] > 0
    assert "D/blur_sigma" not in make_trainer(tmp_path, "plain").train_step()
    with pytest.raises(UserError, match="--blur-kimg"):
        TrainOptions(data="x", blur_kimg=0).validate()


def test_mode_seeking_punishes_a_collapsed_batch_and_pushes_images_apart():
    ws = torch.randn(8, 3, 4)
    varied = torch.rand(8, 3, 5, 5) * 2 - 1
    collapsed = varied[:1].repeat(8, 1, 1, 1) + 0.01 * torch.randn(8, 3, 5, 5)
    assert mode_seeking(collapsed, ws) > 10 * mode_seeking(varied, ws)
    x = collapsed.clone().requires_grad_(True)
    mode_seeking(x, ws).backward()
    step = x - 0.01 * x.grad                 # one descent step on the term
    assert (step[:4] - step[4:]).abs().mean() > (x[:4] - x[4:]).abs().mean()
    assert mode_seeking(torch.zeros(1, 3, 5, 5), ws[:1]) == 0      # no pair: no term


def test_mode_seeking_option_trains_and_is_logged(tmp_path):
    t = make_trainer(tmp_path, mode_seeking=1.0)
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    stats = t.train_step()
    assert stats["G/mode_seeking"] > 0 and torch.isfinite(torch.tensor(stats["G/loss"]))
    with pytest.raises(UserError, match="--mode-seeking"):
        TrainOptions(data="x", mode_seeking=-1).validate()


def test_training_steps_change_weights_and_keep_them_finite(tmp_path):
    t = make_trainer(tmp_path)
    before = copy.deepcopy(t.G.state_dict())
    ema_before = copy.deepcopy(t.G_ema.state_dict())
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    for _ in range(3):
        stats = t.train_step()
    assert {"G/loss", "D/loss", "D/r1"} <= set(stats) or {"G/loss", "D/loss"} <= set(stats)
    changed = [k for k, v in t.G.state_dict().items() if not torch.equal(v, before[k])]
    assert "synthesis.const" in changed and "mapping.net.0.weight" in changed
    assert any(not torch.equal(v, ema_before[k]) for k, v in t.G_ema.state_dict().items())
    assert all(torch.isfinite(p).all() for p in t.G.parameters())


def test_nonfinite_step_is_skipped_and_logged(tmp_path, monkeypatch):
    t = make_trainer(tmp_path, max_nonfinite=2)
    events = []
    t.logger = SimpleNamespace(log=lambda rec, step: events.append((rec, step)))
    import steergan.train.loop as loop
    real_g = loop.g_nonsaturating
    monkeypatch.setattr(loop, "g_nonsaturating", lambda logits: real_g(logits) * float("nan"))
    before = {k: v.clone() for k, v in t.G.named_parameters()}
    t.train_step()
    assert all(torch.equal(v, before[k]) for k, v in t.G.named_parameters())   # G untouched
    assert events and events[0][0]["event"] == "nonfinite" and events[0][1] == 0
    with pytest.raises(UserError, match="diverged"):
        t.train_step()


def test_checkpoint_refuses_nonfinite_weights(tmp_path):
    with pytest.raises(RuntimeError):
        ckpt_io.save_training_checkpoint(tmp_path, 1, {}, {"w": torch.tensor([float("inf")])}, {})
    assert ckpt_io.list_checkpoints(tmp_path) == []


def test_checkpoint_round_trip_is_bit_exact(tmp_path):
    t = make_trainer(tmp_path)
    t.run()
    ckpts = ckpt_io.list_checkpoints(t.ckpt_root)
    assert len(ckpts) == 2                                     # two ticks
    cfg, model, state = ckpt_io.read_training_checkpoint(ckpts[-1])
    assert cfg["kind"] == "training" and cfg["step"] == t.step and cfg["method"]["name"] == "stylegan2"
    for prefix, module in (("G.", t.G), ("D.", t.D), ("G_ema.", t.G_ema)):
        for k, v in module.state_dict().items():
            assert torch.equal(model[prefix + k], v), k
    m = load_model(str(t.run_dir))
    z = torch.randn(2, m.G.cfg.z_dim)
    with torch.no_grad():
        # weights are bit-exact; images agree up to kernel rounding (NHWC in training, NCHW here)
        torch.testing.assert_close(m.G(z, noise_mode="const"), t.G_ema(z, noise_mode="const"))
    # exported fp16 generator file: same images up to half precision
    f = export_generator(str(t.run_dir), tmp_path / "g.safetensors")
    g = load_model(str(f))
    with torch.no_grad():
        torch.testing.assert_close(g.G(z, noise_mode="const"), t.G_ema(z, noise_mode="const"), atol=2e-2, rtol=0)
    assert g.config["kind"] == "generator" and g.config["trained"]["step"] == t.step


def test_resume_continues_exactly(tmp_path):
    straight = make_trainer(tmp_path, "a", kimg=0.016)
    straight.run()
    first = make_trainer(tmp_path, "b", kimg=0.008)
    first.run()
    resumed = make_trainer(tmp_path, "b", kimg=0.016)
    resumed.run()
    assert resumed.step == straight.step == 4
    for module in ("G", "D", "G_ema"):
        a, b = getattr(straight, module).state_dict(), getattr(resumed, module).state_dict()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{module}.{k} differs after resume"


def test_keep_last_prunes_and_temporaries_are_ignored(tmp_path):
    t = make_trainer(tmp_path, kimg=0.032, keep_last=2)
    (t.ckpt_root / ".step-00000099.tmp-1").mkdir(parents=True)   # a killed writer's leftovers
    half_deleted = t.ckpt_root / ".step-00000001.del-1"               # a kill during pruning
    half_deleted.mkdir()
    (half_deleted / "config.json").write_text("{}")
    t.run()
    names = [p.name for p in ckpt_io.list_checkpoints(t.ckpt_root)]
    assert names == ["step-00000006", "step-00000008"]
    assert [p.name for p in t.ckpt_root.iterdir() if p.name.startswith(".")] == []


def test_wrong_kind_and_version_are_clear_errors(tmp_path):
    t = make_trainer(tmp_path)
    t.run()
    last = ckpt_io.list_checkpoints(t.ckpt_root)[-1]
    cfg = json.loads((last / "config.json").read_text())
    cfg["version"] = 99
    (last / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UserError, match="newer steergan"):
        load_model(str(last))
    cfg["version"], cfg["format"] = 1, "something-else"
    (last / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UserError, match="not a steergan checkpoint"):
        load_model(str(last))
    bogus = tmp_path / "x.safetensors"
    bogus.write_bytes(b"not a safetensors file")
    with pytest.raises(UserError):
        load_model(str(bogus))
    with pytest.raises(UserError, match="does not exist"):
        load_model(str(tmp_path / "nope" / "x.safetensors"))


def test_resume_with_another_method_is_refused(tmp_path):
    t = make_trainer(tmp_path)
    t.run()
    cfg_path = ckpt_io.list_checkpoints(t.ckpt_root)[-1] / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["method"]["name"] = "other"
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(UserError, match="method"):
        make_trainer(tmp_path).run()


def test_dataset_resolution_mismatch_is_clear(tmp_path):
    with pytest.raises(UserError, match="resolution"):
        Trainer(TrainOptions(out=str(tmp_path / "r"), preset="test", batch=4), fake_dataset(res=32),
                arch=get_preset("test"), progress=False)


def test_cpu_clock_counts_process_time_not_wall_time(tmp_path, monkeypatch):
    """--clock cpu: the budget counts this process's CPU seconds, so a run that waits for the
    cores (another training beside it) gets the same work as one that has them alone."""
    import time as real_time
    wall = iter(range(0, 10 ** 6, 100))          # a wall clock that jumps 100 s per call
    monkeypatch.setattr("steergan.train.loop.time.time", lambda: float(next(wall)))
    t = make_trainer(tmp_path, clock="cpu", kimg=0.008, diversity_n=0)
    cpu0 = real_time.process_time()
    t.run()
    assert 0 < t.train_seconds <= real_time.process_time() - cpu0 + 1e-6
    t2 = make_trainer(tmp_path, name="wall", clock="wall", kimg=0.008, diversity_n=0)
    t2.run()
    assert t2.train_seconds >= 100          # the wall clock was read, and it jumped


def test_arch_overrides_widen_the_preset_and_resume_checks_them(tmp_path):
    opts = dict(data="fake", out=str(tmp_path / "run"), preset="test", batch=4, kimg=0.008,
                tick_kimg=0.008, diversity_n=0, arch={"channel_min": 12})
    t = Trainer(TrainOptions(**opts), fake_dataset(), progress=False)
    assert t.arch.channel_min == 12 and t.arch.channels(16) == 12
    t.run()
    with pytest.raises(UserError, match="different architecture"):
        Trainer(TrainOptions(**{**opts, "arch": {}}), fake_dataset(), progress=False).run()


def test_batch_defaults_per_discriminator_and_a_resumed_run_keeps_its_own(tmp_path):
    from steergan.train.options import DEFAULT_BATCH
    base = dict(data="fake", preset="test", kimg=0.064, tick_kimg=0.032, diversity_n=0)
    t = Trainer(TrainOptions(out=str(tmp_path / "a"), **base), fake_dataset(), progress=False)
    assert t.opts.batch == DEFAULT_BATCH["stylegan2"] == 32
    assert TrainOptions(discriminator="projected").with_batch().batch == DEFAULT_BATCH["projected"] == 16
    assert TrainOptions(batch=8, discriminator="projected").with_batch().batch == 8
    first = Trainer(TrainOptions(out=str(tmp_path / "b"), batch=8, kimg=0.016, **{k: v for k, v in base.items()
                                                                                 if k != "kimg"}),
                    fake_dataset(), progress=False)
    first.run()
    again = Trainer(TrainOptions(out=str(tmp_path / "b"), **base), fake_dataset(), progress=False)
    assert again.opts.batch == 8           # the same command without --batch continues at the run's batch
