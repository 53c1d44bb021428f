"""SpatialGAN with the paired discriminator: layouts from instance maps, D's extra plane,
G's heatmaps drawn from the data's layouts, training, reload and init from a generator file."""
import json
from types import SimpleNamespace

import pytest
import torch

from steergan.data import ImageDataset
from steergan.data.scenes import make_dataset
from steergan.errors import UserError
from steergan.methods import build_method, method_from_dict
from steergan.methods.spatial.layouts import (LayoutBank, from_json, heatmap_channel, heatmaps_from_layouts,
                                              layouts_from_instances, object_planes, to_json)
from steergan.models import load_model
from steergan.nn import get_preset
from steergan.train import Trainer, TrainOptions

from cli_runner import invoke

ARCH = get_preset("test")
PAIRED = {"sampling": "multi", "paired": True, "align": "none", "n_objects": 2}


@pytest.fixture(scope="module")
def rooms16(tmp_path_factory):
    return make_dataset("rooms", tmp_path_factory.mktemp("rooms16p"), n=8, resolution=16, workers=1, progress=False)


def square_instances() -> torch.Tensor:
    """Two 16x16 maps: image 0 has object 1 on columns 2..5, rows 8..11 and object 2 on one
    pixel (13, 1); image 1 has no object."""
    m = torch.zeros(2, 16, 16, dtype=torch.uint8)
    m[0, 8:12, 2:6] = 1
    m[0, 1, 13] = 2
    return m


def test_layouts_from_instances_by_hand():
    c, s, a = layouts_from_instances(square_instances(), max_objects=3)
    px = lambda j: (2 * j + 1) / 16 - 1                               # noqa: E731  pixel centre
    assert torch.allclose(c[0, 0], torch.tensor([(px(2) + px(5)) / 2, (px(8) + px(11)) / 2]))
    # 4 pixel centres 2/16 apart: variance of {-3, -1, 1, 3}/16 = 5/256 on each axis
    assert s[0, 0].item() == pytest.approx((5 / 256) ** 0.5)
    assert torch.allclose(c[0, 1], torch.tensor([px(13), px(1)]))
    assert s[0, 1].item() == pytest.approx(0.04)                        # clamped from 0
    assert a.tolist() == [[True, True, False], [False, False, False]]
    assert s[0, 2] == s[1, 0] == 0.15                                   # empty slots: a mid-sized object
    # the rendered plane peaks on the object and is -1 far from every object
    plane = heatmap_channel(heatmaps_from_layouts(c, s, a), 16)
    assert plane.shape == (2, 1, 16, 16) and plane.max() <= 1
    assert plane[0, 0, 9:11, 3:5].min() > 0.5 and plane[0, 0, 0, 0] == pytest.approx(-1, abs=1e-4)
    assert torch.equal(plane[1], torch.full((1, 16, 16), -1.0))


def test_layout_json_round_trip_and_errors():
    c, s, a = layouts_from_instances(square_instances(), max_objects=3)
    js = to_json(c, s, a)
    assert len(js) == 2 and len(js[0]) == 2 and js[1] == []
    c2, s2, a2 = from_json(js, 3)
    assert torch.equal(a2, a) and torch.allclose(c2[a], c[a], atol=1e-4) and torch.allclose(s2[a], s[a], atol=1e-4)
    for bad in ([], [[[0, 0]]], [[[0, 0, 0]]], [[[5, 0, 0.1]]], [[[0, 0, 0.1]] * 4], "x", [[[0, True, 0.1]]]):
        with pytest.raises(UserError):
            from_json(bad, 3)
    with pytest.raises(UserError, match="no image"):
        LayoutBank(c[1:], s[1:], a[1:])


def test_bank_samples_only_real_layouts_deterministically():
    c, s, a = layouts_from_instances(square_instances(), max_objects=3)
    bank = LayoutBank(c, s, a)
    assert len(bank) == 1                                              # the empty image is dropped
    x = bank.sample(5, torch.Generator().manual_seed(0))
    y = bank.sample(5, torch.Generator().manual_seed(0))
    assert all(torch.equal(u, v) for u, v in zip(x, y))
    assert torch.allclose(x[0], c[:1].expand(5, -1, -1))
    mirrored = bank.sample(64, torch.Generator().manual_seed(1), mirror=True)[0][:, 0, 0]
    assert {round(v, 4) for v in mirrored.tolist()} == {round(c[0, 0, 0].item(), 4), round(-c[0, 0, 0].item(), 4)}


