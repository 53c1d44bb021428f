"""The registered SpatialGAN method: options, control state, training, reload, edits."""
import json
import math
from types import SimpleNamespace

import pytest
import torch

from steergan.errors import UserError
from steergan.methods import LossContext, build_method, describe, method_from_dict, method_names
from steergan.methods.spatial import EditState, Heatmaps, apply_ops
from steergan.methods.state import render_state
from steergan.methods.spatial.edits import state_from_seed
from steergan.models import load_model
from steergan.nn import get_preset
from steergan.train import Trainer, TrainOptions

ARCH = get_preset("test")
HIER = {"sampling": "hierarchical", "sel": "norm", "align": "standard"}
INDOOR = {"sampling": "multi", "sel": "indoor", "align": "indoor"}


def test_registered_with_defaults_and_capabilities():
    assert "spatial" in method_names()
    m = build_method("spatial")
    assert m.options() == {"sampling": "hierarchical", "sel": "norm", "align": "standard", "align_weight": 1.0,
                           "align_interval": 1, "align_second_order": False, "tau": 0.25, "n_objects": 3,
                           "prior": "paper", "sel_hidden": 32, "indoor_mix": "convex", "paired": False}
    assert m.capabilities == ("generate", "latent", "heatmap_move", "heatmap_sigma")
    indoor = build_method("spatial", {"sampling": "multi"})
    assert (indoor.sel, indoor.align) == ("indoor", "indoor")
    assert indoor.capabilities[-2:] == ("heatmap_remove", "heatmap_style")
    assert "heatmap_style" not in build_method("spatial", {"sampling": "multi", "sel": "norm"}).capabilities
    for opts in (m.options(), indoor.options()):            # JSON round trip rebuilds the same method
        again = method_from_dict(json.loads(json.dumps({"name": "spatial", "options": opts})))
        assert again.options() == opts and describe(again)["capabilities"] == list(again.capabilities)


@pytest.mark.parametrize("bad", [
    {"sampling": "grid"}, {"sel": "spade"}, {"align": "soft"}, {"sel": "indoor"}, {"align": "indoor"},
    {"align_weight": -1}, {"align_weight": float("nan")}, {"align_weight": "1"}, {"tau": 1.0},
    {"n_objects": 0}, {"n_objects": 2.5}, {"n_objects": True}, {"align_interval": 0},
    {"align_second_order": 1}, {"prior": "mine"}, {"indoor_mix": "max"}, {"sel_hidden": 0}, {"colour": 1},
])
def test_bad_options_are_user_errors(bad):
    with pytest.raises(UserError):
        build_method("spatial", bad)


def test_sample_control_and_collate():
    m = build_method("spatial", INDOOR)
    G = m.build_generator(ARCH)
    a = m.sample_control(2, G, torch.device("cpu"), torch.Generator().manual_seed(5))
    b = m.sample_control(2, G, torch.device("cpu"), torch.Generator().manual_seed(5))
    assert isinstance(a, Heatmaps) and a.same_as(b) and a.styles.shape == (2, 3, ARCH.w_dim)
    assert torch.isfinite(a.styles).all()
    batch = m.collate_control([a.select(0), b.select(1)])
    assert len(batch) == 2 and batch.same_as(a)
    h = build_method("spatial").sample_control(3, G, torch.device("cpu"))
    assert h.kind == "hierarchical" and len(h) == 3 and h.styles is None


def test_alignment_is_lazy_when_asked():
    m = build_method("spatial", {"align_interval": 2, "align_weight": 0.5})
    G, D = m.build_generator(ARCH), m.build_discriminator(ARCH).requires_grad_(False)
    hm = m.sample_control(2, G, torch.device("cpu"))
    fake = G.synthesis(G.mapping_ws(torch.randn(2, ARCH.z_dim)), hm)
    assert m.g_losses(LossContext(G, D, 1, fake=fake, control=hm)) == {}
    due = m.g_losses(LossContext(G, D, 2, fake=fake, control=hm))["align"]
    raw, _ = m.alignment(D, fake, hm)
    assert due.item() == pytest.approx(raw.item() * 0.5 * 2, rel=1e-5)
    assert build_method("spatial", {"align": "none"}).g_losses(LossContext(G, D, 0, fake=fake, control=hm)) == {}


@pytest.fixture(scope="module")
def _warm_optimizer():
    """The first torch.optim.Adam of a process imports torch._dynamo (~2 s on this box): pay it in setup."""
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])


