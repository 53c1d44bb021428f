"""LinkGAN (methods.link): links and partition, Eq. 3-6, the guard, resampling edits, the locality
metric, fine-tuning from a baseline, and the CLI."""
import json
import logging
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from steergan.cli.main import main
from steergan.errors import UserError
from steergan.methods import build_method
from steergan.methods.link import (BoxRegion, apply_link_op, axis_partition, masked_sq_error, parse_links,
                                   perturb, resample_states, resample_ws)
from steergan.methods.state import render_state
from steergan.metrics import locality, masked_mse
from steergan.metrics.link_locality import link_locality
from steergan.models import SteerModel, load_model
from steergan.nn import get_preset
from steergan.train import Trainer, TrainOptions

LEFT = [{"region": {"box": [0.0, 0.0, 0.5, 1.0]}, "axes": 8}]
OFF = dict(lambda_in=0.0, lambda_out=0.0, adv_weight=0.0, guard_weight=0.0)


def halves_dataset(n=64, seed=0):
    """16 px images whose left and right halves have independent colours: a linkable toy set."""
    g = torch.Generator().manual_seed(seed)
    cols = torch.randint(0, 256, (n, 3, 1, 2), generator=g, dtype=torch.uint8)
    return SimpleNamespace(images=cols.repeat_interleave(8, 3).expand(-1, -1, 16, -1).contiguous())


def make_trainer(tmp_path, name, method="link", method_options=None, **kw):
    opts = dict(data="toy", out=str(tmp_path / name), preset="test", batch=4, kimg=1.0, tick_kimg=0.5, seed=2,
                augment="", method=method, method_options=method_options or {})
    opts.update(kw)
    t = Trainer(TrainOptions(**opts), halves_dataset(), arch=get_preset("test"), progress=False)
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    return t


def as_model(G, method):
    return SteerModel(G.eval(), method, {}, "test", torch.device("cpu"))


# ---------------------------------------------------------------------- the paper's tests

def test_zero_weights_step_equals_the_baseline_exactly(tmp_path):
    def run(name, **kw):        # one after the other: the trainers share torch's global RNG
        t = make_trainer(tmp_path, name, **kw)
        stats = [t.train_step() for _ in range(3)]
        return t, stats[-1]

    base, _ = run("base", method="stylegan2")
    off, _ = run("off", method_options={"links": LEFT, "interval": 1, **OFF})
    on, stats = run("on", method_options={"links": LEFT, "interval": 1})
    for k, v in base.G.state_dict().items():
        assert torch.equal(v, off.G.state_dict()[k]), k
    for k, v in base.D.state_dict().items():
        assert torch.equal(v, off.D.state_dict()[k]), k
    assert {"G/link_reg", "G/link_adv", "G/link0/leak_in", "G/link0/leak_out"} <= set(stats)
    assert any(not torch.equal(v, on.G.state_dict()[k]) for k, v in base.G.state_dict().items())


def test_masked_errors_are_zero_for_identical_images_and_see_only_their_side():
    torch.manual_seed(0)
    a = torch.rand(3, 3, 8, 8) - 0.5          # room for +0.5 without clamping
    mask = torch.zeros(3, 1, 8, 8)
    mask[:, :, :, :4] = 1
    assert masked_sq_error(a, a, mask) == 0 and masked_sq_error(a, a, 1 - mask) == 0
    r = locality(a, a.clone(), mask)
    assert r["inside"] == 0 and r["outside"] == 0
    b = a.clone()
    b[:, :, :, :4] += 0.5                      # change inside only
    r = locality(a, b, mask.bool())
    assert r["outside"] == 0 and r["inside"] == pytest.approx(0.25 ** 2, rel=1e-5) and r["ratio"] == 0
    assert masked_sq_error(a, b, mask).item() == pytest.approx(0.25, rel=1e-5)   # [-1, 1] units in the loss
    # a float mask weights pixels; an empty mask gives NaN for that sample, which is then left
    # out of BOTH means (the same samples inside and outside)
    half = masked_mse(a, b, mask * 0.5)
    assert torch.allclose(half, torch.full((3,), 0.0625))
    empty = mask.clone()
    empty[0] = 0
    c = b.clone()
    c[0] += 0.3                                 # sample 0 changes everywhere; its region is empty
    r = locality(a, c, empty)
    assert r["n_paired"] == 2 and r["n_skipped"] == 1
    assert r["outside"] == 0                    # sample 0's outside change is not counted either
    with pytest.raises(UserError, match="does not fit"):
        locality(a, b, torch.ones(3, 1, 4, 4))