def test_paired_options_and_discriminator():
    with pytest.raises(UserError, match="paired"):
        build_method("spatial", {"sampling": "multi", "layouts": [[[0, 0, 0.1]]]})
    with pytest.raises(UserError):
        build_method("spatial", {"sampling": "multi", "paired": 1})
    m = build_method("spatial", PAIRED)
    assert m.uses_masks and m.mask_kind == "instances"
    assert not build_method("spatial", {"sampling": "multi"}).uses_masks
    D = m.build_discriminator(ARCH)
    assert D.from_rgb.weight.shape[1] == 4 and D(torch.zeros(2, 4, 16, 16)).shape == (2,)
    with pytest.raises(UserError, match="no stored layouts"):
        m.sample_control(1, m.build_generator(ARCH), torch.device("cpu"))


def test_real_and_fake_planes_pair_up():
    m = build_method("spatial", PAIRED)
    m.bind_masks(square_instances())
    G = m.build_generator(ARCH)
    real = m.real_for_d(torch.zeros(2, 3, 16, 16), square_instances())
    assert real.shape == (2, 4, 16, 16) and torch.equal(real[:, :3], torch.zeros(2, 3, 16, 16))
    hm = m.sample_control(2, G, torch.device("cpu"), torch.Generator().manual_seed(0))
    assert hm.active.tolist() == [[True, True]] * 2                    # the one non-empty layout
    fake, extras = m.fake_for_d(G, G.mapping_ws(torch.randn(2, ARCH.z_dim)), hm)
    assert fake.shape == (2, 4, 16, 16) and torch.equal(fake[:, :3], extras["image"])
    assert torch.allclose(fake[:, 3], real[0, 3].expand(2, -1, -1))   # same layout -> same plane


def test_object_planes_keep_a_small_object_inside_a_large_one_visible():
    """d_planes="objects": one plane per slot, largest sigma first, empty slots -1; the summed
    plane loses a small heatmap lying in a large one's core, the object planes keep it."""
    c = torch.tensor([[[0.3, 0.3], [0.0, 0.0], [0.0, 0.0]]])
    s, a = torch.tensor([[0.08, 0.5, 0.15]]), torch.tensor([[True, True, False]])
    hm = heatmaps_from_layouts(c, s, a)
    planes = object_planes(hm, 16)
    assert planes.shape == (1, 3, 16, 16)
    assert torch.allclose(planes[0, 0], hm.render(16)[0, 1] * 2 - 1)   # the large object first
    assert torch.allclose(planes[0, 1], hm.render(16)[0, 0] * 2 - 1)   # then the small one
    assert torch.equal(planes[0, 2], torch.full((16, 16), -1.0))       # the empty slot
    small = hm.render(16)[0, 0] > 0.5
    assert heatmap_channel(hm, 16)[0, 0][small].min() > 0.99           # saturated: the small one is gone
    assert planes[0, 1][small].min() > 0.0 and planes[0, 1][~small].max() < 0.5

    m = build_method("spatial", {**PAIRED, "d_planes": "objects"})
    assert m.d_cond_channels() == 2 and m.options()["d_planes"] == "objects"
    assert "d_planes" not in build_method("spatial", PAIRED).options()  # the default stays as it was
    m.bind_masks(square_instances())
    G = m.build_generator(ARCH)
    real = m.real_for_d(torch.zeros(2, 3, 16, 16), square_instances())
    hm = m.sample_control(2, G, torch.device("cpu"), torch.Generator().manual_seed(0))
    fake, _ = m.fake_for_d(G, G.mapping_ws(torch.randn(2, ARCH.z_dim)), hm)
    assert real.shape == fake.shape == (2, 5, 16, 16)
    assert torch.allclose(fake[:, 3:], real[:1, 3:].expand(2, -1, -1, -1))
    assert m.build_discriminator(ARCH)(fake).shape == (2,)
    for bad in ({"d_planes": "objects"}, {"sampling": "multi", "d_planes": "objects"}, {**PAIRED, "d_planes": "x"}):
        with pytest.raises(UserError):
            build_method("spatial", bad)


