"""SemanticStyleGAN: factorised W+, depth fusion, dual D, label-map data, edits, CLI, training."""
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from steergan import checkpoint as ckpt_io
from steergan.data import ImageDataset
from steergan.data.scenes import classes as scene_classes, make_dataset
from steergan.errors import UserError
from steergan.methods import build_method, method_from_dict
from steergan.methods.semantic import LatentLayout, dual_r1
from steergan.methods.semantic import edits
from steergan.models import export_generator, load_model
from steergan.nn import ArchConfig, get_preset
from steergan.nn.modulated import ModulatedConv2d
from steergan.train import Trainer, TrainOptions
from steergan.train.augment import DiffAugment
from cli_runner import invoke

CLASSES = ["wall", "floor", "bed"]


def semantic(**options):
    return build_method("semantic", {"classes": CLASSES, **options})


def tiny_model(seed=0):
    torch.manual_seed(seed)
    m = semantic()
    G = m.build_generator(get_preset("test")).eval()
    return SimpleNamespace(G=G, method=m, device=torch.device("cpu"), source="test",
                           ws_from_seed=lambda s, t=1.0: G.mapping_ws(G.z_from_seed(s), t))


@pytest.fixture(scope="module")
def rooms16(tmp_path_factory):
    """A scene dataset written by steergan.data.scenes at 16 px (images, semantic/, dataset.json)."""
    return make_dataset("rooms", tmp_path_factory.mktemp("rooms16"), n=8, resolution=16, workers=1, progress=False)


# ---------------------------------------------------------------------- generator

def test_layout_slots_and_per_class_mixing():
    lay = LatentLayout(3, base_layers=2, shape_layers=2, texture_layers=2)
    assert lay.num_ws == 8 and lay.local_layers == 6 and lay.depth_after == 4
    assert lay.layer_slots(0) == [2, 2, 2, 2, 3, 3]          # background: no base code
    assert lay.layer_slots(2) == [0, 1, 6, 6, 7, 7]
    w1, w2 = torch.zeros(64, 4), torch.ones(64, 4)
    ws = lay.mix(w1, w2, torch.Generator().manual_seed(0))
    assert (ws[:, :2] == 0).all()                              # base codes from w1
    shape, texture = ws[:, 2::2, 0], ws[:, 3::2, 0]
    assert not (shape > texture).any()                         # (w2 shape, w1 texture) never drawn
    assert {(int(s), int(t)) for s, t in zip(shape.flatten(), texture.flatten())} == {(0, 0), (0, 1), (1, 1)}


def test_pointwise_modulated_layer_equals_the_1x1_convolution():
    torch.manual_seed(0)
    conv = ModulatedConv2d(5, 7, 1, w_dim=4)
    x, styles = torch.randn(3, 5, 6, 6), conv.affine(torch.randn(3, 4))
    tokens = conv.pointwise(x.flatten(2).transpose(1, 2), styles)            # [N, P, C]
    torch.testing.assert_close(tokens.transpose(1, 2).reshape(3, 7, 6, 6), conv(x, styles))
    with pytest.raises(ValueError):
        ModulatedConv2d(5, 7, 3, w_dim=4).pointwise(tokens, styles)


def test_masks_sum_to_one_and_dropped_classes_vanish():
    model = tiny_model()
    ws = model.ws_from_seed(1)
    out = edits.render(model, ws.expand(2, -1, -1))
    K, S = len(CLASSES), model.G.synthesis.coarse_size
    assert out.coarse_mask.shape == (2, K, S, S) and out.segmentation.shape == (2, K, 16, 16)
    assert out.image.shape == (2, 3, 16, 16)
    torch.testing.assert_close(out.coarse_mask.sum(1), torch.ones(2, S, S))
    assert (out.coarse_mask >= 0).all() and (out.depths[:, 0] == 0).all()   # background depth is 0
    visible = torch.tensor([[True, False, True], [False, True, False]])
    part = edits.render(model, ws.expand(2, -1, -1), visible=visible)
    assert (part.coarse_mask[0, 1] == 0).all() and (part.coarse_mask[1, [0, 2]] == 0).all()
    torch.testing.assert_close(part.coarse_mask.sum(1), torch.ones(2, S, S))