@pytest.mark.parametrize("links,layout,w_dim", [
    (LEFT, None, 16),
    ([{"region": {"box": [0, 0, 0.5, 0.5]}, "axes": 3}, {"region": {"box": [0.5, 0.5, 1, 1]}, "axes": [10, 13]},
      {"region": {"class": "bed"}, "axes": 2}], None, 16),
    (None, "quadrants", 16),
    (None, "quadrants", 18),
])
def test_axis_partition_covers_w_exactly_once(links, layout, w_dim):
    spec = parse_links(links, layout, w_dim)
    groups = axis_partition(spec, w_dim)
    allidx = torch.cat(groups)
    assert sorted(allidx.tolist()) == list(range(w_dim))
    assert len(groups) == len(spec) + (1 if sum(l.n_axes for l in spec) < w_dim else 0)
    if layout == "quadrants":
        assert len(spec) == 4 and len(groups) == 4
        masks = torch.cat([l.region.mask(8) for l in spec])
        assert torch.equal(masks.sum(0), torch.ones(1, 8, 8))      # the quadrants tile the image


def test_toy_training_raises_the_inside_outside_ratio(tmp_path):
    """Same seed and steps: the regulariser makes resampling the left-half axes change the left half
    much more than the right one; plain training does not."""
    def run(name, **opts):
        t = make_trainer(tmp_path, name, method_options={"links": LEFT, "interval": 1, **opts}, g_lr=0.01)
        for _ in range(60):
            t.train_step()
        return link_locality(as_model(t.G, t.method), n=32)

    base, linked = run("base", **OFF), run("link")
    assert linked["ratio"] < 0.5 * base["ratio"] and linked["ratio"] < 0.6       # outside / inside (0.35 vs 1.44)
    assert linked["leak_in"] < 0.5 * base["leak_in"]                               # Table 3's MSE_i
    assert linked["inside"] > 0.5 * base["inside"]                                  # the edit still edits