def test_hierarchical_paired_draws_the_object_from_real_layouts(tmp_path):
    """Hierarchical + paired: level 0 is the whole object's layout (union of instances),
    deeper centres keep their prior offsets around it, D sees the level-0 map only."""
    m = build_method("spatial", {"paired": True, "align": "none"})
    masks = square_instances()
    m.bind_masks(masks)
    assert len(m.options()["layouts"]) == 1 and len(m.options()["layouts"][0]) == 1
    union = layouts_from_instances((masks > 0).to(torch.uint8), 1)
    G = m.build_generator(ARCH)
    hm = m.sample_control(3, G, torch.device("cpu"), torch.Generator().manual_seed(0))
    assert hm.kind == "hierarchical" and hm.num_centres == 7
    assert torch.allclose(hm.centres[:, 0], union[0][0, 0].expand(3, 2))
    assert torch.allclose(hm.sigmas[:, 0], union[1][0, 0].expand(3))
    from steergan.methods.spatial.heatmaps import sample_hierarchical
    free = sample_hierarchical(3, torch.Generator().manual_seed(5))
    rooted = sample_hierarchical(3, torch.Generator().manual_seed(5), root=(hm.centres[:, 0], hm.sigmas[:, 0]))
    # the deeper centres keep the free draw's offsets and widths, around the real level-0 centre
    assert torch.allclose(rooted.centres[:, 1:] - rooted.centres[:, :1], free.centres[:, 1:] - free.centres[:, :1])
    assert torch.equal(rooted.sigmas[:, 1:], free.sigmas[:, 1:]) and torch.equal(rooted.sigmas[:, 0], hm.sigmas[:, 0])
    real = m.real_for_d(torch.zeros(2, 3, 16, 16), masks)
    fake, _ = m.fake_for_d(G, G.mapping_ws(torch.randn(3, ARCH.z_dim)), hm)
    assert torch.allclose(fake[:, 3], real[0, 3].expand(3, -1, -1), atol=1e-6)   # level 0 only
    # objectness targets from level 0 only: a deeper centre far from the object is not "object"
    from steergan.methods.spatial.objectness import objectness_targets
    far = hm.move(6, torch.tensor([0.9, -0.9]) - hm.centres[:, 6])       # a part centre in a corner
    core_all, _ = objectness_targets(far, 16)
    core0, _ = objectness_targets(far, 16, indices=far.level_indices(0))
    assert core_all[:, 0, 15].all() and not core0[:, 0, 15].any()
    again = method_from_dict(json.loads(json.dumps({"name": "spatial", "options": m.options()})))
    hm2 = again.sample_control(3, G, torch.device("cpu"), torch.Generator().manual_seed(0))
    assert torch.allclose(hm2.centres[:, 0], hm.centres[:, 0], atol=1e-4)      # stored layouts (4 decimals)


def ckpt_dir(t):
    return sorted((t.run_dir / "checkpoints").iterdir())[-1]


def test_train_reload_generate_and_init_from_generator_file(tmp_path, rooms16, capsys):
    opts = dict(data=str(rooms16), out=str(tmp_path / "p"), preset="test", batch=4, kimg=0.008, tick_kimg=0.008,
                seed=1, method="spatial", method_options=dict(PAIRED, n_objects=4))
    t = Trainer(TrainOptions(**opts), ImageDataset(rooms16, 16), arch=ARCH, progress=False)
    assert t.masks is not None and int(t.masks.max()) >= 1              # instance ids, not classes
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    stats = t.train_step()
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    t.run()
    m = load_model(str(t.run_dir))
    stored = m.method.options()["layouts"]
    assert 1 <= len(stored) <= 8 and all(len(objs) <= 4 for objs in stored)
    again = method_from_dict(json.loads(json.dumps(m.config["method"])))
    assert again.options() == m.method.options()
    hm = m.control_from_seed(3)
    assert hm.active.any() and m.generate([3, 4]).shape[0] == 2
    # D's attention on (image, heatmap) pairs: fakes with their heatmaps, reals with their layouts
    code, out, err = invoke(["attention", str(t.run_dir), "--n", "2", "--real", "1", "--data", str(rooms16),
                             "--out", str(tmp_path / "att.png")], capsys)
    assert code == 0 and (tmp_path / "att.png").is_file(), err
    # G-only init (a generator file): G copied, D fresh with its 4-plane input
    gfile = tmp_path / "g.safetensors"
    assert invoke(["export", str(t.run_dir), str(gfile)], capsys)[0] == 0
    opts2 = dict(opts, out=str(tmp_path / "q"), init_from=str(gfile), kimg=0.004)
    u = Trainer(TrainOptions(**opts2), ImageDataset(rooms16, 16), arch=ARCH, progress=False)
    u.init_from(str(gfile))
    for k, v in u.G.state_dict().items():
        assert torch.equal(v, m.G.state_dict()[k].half().float()), k         # the fp16 export, exactly
    assert u.D.from_rgb.weight.shape[1] == 4
    # the fresh D trains alone first (2 kimg by default); G and G_ema wait
    assert u.d_warmup_images == 2000 and u.finetune
    u.logger = SimpleNamespace(log=lambda *a, **k: None)
    g0, d0 = u.G.state_dict()["mapping.net.0.weight"].clone(), u.D.from_rgb.weight.detach().clone()
    assert u.train_step().get("D/warmup") == 1.0
    assert torch.equal(u.G.state_dict()["mapping.net.0.weight"], g0) and not torch.equal(u.D.from_rgb.weight, d0)
    # through the loop and its progress bar: 2 warm-up steps, then 2 G steps
    opts3 = dict(opts2, out=str(tmp_path / "r"), kimg=0.016, d_warmup_kimg=0.008)
    v = Trainer(TrainOptions(**opts3), ImageDataset(rooms16, 16), arch=ARCH, progress=True)
    v.run()
    assert v.images_seen == 16 and v.d_warmup_images == 8 and v.finetune
    assert not torch.equal(v.G.state_dict()["mapping.net.0.weight"], g0)
    cfg = json.loads((ckpt_dir(v) / "config.json").read_text())
    assert cfg["finetune"] and cfg["d_warmup_images"] == 8