def test_texture_code_cannot_change_masks_and_shape_code_moves_only_its_depth():
    model = tiny_model()
    ws = model.ws_from_seed(3)
    donor = model.ws_from_seed(4)
    before = edits.render(model, ws)
    tex = edits.render(model, edits.swap_code(ws, donor, model, "bed", "texture"))
    assert torch.equal(tex.depths, before.depths) and torch.equal(tex.coarse_mask, before.coarse_mask)
    assert not torch.equal(tex.image, before.image)            # but the texture code does act
    shape = edits.render(model, edits.swap_code(ws, donor, model, "bed", "shape"))
    assert torch.equal(shape.depths[:, :2], before.depths[:, :2])
    assert not torch.equal(shape.depths[:, 2], before.depths[:, 2])


def test_swap_leaves_other_codes_untouched():
    model = tiny_model()
    ws, donor = model.ws_from_seed(5), model.ws_from_seed(6)
    lay = model.G.layout
    for cls in CLASSES:
        for part in ("shape", "texture"):
            out = edits.swap_code(ws, donor, model, cls, part)
            slot = lay.slot(CLASSES.index(cls), part)
            assert torch.equal(out[:, slot], donor[:, slot])
            others = [i for i in range(lay.num_ws) if i != slot]
            assert torch.equal(out[:, others], ws[:, others])
    by_id = edits.apply_ops(ws, [{"op": "set_code", "class": 2, "part": "texture", "seed": 6}], model)
    assert torch.equal(by_id, edits.swap_code(ws, donor, model, "bed", "texture"))
    with pytest.raises(UserError, match="unknown class 'sofa'"):
        edits.swap_code(ws, donor, model, "sofa", "texture")
    with pytest.raises(UserError, match="part"):
        edits.swap_code(ws, donor, model, "bed", "colour")


def test_build_up_adds_one_class_at_a_time():
    model = tiny_model()
    ws = model.ws_from_seed(2)
    images, order = edits.build_up(model, ws)
    assert order == [0, 1, 2] and images.shape == (3, 3, 16, 16)
    torch.testing.assert_close(images[-1:], edits.render(model, ws).image, atol=1e-4, rtol=0)
    assert not torch.allclose(images[0], images[-1])
    assert edits.depth_maps(model, ws).shape == (3, 4, 4)


# ---------------------------------------------------------------------- discriminator and losses

def test_dual_r1_matches_finite_differences():
    torch.manual_seed(0)
    arch = ArchConfig(resolution=8, z_dim=8, w_dim=8, channel_base=32, channel_max=8, channel_min=4)
    m = build_method("semantic", {"classes": ["a", "b"]})
    D = m.build_discriminator(arch).double()
    x = torch.randn(2, 5, 8, 8, dtype=torch.float64, requires_grad=True)
    penalty, r1_img, r1_seg = dual_r1(D(x), x, 3, gamma_img=0.3, gamma_seg=30.0)
    eps, base = 1e-6, x.detach().clone()
    grad = torch.zeros_like(base)
    with torch.no_grad():
        for i in range(base.numel()):
            plus, minus = base.clone(), base.clone()
            plus.view(-1)[i] += eps
            minus.view(-1)[i] -= eps
            grad.view(-1)[i] = (D(plus).sum() - D(minus).sum()) / (2 * eps)
    fd_img = grad[:, :3].square().sum((1, 2, 3)).mean().item()
    fd_seg = grad[:, 3:].square().sum((1, 2, 3)).mean().item()
    assert r1_img.item() == pytest.approx(fd_img, rel=1e-5)
    assert r1_seg.item() == pytest.approx(fd_seg, rel=1e-5)
    assert penalty.item() == pytest.approx(0.15 * fd_img + 15.0 * fd_seg, rel=1e-5)
    # the trainer's hook: the mask's gamma is r1_seg_ratio times the image's
    hooked, logged = m.r1_penalty(D(x), x, 0.3)
    assert hooked.item() == pytest.approx(0.15 * fd_img + 0.15 * 100 * fd_seg, rel=1e-5)
    assert set(logged) == {"r1_img", "r1_seg"}


def test_dual_discriminator_sees_both_inputs():
    arch = get_preset("test")
    m = semantic()
    D = m.build_discriminator(arch)
    x = torch.randn(4, 3 + len(CLASSES), 16, 16)
    y = x.clone()
    y[:, 3:] = -y[:, 3:]
    z = x.clone()
    z[:, :3] = 0
    assert not torch.allclose(D(x), D(y)) and not torch.allclose(D(x), D(z))