@pytest.mark.parametrize("options,fragment", [
    ({}, "needs \"links\""),
    ({"links": LEFT, "lamda_in": 1}, "unknown link option"),
    ({"links": [{"region": {"box": [0.5, 0, 0.4, 1]}, "axes": 4}]}, "0 <= x0 < x1"),
    ({"links": [{"region": {"circle": 1}, "axes": 4}]}, "exactly one of"),
    ({"links": [{"region": {"box": [0, 0, 1, 1]}, "axes": "many"}]}, "count or [start, stop)"),
    ({"links": [{"region": {"box": [0, 0, 0.6, 1]}, "axes": 4}, {"region": {"box": [0.5, 0, 1, 1]}, "axes": 4}]},
     "overlap"),
    ({"links": [{"region": {"box": [0, 0, 0.5, 1]}, "axes": [0, 4]},
                {"region": {"box": [0.5, 0, 1, 1]}, "axes": [2, 6]}]}, "share axes"),
    ({"links": [{"region": {"class": "bed"}, "axes": 2}, {"region": {"class": ["bed", "lamp"]}, "axes": 2}]},
     "share the class"),
    ({"links": LEFT, "layout": "quadrants"}, "not both"),
    ({"layout": "octants"}, "choose one of"),
    ({"links": LEFT, "perturbation": "swap"}, "choose one of"),
    ({"links": LEFT, "lambda_in": -1}, "expected a number"),
    ({"links": LEFT, "interval": 0}, "expected an integer"),
    ({"links": [{"region": {"class": "bed", "dilate": 99}, "axes": 2}]}, "dilate"),
])
def test_option_validation_errors(options, fragment):
    with pytest.raises(UserError, match=fragment.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        build_method("link", options)


def test_axes_beyond_w_are_refused_when_the_network_is_built():
    m = build_method("link", {"links": [{"region": {"box": [0, 0, 1, 0.5]}, "axes": 32}]})
    with pytest.raises(UserError, match="exceed w, which has 16 channels"):
        m.build_generator(get_preset("test"))
    m = build_method("link", {"links": [{"region": {"box": [0, 0, 1, 0.5]}, "axes": 16}]})
    with pytest.raises(UserError, match="every axis"):
        m.build_generator(get_preset("test"))


def test_baseline_checkpoint_initialises_a_link_run(tmp_path):
    base = make_trainer(tmp_path, "base", method="stylegan2")
    base.train_step()
    base.save_checkpoint()
    link = make_trainer(tmp_path, "link", method_options={"links": LEFT}, init_from=str(tmp_path / "base"))
    link.init_from(link.opts.init_from)
    for a, b in ((base.G, link.G), (base.D, link.D), (base.G_ema, link.G_ema)):
        for k, v in a.state_dict().items():
            assert torch.equal(v, b.state_dict()[k]), k
    link.train_step()                                    # and it trains from there
    assert link.method.to_dict()["options"]["links"] == LEFT


# ---------------------------------------------------------------------- regulariser pieces

def test_perturb_and_resample_touch_only_the_link_axes():
    torch.manual_seed(0)
    ws = torch.randn(2, 5, 16)
    axes = torch.zeros(16, dtype=torch.bool)
    axes[4:8] = True
    target = torch.randn(2, 16)
    full = perturb(ws, axes, 1.0, target=target)
    assert torch.equal(full[..., ~axes], ws[..., ~axes])
    assert torch.allclose(full[..., axes], target[:, None, 4:8].expand(-1, 5, -1))
    half = perturb(ws, axes, 0.5, target=target)
    assert torch.allclose(half[..., axes], (ws[..., axes] + target[:, None, 4:8]) / 2)
    noise = torch.randn(2, 16)
    add = perturb(ws, axes, 2.0, noise=noise)
    assert torch.equal(add[..., ~axes], ws[..., ~axes])
    assert torch.allclose(add[..., axes] - ws[..., axes], 2 * noise[:, None, 4:8].expand(-1, 5, -1))
    link = parse_links([{"region": {"box": [0, 0, 1, 0.5]}, "axes": [4, 8]}], None, 16)[0]
    out = resample_ws(ws[:1], link, target)
    assert out.shape == (2, 5, 16) and torch.equal(out[..., :4], ws[:1, :, :4].expand(2, -1, -1))
    assert torch.equal(out[..., 4:8], target[:, None, 4:8].expand(-1, 5, -1))


def test_box_mask_uses_pixel_centres():
    m = BoxRegion((0.25, 0.0, 0.75, 0.5)).mask(8)
    assert m.shape == (1, 1, 8, 8) and m.sum() == 16
    assert m[0, 0, :4, 2:6].all() and not m[0, 0, 4:].any()


class HalvesSegmenter(torch.nn.Module):
    """Class 1 where the red channel is positive, else 0: a pluggable stand-in segmenter."""

    classes = ["dark", "red"]

    def forward(self, images):
        return (images[:, 0] > 0).long()


def test_class_region_with_a_plugged_segmenter_and_the_guard():
    torch.manual_seed(0)
    m = build_method("link", {"links": [{"region": {"class": "red", "dilate": 0}, "axes": 8}], "reg_batch": 4})
    m.set_segmenter(HalvesSegmenter())
    G = m.build_generator(get_preset("test"))
    real = torch.rand(4, 3, 16, 16) * 2 - 1
    ws = G.mapping_ws(torch.randn(4, 16))
    reg, perturbed, terms = m.regularise(G, ws, real)
    assert perturbed.shape == (8, 3, 16, 16) and reg.requires_grad
    assert {"leak_in", "leak_out", "change_in", "change_out", "region_alive", "rest_alive"} <= set(terms[0])
    # the class region of a pair is the union of both images' class pixels
    x = torch.full((1, 3, 4, 4), -1.0)
    y = x.clone()
    x[..., 0, 0] = 1
    y[..., 3, 3] = 1
    mask = m.region_masks(m.links(16), [x, y])[0][0]
    assert mask.sum() == 2 and mask[0, 0, 0, 0] == 1 and mask[0, 0, 3, 3] == 1
    with pytest.raises(UserError, match="not one of the segmenter's classes"):
        bad = build_method("link", {"links": [{"region": {"class": "bed"}, "axes": 8}]})
        bad.set_segmenter(HalvesSegmenter())
        bad.regularise(G, ws)


def test_degenerate_generator_is_guarded_and_reported(caplog):
    """A G that (nearly) ignores w: Eq. 3-4 are met, the guard is not, and it still has a gradient."""
    torch.manual_seed(0)
    m = build_method("link", {"links": LEFT, "reg_batch": 4})
    G = m.build_generator(get_preset("test"))
    with torch.no_grad():
        for mod in G.synthesis.modules():
            if hasattr(mod, "affine"):
                mod.affine.weight.mul_(1e-4)            # styles ~ bias: w hardly reaches the image
    real = torch.rand(4, 3, 16, 16) * 2 - 1
    ws = G.mapping_ws(torch.randn(4, 16))
    reg, _, terms = m.regularise(G, ws, real)
    t = terms[0]
    assert max(t["leak_in"], t["leak_out"], t["change_in"]) < 1e-6
    assert reg.item() > 0.5                                 # only the guard speaks
    reg.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.synthesis.parameters())
    with caplog.at_level(logging.WARNING, logger="steergan.link"):
        assert m.watch_degenerate(0, t, step=8)
    assert "looks degenerate" in caplog.text
    healthy = {"region_alive": torch.tensor(0.5), "rest_alive": torch.tensor(0.5)}
    flags = [m.watch_degenerate(0, healthy, step=16 + i) for i in range(30)]
    assert flags[0] and not flags[-1]                       # a running mean: recovers, not at once