# ---------------------------------------------------------------------- align="segmenter"

class Stand(torch.nn.Module):
    """Stand-in segmentation net: classes (bg, obj), logit(obj) - logit(bg) = 4 * red channel."""

    def forward(self, x):
        return torch.cat([-2 * x[:, :1], 2 * x[:, :1]], 1)


def test_objectness_net_and_loss_by_hand():
    from steergan.methods.spatial.objectness import ObjectnessNet, objectness_loss, objectness_targets
    net = ObjectnessNet(Stand(), ["bg", "obj"], ["bg"], resolution=16)
    x = torch.zeros(1, 3, 16, 16, requires_grad=True)
    assert torch.allclose(net(x), torch.full((1, 16, 16), 0.5))                  # sigmoid(0)
    with pytest.raises(UserError):
        ObjectnessNet(Stand(), ["bg", "obj"], ["wall"])
    hm = heatmaps_from_layouts(torch.tensor([[[-0.5, -0.5]]]), torch.tensor([[0.15]]), torch.tensor([[True]]))
    core, clear = objectness_targets(hm, 16)
    assert core[0, 4, 4] and not core[0, 12, 12] and clear[0, 12, 12] and not clear[0, 4, 4]
    good = torch.where(core[:, None].expand(-1, 3, -1, -1), 1.0, -1.0)           # an object on the heatmap
    bad = -good
    assert objectness_loss(net(good), hm) < 0.1 < objectness_loss(net(bad), hm)
    loss = objectness_loss(net(x), hm)
    loss.backward()                          # gradient: more object in the core, less far away
    assert x.grad[0, 0][core[0]].max() < 0 and x.grad[0, 0][clear[0]].min() > 0
    assert x.grad[0, 0][~core[0] & ~clear[0]].abs().max() == 0                    # the free band


def test_segmenter_alignment_in_the_method():
    from steergan.methods import LossContext
    with pytest.raises(UserError, match="segmenter"):
        build_method("spatial", {"segmenter": "x.safetensors"})
    m = build_method("spatial", {"sampling": "multi", "align": "segmenter", "align_interval": 2})
    assert m.options()["segmenter"] is None
    from steergan.methods.spatial.objectness import ObjectnessNet
    m.set_segmenter(ObjectnessNet(Stand(), ["bg", "obj"], ["bg"], resolution=16))
    G, D = m.build_generator(ARCH), m.build_discriminator(ARCH)
    hm = m.sample_control(2, G, torch.device("cpu"), torch.Generator().manual_seed(0))
    ws = G.mapping_ws(torch.randn(2, ARCH.z_dim))
    fake, extras = m.fake_for_d(G, ws, hm)
    assert m.g_losses(LossContext(G, D, 1, fake=fake, ws=ws, control=hm, extras=extras)) == {}   # lazy
    terms = m.g_losses(LossContext(G, D, 2, fake=fake, ws=ws, control=hm, extras=extras))
    terms["align_seg"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())
    # the bundled rooms segmenter loads by default
    assert 0 <= float(build_method("spatial", {"sampling": "multi", "align": "segmenter"})
                      .objectness(torch.device("cpu"))(fake.detach()).mean()) <= 1


