"""One contract every control method keeps, parametrised over the method registry: a fourth
method gets these tests for free. Plus the non-fused modulated convolution against StyleGAN2's
fused (grouped-convolution) reference."""
import json
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from steergan import checkpoint as ckpt_io
from steergan.data import ImageDataset
from steergan.data.scenes import make_dataset
from steergan.methods import method_names
from steergan.models import export_generator, load_model
from steergan.nn import discriminator_kinds, get_preset
from steergan.nn.modulated import ModulatedConv2d
from steergan.train import Trainer, TrainOptions

ARCH = get_preset("test")
# The smallest options that make each method train on a scene dataset with either discriminator
# (GradCAM alignment is defined on the StyleGAN2 D only, so the contract uses none).
OPTIONS = {"stylegan2": {}, "spatial": {"sampling": "multi", "sel": "indoor_norm", "align": "segmenter",
                                         "paired": True, "n_objects": 2}, "link": {"links": [{"region": {"box": [0, 0, 0.5, 1]},
                                                                              "axes": 4}]},
           "semantic": {}}


def test_every_registered_method_has_contract_options():
    assert set(method_names()) == set(OPTIONS)


@pytest.fixture(scope="module")
def rooms16(tmp_path_factory):
    return make_dataset("rooms", tmp_path_factory.mktemp("contract"), n=8, resolution=16, workers=1, progress=False)


@pytest.mark.parametrize("kind", discriminator_kinds())
@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_method_contract(tmp_path, rooms16, name, kind):
    opts = TrainOptions(data=str(rooms16), out=str(tmp_path / "run"), preset="test", batch=4, kimg=0.008,
                        tick_kimg=0.008, seed=2, method=name, method_options=OPTIONS[name], discriminator=kind,
                        diversity_n=0)
    t = Trainer(opts, ImageDataset(rooms16, 16), arch=ARCH, progress=False)
    # G and D are built; D takes the method's control planes after RGB
    control = t.method.sample_control(2, t.G, t.device, generator=torch.Generator().manual_seed(0))
    ws = t.G.mapping_ws(torch.randn(2, ARCH.z_dim))
    d_in, _ = t.method.fake_for_d(t.G, ws, control)
    assert d_in.shape[1] == 3 + t.method.d_cond_channels()
    assert t.D(d_in).shape[0] == 2
    # one training step changes G and keeps everything finite
    before = {k: v.clone() for k, v in t.G.state_dict().items()}
    t.logger = SimpleNamespace(log=lambda *a, **k: None)
    stats = t.train_step()
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values()), stats
    assert any(not torch.equal(v, before[k]) for k, v in t.G.state_dict().items())
    # checkpoint and generator-file round trips reproduce G_ema exactly (up to fp16 for the file)
    ckpt = t.save_checkpoint()
    cfg = json.loads((ckpt / "config.json").read_text())
    assert cfg["method"]["name"] == name and cfg["train"]["discriminator"] == kind
    m = load_model(str(ckpt))
    assert m.method.to_dict() == t.method.to_dict()
    w = m.ws_from_seed(1)
    with torch.no_grad():
        torch.testing.assert_close(m.synthesize(w, m.control_from_seed(1)),
                                   t.G_ema.synthesis(w, m.control_from_seed(1), noise_mode="const"))
    f = export_generator(str(ckpt), tmp_path / "g.safetensors")
    again = load_model(str(f))
    assert again.method.to_dict() == t.method.to_dict() and again.capabilities == m.capabilities
    images = again.generate([0, 1])
    assert images.shape == (2, 3, 16, 16) and images.dtype == torch.uint8
    # the edit state of a seed round-trips through JSON and renders identically
    from steergan.edit.drag import initial_state
    from steergan.edit.state_checks import check_state_fits
    from steergan.methods.state import STATE_VERSION, EditState, render_state, start_state
    s = initial_state(m, 3, model_id=str(ckpt))
    assert s.same_as(start_state(m, 3, model_id=str(ckpt)))          # the method's own start
    assert (s.heatmaps is not None) == m.method.has_heatmaps
    s2 = check_state_fits(m, EditState.from_json(s.to_json()))
    assert s2.same_as(s) and json.loads(s.to_json())["version"] == STATE_VERSION
    torch.testing.assert_close(render_state(m, s), render_state(m, s2))
    # every op the method declares applies once through the generic path (the editor's)
    from steergan.ui.panels import apply_edit_ops
    current, applied = s, []                          # chained, so "restore" follows "remove"
    for op in t.method.edit_ops:
        example = dict(EXAMPLE_OPS[op.name], op=op.name)
        if example.get("class") == "?":
            example["class"] = t.method.classes[1]
        if op.needs(example) not in m.capabilities:
            continue                                  # e.g. restyle needs per-object codes
        edited = apply_edit_ops(m, current, [example])
        assert not edited.same_as(current), op.name
        render_state(m, edited)
        current = edited
        applied.append(op.name)
    assert applied == [op.name for op in t.method.edit_ops]     # the contract's options enable every op
    ckpt_io.read_training_checkpoint(ckpt)     # still a valid training checkpoint after all that


# One example of every op a method may declare; a new op without an example fails the contract.
EXAMPLE_OPS = {"move": {"index": 0, "delta": [0.2, 0.0]}, "set_centre": {"index": 0, "xy": [0.1, -0.1]},
               "set_sigma": {"index": 0, "sigma": 0.3}, "remove": {"index": 0}, "restore": {"index": 0},
               "set_style": {"index": 0, "seed": 5}, "resample_link": {"link": 0, "seed": 3},
               "set_code": {"class": "?", "part": "texture", "seed": 4}}


def test_edit_ops_are_declared_once_and_have_examples():
    from steergan.methods.base import registered_edit_ops
    ops = registered_edit_ops()
    assert set(ops) == set(EXAMPLE_OPS)


@pytest.mark.parametrize("upsample,spatial", [(False, False), (True, False), (False, True)])
def test_non_fused_modulated_conv_equals_the_grouped_convolution_reference(upsample, spatial):
    """StyleGAN2's reference folds styles into per-sample weights and runs one grouped conv;
    ours modulates activations instead. Same numbers (a constant style map for the spatial form)."""
    torch.manual_seed(0)
    n, cin, cout, k, res = 3, 5, 4, 3, 8
    conv = ModulatedConv2d(cin, cout, k, w_dim=6, upsample=upsample).double()
    x = torch.randn(n, cin, res, res, dtype=torch.float64)
    s = torch.randn(n, cin, dtype=torch.float64)
    styles = s[:, :, None, None].expand(n, cin, res, res) if spatial else s
    ours = conv(x, styles)
    w = conv.weight * conv.scale                                   # [O, I, k, k]
    wn = w[None] * s[:, None, :, None, None]                       # [N, O, I, k, k]
    wn = wn * torch.rsqrt(wn.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    if upsample:
        # transposed grouped conv: weights [N*I, O, k, k], then the same blur
        wt = wn.transpose(1, 2).reshape(n * cin, cout, k, k)
        ref = F.conv_transpose2d(x.reshape(1, n * cin, res, res), wt, stride=2, groups=n)
        ref = conv.blur(ref.reshape(n, cout, *ref.shape[-2:]))
    else:
        ref = F.conv2d(x.reshape(1, n * cin, res, res), wn.reshape(n * cout, cin, k, k),
                       padding=k // 2, groups=n).reshape(n, cout, res, res)
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-9)