# ---------------------------------------------------------------------- edits, metric, CLI

def test_resample_states_render_and_reload(tmp_path):
    t = make_trainer(tmp_path, "run", method_options={"links": LEFT})
    model = as_model(t.G_ema, t.method)
    start, states = resample_states(model, seed=5, link=0, n=3)
    assert start.seed == 5 and all(s.ws is not None and s.seed is None for s in states)
    ws0 = model.ws_from_seed(5)
    for s in states:
        ws = s.ws_tensor()
        assert torch.equal(ws[..., 8:], ws0[..., 8:]) and not torch.equal(ws[..., :8], ws0[..., :8])
        again = type(s).from_json(s.to_json())
        assert torch.equal(render_state(model, again), render_state(model, s))
    edited = apply_link_op(start, {"op": "resample_link", "link": 0, "seed": 9}, model)
    donor = model.ws_from_seed(9)
    assert torch.equal(edited.ws_tensor()[..., :8], donor[..., :8])
    with pytest.raises(UserError, match="does not exist"):
        apply_link_op(start, {"op": "resample_link", "link": 1, "seed": 9}, model)
    with pytest.raises(UserError, match="not a LinkGAN model"):
        resample_states(as_model(t.G_ema, build_method("stylegan2")), seed=5)


def test_cli_resample_and_eval_link(tmp_path, capsys):
    t = make_trainer(tmp_path, "run", method_options={"links": LEFT})
    t.train_step()
    t.save_checkpoint()
    run, out = str(tmp_path / "run"), tmp_path / "rs"
    main(["resample", run, "--seed", "3", "--link", "0", "--n", "4", "--out", str(out), "--json"])
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 4 and res["spec"]["axes"] == [0, 8]
    for name in ["original.png", "grid.png", "difference.png", "sample_03.png", "state_03.json"]:
        assert (out / name).is_file(), name
    model = load_model(run)
    state = type(resample_states(model, 3)[0]).from_json((out / "state_02.json").read_text())
    png = np.asarray(Image.open(out / "sample_02.png"))
    img = ((render_state(model, state)[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(png, img)
    main(["eval", run, "--metric", "link", "--n", "8", "--json"])
    r = json.loads(capsys.readouterr().out)
    assert {"inside", "outside", "ratio", "leak_in", "leak_out"} <= set(r) and r["n"] == 8
    # the baseline row: the same axes given explicitly to a model without links
    base = make_trainer(tmp_path, "base", method="stylegan2")
    base.save_checkpoint()
    main(["eval", str(tmp_path / "base"), "--metric", "link", "--n", "4", "--json", "--links", json.dumps(LEFT)])
    assert json.loads(capsys.readouterr().out)["spec"]["axes"] == [0, 8]
    with pytest.raises(SystemExit) as e:
        main(["eval", str(tmp_path / "base"), "--metric", "link", "--n", "4"])
    assert e.value.code == 2 and "not a LinkGAN model" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["resample", run, "--links", "[{oops", "--out", str(out)])
    assert e.value.code == 2 and "not valid JSON" in capsys.readouterr().err


def test_class_map_net_agrees_with_the_scene_segmenter():
    from steergan.data.scenes import render
    from steergan.metrics import SceneSegmenter
    from steergan.nn.segnet import ClassMapNet
    imgs = torch.from_numpy(np.stack([render("rooms", i, 64, 1).image.transpose(2, 0, 1) for i in range(2)]))
    net = ClassMapNet.load()
    ours = net(imgs.float() / 127.5 - 1)
    theirs = SceneSegmenter.load().predict_semantic(imgs)
    assert net.classes[1] == "floor" and torch.equal(ours, theirs.long())
    net.train()
    assert not net.net.training                              # BatchNorm stays frozen