# ---------------------------------------------------------------------- plain backgrounds (emoji)

def test_foreground_objectness_and_segmenter_by_hand():
    from steergan.methods.spatial.objectness import ForegroundObjectness, load_objectness
    from steergan.metrics import ForegroundSegmenter, load_segmenter
    img = torch.ones(1, 3, 16, 16)                                   # white in [-1, 1]
    img[0, :, 2:6, 2:6] = torch.tensor([1.0, -1.0, -1.0])[:, None, None]   # a red square
    img[0, :, 10, 10] = 0.9                                          # a near-white pixel
    img.requires_grad_(True)
    p = ForegroundObjectness()(img)
    assert p[0, 3, 3] > 0.99 and p[0, 12, 12] < 0.01 and 0.01 < p[0, 10, 10] < 0.2
    p[0, 10, 10].backward()
    assert (img.grad[0, :, 10, 10] < 0).all()                        # darker -> more object
    assert isinstance(load_objectness("foreground"), ForegroundObjectness)
    u8 = torch.full((1, 3, 16, 16), 255, dtype=torch.uint8)
    u8[0, 0, 2:6, 2:6], u8[0, 1, 10:14, 9:15] = 0, 0                 # two blobs ...
    u8[0, 2, 0, 15] = 0                                               # ... and a 1-pixel speck (dropped)
    inst = ForegroundSegmenter()(u8)[0]
    assert inst.max() == 2 and (inst[2:6, 2:6] == 1).all() and (inst[10:14, 9:15] == 2).all() and inst[0, 15] == 0
    assert isinstance(load_segmenter("foreground"), ForegroundSegmenter)


def test_hierarchical_paired_trains_on_imported_emoji(tmp_path, capsys):
    """Emoji placed at random on a canvas: instance maps from alpha feed the paired D, the
    foreground objectness aligns G; a few steps run and the stored layouts vary."""
    import numpy as np
    from PIL import Image
    from steergan.data.emoji import import_emoji
    pkg = tmp_path / "pkg"
    (pkg / "img" / "google" / "64").mkdir(parents=True)
    entries = []
    for i in range(3):
        rgba = np.zeros((64, 64, 4), np.uint8)
        rgba[12:52, 12:52] = [220, 60 * i, 30, 255]
        Image.fromarray(rgba).save(pkg / "img" / "google" / "64" / f"{i}.png")
        entries.append({"image": f"{i}.png", "category": "Smileys & Emotion", "has_img_google": True})
    (pkg / "emoji.json").write_text(json.dumps(entries))
    import_emoji("google", tmp_path / "emoji", source=str(pkg), resolution=16, placement="random", copies=3)
    opts = dict(data=str(tmp_path / "emoji"), out=str(tmp_path / "run"), preset="test", batch=4, kimg=0.012,
                tick_kimg=0.008, seed=1, method="spatial",
                method_options={"paired": True, "align": "segmenter", "segmenter": "foreground"})
    t = Trainer(TrainOptions(**opts), ImageDataset(tmp_path / "emoji", 16), arch=ARCH, progress=False)
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    stats = t.train_step()
    stats.update(t.train_step())
    assert "G/align_seg" in stats or "align_seg" in " ".join(stats), sorted(stats)
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    stored = t.method.options()["layouts"]
    assert len(stored) == 9 and len({tuple(l[0][:2]) for l in stored}) > 3
    t.run()
    # Co-move with the segmenter the model was aligned with (a rooms U-Net would be wrong here)
    code, out, err = invoke(["eval", str(t.run_dir), "--metric", "comove", "--n", "4", "--json"], capsys)
    assert code == 0, err
    res = json.loads(out)
    assert res["segmenter"] == "foreground" and res["n"] == 4


def test_empty_slots_are_not_stacked_at_the_image_centre():
    """Issue 18: removed or empty objects sat on top of each other at the image centre in the editor."""
    c, _, a = layouts_from_instances(square_instances(), max_objects=4)
    empty = c[1][~a[1]]
    assert len(empty) == 4 and len({tuple(p.tolist()) for p in empty}) == 4
    c2, _, a2 = from_json([[[0.1, 0.1, 0.2]]], 4)
    assert torch.allclose(c2[0, 1:], c[1, 1:]) and not a2[0, 1:].any()     # stored layouts agree