def test_augmentation_moves_mask_with_image_and_colours_rgb_only():
    img = torch.rand(4, 3, 16, 16) * 2 - 1
    x = torch.cat([img, img[:, :1].repeat(1, 2, 1, 1)], 1)     # "mask" planes = copies of red
    geo = DiffAugment("translation,cutout", generator=torch.Generator().manual_seed(0))(x)
    assert torch.equal(geo[:, 3], geo[:, 0]) and torch.equal(geo[:, 4], geo[:, 0])
    assert not torch.equal(geo[:, 0], x[:, 0])
    col = DiffAugment("color", generator=torch.Generator().manual_seed(0))(x)
    assert torch.equal(col[:, 3:], x[:, 3:]) and not torch.equal(col[:, :3], x[:, :3])


def test_options_are_validated():
    for bad in ({"coarse_size": 12}, {"lambda_mask": -1}, {"texture_layers": 0}, {"colour": 1},
                {"classes": ["a"]}, {"classes": ["a", "a"]}):
        with pytest.raises(UserError):
            build_method("semantic", bad)
    with pytest.raises(UserError, match="render_start < coarse_size"):
        build_method("semantic", {"classes": CLASSES, "coarse_size": 8, "render_start": 8}).build_generator(
            get_preset("test"))
    with pytest.raises(UserError, match="class list"):
        build_method("semantic").build_generator(get_preset("test"))
    m = semantic()
    with pytest.raises(UserError, match="differ"):
        m.bind_classes(["wall", "floor"])
    assert method_from_dict(m.to_dict()).options() == m.options()
    assert m.grid_sizes(64) == (16, 8) and m.grid_sizes(256) == (64, 16)


# ---------------------------------------------------------------------- data

def test_scene_dataset_masks_are_its_semantic_pngs(rooms16):
    ds = ImageDataset(rooms16, 16)
    masks, names = ds.load_masks()
    assert names == scene_classes("rooms") and masks.shape == (8, 16, 16) and masks.dtype == torch.uint8
    assert np.array_equal(masks[3].numpy(), ds.semantic(3))