def _train(tmp_path, options):
    g = torch.Generator().manual_seed(0)
    data = SimpleNamespace(images=torch.randint(0, 256, (16, 3, 16, 16), generator=g, dtype=torch.uint8))
    opts = TrainOptions(data="fake", preset="test", method="spatial", method_options=options, batch=4,
                        kimg=0.008, tick_kimg=0.008, out=str(tmp_path / "run"))
    Trainer(opts, data, arch=get_preset("test"), progress=False).run()
    return tmp_path / "run"


@pytest.mark.parametrize("options", [HIER, INDOOR], ids=["hierarchical", "indoor"])
def test_training_logs_alignment_and_checkpoints_reload(tmp_path, options, _warm_optimizer):
    run = _train(tmp_path, options)
    records = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    aligns = [r["G/align"] for r in records if "G/align" in r]
    assert aligns and all(math.isfinite(v) and v > 0 for v in aligns)
    model = load_model(str(run))
    assert model.method.options() == build_method("spatial", options).options()
    imgs = model.generate([1, 2])
    assert imgs.shape == (2, 3, 16, 16) and imgs.dtype == torch.uint8
    assert torch.equal(imgs, model.generate([1, 2]))         # seeds fix latent and heatmaps
    # an edit state: round trip, edit, render
    state = state_from_seed(model, 1, truncation=0.7, model_id=str(run))
    again = EditState.from_json(state.to_json())
    assert again.same_as(state) and again.to_json() == state.to_json()
    ops = [{"op": "move", "index": 0, "delta": [0.3, -0.1]}, {"op": "set_sigma", "index": 1, "sigma": 0.2}]
    if "heatmap_style" in model.capabilities:
        ops += [{"op": "remove", "index": 2}, {"op": "set_style", "index": 1, "seed": 9}]
    edited = apply_ops(again, ops, model)
    assert not edited.heatmaps.same_as(state.heatmaps) and state.heatmaps.same_as(again.heatmaps)
    img = render_state(model, edited)
    assert img.shape == (1, 3, 16, 16) and torch.isfinite(img).all()
    assert torch.equal(img, render_state(model, EditState.from_json(edited.to_json())))


def test_edit_state_validation_and_explicit_ws():
    hm = build_method("spatial").sample_control(1, build_method("spatial").build_generator(ARCH), "cpu")
    ws = torch.randn(ARCH.num_ws, ARCH.w_dim)
    s = EditState("m", ws=ws.tolist(), heatmaps=hm, truncation=1.0, noise_mode="none").validate()
    back = EditState.from_json(s.to_json())
    assert back.same_as(s) and torch.equal(back.ws_tensor()[0], ws)
    for bad in ('{"model": "m"}', '{"model": "m", "seed": 1, "ws": [[1.0]]}', '{"model": "m", "seed": 1.5}',
                '{"model": "m", "seed": 1, "noise_mode": "loud"}', '{"model": "m", "seed": 1, "x": 1}', "[1"):
        with pytest.raises(UserError):
            EditState.from_json(bad)
    st = EditState("m", seed=1, heatmaps=hm)
    for op in ({"op": "fly", "index": 0}, {"op": "move", "index": 0}, {"op": "move", "index": 9, "delta": [0, 0]},
               {"op": "set_style", "index": 0, "seed": 3}, {"op": "set_sigma", "index": 0, "sigma": -1}):
        with pytest.raises(UserError):
            apply_ops(st, [op])


def test_edit_state_files_of_version_1_still_load():
    """Issue 15: the edit state moved to methods.state and gained a version; files written before
    (CLI state.json and editor exports: no version field) load unchanged, newer versions are refused."""
    import json

    from steergan.errors import UserError
    from steergan.methods.state import STATE_VERSION, EditState
    old = {"model": "rooms", "seed": 4, "ws": None, "heatmaps": None, "truncation": 0.7, "noise_mode": "const"}
    s = EditState.from_dict(old)
    assert (s.model, s.seed, s.truncation) == ("rooms", 4, 0.7)
    assert json.loads(s.to_json()) == {**old, "version": STATE_VERSION}
    assert EditState.from_json(s.to_json()).same_as(s)
    with pytest.raises(UserError, match="version"):
        EditState.from_dict({**old, "version": STATE_VERSION + 1})
    from steergan.methods.spatial.edits import EditState as Reexported
    assert Reexported is EditState                              # old imports keep working