def _folder(tmp_path, n=3, size=(20, 16)):
    img_dir, lab_dir = tmp_path / "img", tmp_path / "lab"
    img_dir.mkdir()
    lab_dir.mkdir()
    for i in range(n):
        Image.fromarray(np.full((size[1], size[0], 3), 40 * i, np.uint8)).save(img_dir / f"{i}.jpg")
        lab = np.zeros((size[1], size[0]), np.uint8)
        lab[:, size[0] // 2:] = 2
        Image.fromarray(lab).save(lab_dir / f"{i}.png")
    (tmp_path / "classes.txt").write_text("skin\nhair\nbackground\n")
    return img_dir, lab_dir, tmp_path / "classes.txt"


def test_folder_masks_load_and_errors_name_the_file(tmp_path):
    img_dir, lab_dir, classes = _folder(tmp_path)
    masks, names = ImageDataset(img_dir, 8, masks=lab_dir, classes=classes).load_masks()
    assert names == ["skin", "hair", "background"] and masks.shape == (3, 8, 8)
    assert (masks[:, :, :4] == 0).all() and (masks[:, :, 4:] == 2).all()      # same centre crop as the image
    (lab_dir / "1.png").unlink()
    with pytest.raises(UserError, match=r"lab/1\.png is missing"):
        ImageDataset(img_dir, 8, masks=lab_dir, classes=classes).load_masks()
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(lab_dir / "1.png")
    with pytest.raises(UserError, match=r"1\.png is 9x9 but its image is 20x16"):
        ImageDataset(img_dir, 8, masks=lab_dir, classes=classes).load_masks()
    Image.fromarray(np.full((16, 20), 7, np.uint8)).save(lab_dir / "1.png")
    with pytest.raises(UserError, match=r"1\.png holds class id 7"):
        ImageDataset(img_dir, 8, masks=lab_dir, classes=classes).load_masks()
    Image.fromarray(np.zeros((16, 20, 3), np.uint8)).save(lab_dir / "1.png")
    with pytest.raises(UserError, match=r"1\.png has mode RGB"):
        ImageDataset(img_dir, 8, masks=lab_dir, classes=classes).load_masks()
    with pytest.raises(UserError, match="class list"):
        ImageDataset(img_dir, 8, masks=lab_dir).load_masks()
    with pytest.raises(UserError, match="no label maps"):
        ImageDataset(img_dir, 8).load_masks()
    with pytest.raises(UserError, match="needs label maps"):
        Trainer(TrainOptions(out=str(tmp_path / "r"), preset="test", batch=4, method="semantic"),
                SimpleNamespace(images=torch.zeros(4, 3, 16, 16, dtype=torch.uint8)), arch=get_preset("test"),
                progress=False)


# ---------------------------------------------------------------------- training, checkpoints, CLI

def make_trainer(path, data, name="run", **kw):
    opts = dict(data=str(data), out=str(path / name), preset="test", batch=4, kimg=0.008, tick_kimg=0.008,
                seed=1, method="semantic", r1_interval=2, pl_weight=0.5, pl_interval=2, mix_prob=0.5)
    opts.update(kw)
    return Trainer(TrainOptions(**opts), ImageDataset(data, 16), arch=get_preset("test"), progress=False)


def test_training_steps_resume_and_checkpoints_round_trip(tmp_path, rooms16, capsys):
    t = make_trainer(tmp_path, rooms16)
    assert t.method.classes == scene_classes("rooms")           # bound from dataset.json
    before = {k: v.clone() for k, v in t.G.state_dict().items()}
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    stats = t.train_step()
    assert {"G/mask", "D/r1_img", "D/r1_seg", "G/pl"} <= set(stats)
    assert all(np.isfinite(v) for v in stats.values())
    changed = {k for k, v in t.G.state_dict().items() if not torch.equal(v, before[k])}
    assert any(k.startswith("synthesis.local.") for k in changed) and any("render" in k for k in changed)

    straight = make_trainer(tmp_path, rooms16, "a", kimg=0.016)
    straight.run()
    make_trainer(tmp_path, rooms16, "b", kimg=0.008).run()
    resumed = make_trainer(tmp_path, rooms16, "b", kimg=0.016)
    resumed.run()
    assert resumed.step == straight.step == 4
    for k, v in straight.G_ema.state_dict().items():
        assert torch.equal(v, resumed.G_ema.state_dict()[k]), k

    m = load_model(str(straight.run_dir))
    assert m.method.name == "semantic" and m.method.classes == scene_classes("rooms")
    assert "class_texture" in m.capabilities
    images = m.generate([0, 1, 2])
    assert images.shape == (3, 3, 16, 16) and images.dtype == torch.uint8
    ws = m.ws_from_seed(0)
    with torch.no_grad():
        torch.testing.assert_close(m.synthesize(ws), straight.G_ema.synthesis(ws, noise_mode="const"))
    f = export_generator(str(straight.run_dir), tmp_path / "sem.safetensors")
    assert load_model(str(f)).generate([0]).shape == (1, 3, 16, 16)
    cfg = json.loads((ckpt_io.list_checkpoints(straight.ckpt_root)[-1] / "config.json").read_text())
    assert cfg["method"]["options"]["classes"] == scene_classes("rooms")

    # the CLI on this checkpoint
    out = tmp_path / "compose"
    code, text, _ = _cli(["compose", str(f), "--seed", "3", "--swap-texture", "bed", "--from-seed", "9",
                          "--resample-shape", "1", "--build-up", "--out", str(out), "--json"], capsys)
    result = json.loads(text)
    assert code == 0
    assert [op["class"] for op in result["ops"]] == [2, 1] and result["mean_abs_change"] > 0
    for name in ("original.png", "edited.png", "labels.png", "depth.png", "build_up.png", "state.json"):
        assert (out / name).is_file(), name
    code, _, err = _cli(["compose", str(f), "--swap-texture", "sofa", "--from-seed", "1", "--out", str(out)], capsys)
    assert code == 2 and "unknown class 'sofa'" in err
    code, _, err = _cli(["compose", str(f), "--swap-texture", "bed", "--out", str(out)], capsys)
    assert code == 2 and "--from-seed" in err
    # state.json reloads to the edited image
    code, _, _ = _cli(["compose", str(f), "--state", str(out / "state.json"), "--out", str(tmp_path / "re")], capsys)
    assert code == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "re" / "original.png")),
                          np.asarray(Image.open(out / "edited.png")))
    code, text, _ = _cli(["eval", str(f), "--metric", "locality", "--n", "4", "--json"], capsys)
    r = json.loads(text)
    assert code == 0 and {"inside", "outside", "ratio", "per_class"} <= set(r) and r["inside"] > 0
    code, text, _ = _cli(["eval", str(f), "--metric", "miou", "--n", "4", "--json"], capsys)
    r = json.loads(text)
    assert code == 0 and 0 <= r["miou"] <= 1 and r["classes"] == scene_classes("rooms")
    code, _, err = _cli(["compose", "--model", "rooms-stylegan2", "--out", str(out)], capsys)
    assert code == 2 and "no per-class codes" in err


_cli = invoke
