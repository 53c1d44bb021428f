"""Bring your own image: W+ projection, heatmaps from an instance map, PTI states that reload
exactly, and the `steergan invert` CLI on odd image files."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from steergan import checkpoint as ckpt_io
from steergan.errors import UserError
from steergan.cli.common import load_start
from steergan.cli.invert import read_square
from steergan.edit.invert import (PIVOT_STEPS, W_STEPS, initial_heatmaps, inversion_state, pivotal_tune, project,
                                  psnr, save_tuned, tuned_model)
from steergan.edit.state_checks import check_state_fits
from steergan.methods.state import EditState, render_state
from steergan.models import load_model, to_uint8
from steergan.nn import get_preset
from cli_runner import invoke
from tiny_models import generator_file as _generator_file

ARCH = get_preset("test")                 # 16 px
INDOOR = {"sampling": "multi", "sel": "indoor", "align": "indoor"}          # 3 objects, style codes
HIER = {"sampling": "hierarchical"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return {"spatial": str(_generator_file(d / "spatial.safetensors", "spatial", INDOOR)),
            "hier": str(_generator_file(d / "hier.safetensors", "spatial", HIER)),
            "baseline": str(_generator_file(d / "baseline.safetensors", "stylegan2"))}


def _target(model, seed):
    return to_uint8(model.synthesize(model.ws_from_seed(seed), model.control_from_seed(seed)))[0]


def test_projection_lowers_the_reconstruction_error(files):
    m = load_model(files["spatial"])
    other = load_model(files["baseline"])
    target = _target(other, 5)                      # not an image this model made
    p = project(m, target, steps=15, heatmaps=initial_heatmaps(m, torch.zeros(16, 16)))
    losses = [h["loss"] for h in p.history]
    assert len(p.history) == 15 and losses[-1] < 0.8 * losses[0]
    assert p.history[-1]["psnr"] > p.history[0]["psnr"]
    assert p.ws.shape == (1, m.G.num_ws, m.G.cfg.w_dim) and not p.ws.requires_grad
    start = m.G.mapping.w_avg[None, None].expand_as(p.ws)
    assert not torch.equal(p.ws, start)
    # space "w": one w for every layer, still lowering the error
    w = project(m, target, steps=15, heatmaps=initial_heatmaps(m, torch.zeros(16, 16)), space="w")
    assert w.ws.shape == p.ws.shape and torch.equal(w.ws, w.ws[:, :1].expand_as(w.ws))
    assert w.history[-1]["loss"] < 0.8 * w.history[0]["loss"]
    # space "z": every latent is the mapping of the optimised z, and the error still falls
    z = project(m, target, steps=15, heatmaps=initial_heatmaps(m, torch.zeros(16, 16)), space="z")
    assert torch.equal(z.ws, z.ws[:, :1].expand_as(z.ws))
    assert z.history[-1]["loss"] < z.history[0]["loss"]
    # coarse_w: the first rows share one w (and stay one w), the finer rows are free, the error falls
    k = 2
    c = project(m, target, steps=15, heatmaps=initial_heatmaps(m, torch.zeros(16, 16)), coarse_w=k)
    assert torch.equal(c.ws[:, :k], c.ws[:, :1].expand(-1, k, -1)) and not torch.equal(c.ws[:, k], c.ws[:, 0])
    assert c.history[-1]["loss"] < 0.8 * c.history[0]["loss"]
    for bad in ({"coarse_w": m.G.num_ws + 1}, {"coarse_w": 2, "space": "w"}, {"coarse_w": True}):
        with pytest.raises(UserError, match="coarse_w"):
            project(m, target, steps=1, **bad)
    with pytest.raises(UserError, match="space"):
        project(m, target, steps=1, space="q")
    with pytest.raises(UserError, match="init_ws"):
        project(m, target, steps=1, space="z", init_ws=start.clone())


def test_an_image_the_model_made_is_reconstructed_to_high_psnr():
    m = load_model("rooms-stylegan2")
    target = _target(m, 7)
    p = project(m, target, steps=40, perceptual=0)
    assert p.history[0]["psnr"] < 20 and p.history[-1]["psnr"] > 28, (p.history[0], p.history[-1])
    state = inversion_state("rooms-stylegan2", p.ws, p.control)
    again = render_state(m, EditState.from_json(state.to_json()))
    assert psnr(again, target.float()[None] / 127.5 - 1) > 28


def test_heatmaps_from_a_synthetic_instance_map_land_on_the_objects(files):
    m = load_model(files["spatial"])
    inst = torch.zeros(32, 32, dtype=torch.uint8)
    inst[2:6, 4:8] = 1                   # small object, top left (16 px)
    inst[16:28, 20:30] = 2               # big object, bottom right (120 px)
    hm = initial_heatmaps(m, inst)
    centre = lambda x0, x1, y0, y1: [((x0 + x1) / 2) / 16 - 1, ((y0 + y1) / 2) / 16 - 1]  # noqa: E731
    assert hm.active[0].tolist() == [True, True, False]        # 3 slots, largest object first
    torch.testing.assert_close(hm.centres[0, 0], torch.tensor(centre(20, 30, 16, 28)))
    torch.testing.assert_close(hm.centres[0, 1], torch.tensor(centre(4, 8, 2, 6)))
    assert hm.sigmas[0, 0] > hm.sigmas[0, 1]
    assert hm.styles.shape == (1, 3, ARCH.w_dim) and torch.equal(hm.styles[0, 0], m.G.mapping.w_avg)
    # the rendered heatmap peaks inside each object
    r = hm.render(32)[0]
    for k, obj in ((0, 2), (1, 1)):
        y, x = divmod(int(r[k].argmax()), 32)
        assert inst[y, x] == obj
    # fitting the centres too keeps them on their objects
    p = project(m, _target(m, 1), steps=5, heatmaps=hm, fit_centres=True)
    assert (p.control.centres - hm.centres)[0, :2].abs().max() < 0.2
    # hierarchical models: the level-0 centre covers all objects together
    h = initial_heatmaps(load_model(files["hier"]), inst)
    union = inst > 0
    ys, xs = torch.nonzero(union, as_tuple=True)
    want = torch.stack([(xs.float() + 0.5).mean() / 16 - 1, (ys.float() + 0.5).mean() / 16 - 1])
    torch.testing.assert_close(h.centres[0, 0], want)
    assert h.levels == (0, 1, 1, 2, 2, 2, 2)


def test_a_pti_state_reloads_bit_exactly(files, tmp_path):
    m = load_model(files["spatial"])
    target = _target(load_model(files["baseline"]), 3)
    hm = initial_heatmaps(m, torch.zeros(16, 16))
    p = project(m, target, steps=5, heatmaps=hm)
    history = []
    G = pivotal_tune(m, p.ws, p.control, target, steps=8, history=history)
    assert history[-1]["psnr"] > history[0]["psnr"]
    assert any(not torch.equal(a, b) for a, b in zip(G.parameters(), m.G.parameters()))
    assert all(not q.requires_grad for q in G.parameters())
    gen = save_tuned(m, G, tmp_path / "tuned" / "generator.safetensors", {"image": "x.png"})
    state = inversion_state(str(gen), p.ws, p.control)
    expected = render_state(tuned_model(m, G, str(gen)), state)
    (tmp_path / "state.json").write_text(state.to_json())
    # what `steergan edit --state` / `drag --state` do: the state names its own model
    m2, s2 = load_start(None, None, None, str(tmp_path / "state.json"), "cpu")
    assert s2.same_as(state) and m2.source == str(gen)
    assert torch.equal(render_state(m2, s2), expected)
    assert torch.equal(render_state(load_model(state.model), check_state_fits(load_model(state.model), s2)),
                       expected)
    assert ckpt_io.read_generator_file(gen)[0]["pti"]["base"] == m.source
    # the editor, served with the tuned generator (`steergan ui --ckpt .../generator.safetensors`),
    # imports the same state file and renders the same pixels
    pytest.importorskip("fastapi")
    import io

    import numpy as np
    from fastapi.testclient import TestClient
    from PIL import Image

    from steergan.ui import create_app
    from steergan.ui.catalog import ModelCatalog
    client = TestClient(create_app(catalog=ModelCatalog([files["spatial"], str(gen)])))
    sid = client.post("/api/sessions", json={"seed": 1}).json()["id"]
    r = client.put(f"/api/sessions/{sid}/state", json=json.loads((tmp_path / "state.json").read_text()))
    assert r.status_code == 200, r.text
    assert r.json()["model"]["source"] == str(gen)
    png = client.get(f"/api/sessions/{sid}/image.png").content
    shown = torch.from_numpy(np.array(Image.open(io.BytesIO(png)).convert("RGB"))).permute(2, 0, 1)
    assert torch.equal(shown, to_uint8(expected)[0])


def _write(path, mode, size):
    w, h = size
    grad = np.linspace(0, 1, w * h).reshape(h, w)
    if mode == "I;16":
        Image.fromarray((grad * 65535).astype(np.uint16)).save(path)   # 16-bit grey PNG
        return
    rgb = Image.fromarray((np.stack([grad, grad[::-1], grad.T[:h, :w] if w == h else grad], -1) * 255)
                          .astype(np.uint8), "RGB")
    img = {"RGB": rgb, "L": rgb.convert("L"), "LA": rgb.convert("LA"), "RGBA": rgb.convert("RGBA"),
           "P": rgb.convert("P")}[mode]
    img.save(path)


def test_read_square_scales_16_bit_grey_and_crops_any_aspect(tmp_path):
    _write(tmp_path / "a.png", "I;16", (40, 24))
    with Image.open(tmp_path / "a.png") as im:
        assert im.mode.startswith("I")
    t = read_square(str(tmp_path / "a.png"), 16)
    assert t.shape == (3, 16, 16) and t.dtype == torch.uint8
    assert int(t.max()) > 200 and int(t.min()) < 60          # scaled from 16 bits, not clipped at 255
    assert torch.equal(t[0], t[1]) and torch.equal(t[1], t[2])


def test_cli_inverts_odd_image_modes(files, tmp_path, capsys):
    paths = []
    for mode, size, ext in (("L", (30, 20), "png"), ("LA", (20, 30), "png"), ("P", (24, 24), "png"),
                            ("I;16", (17, 33), "png"), ("RGBA", (50, 40), "webp"), ("RGB", (19, 23), "jpg")):
        p = tmp_path / f"{mode.replace(';', '')}.{ext}"
        _write(p, mode, size)
        paths.append(str(p))
    paths.append(paths[0])                               # the same stem twice gets its own folder
    out = tmp_path / "out"
    code, stdout, err = invoke(["invert", *paths, "--model", files["spatial"], "--out", str(out), "--steps", "2",
                                "--pti", "--pti-steps", "2", "--json"], capsys)
    assert code == 0, err
    res = json.loads(stdout)
    assert len(res["images"]) == 7 and res["pti_steps"] == 2
    folders = {Path(r["out"]).name for r in res["images"]}
    assert {"L", "L-2", "I16", "RGBA", "RGB"} <= folders
    for r in res["images"]:
        d = Path(r["out"])
        assert {p.name for p in d.iterdir()} == {"reconstruction.png", "before_after.png", "state.json",
                                                 "generator.safetensors"}
        with Image.open(d / "reconstruction.png") as im:
            assert im.size == (16, 16)
        state = EditState.from_json((d / "state.json").read_text())
        assert state.model == str((d / "generator.safetensors").resolve()) and state.heatmaps is not None
    # the saved state is what `edit --state` starts from
    code, _, err = invoke(["edit", "--state", res["images"][0]["state"], "--move", "0:1,0",
                           "--out", str(tmp_path / "edited")], capsys)
    assert code == 0, err
    # the folder moved: the state finds its tuned generator next to it again
    moved = tmp_path / "moved"
    Path(res["images"][0]["out"]).rename(moved)
    code, _, err = invoke(["edit", "--state", str(moved / "state.json"), "--move", "0:1,0",
                           "--out", str(tmp_path / "edited2")], capsys)
    assert code == 0, err
    assert (tmp_path / "edited2" / "after.png").read_bytes() == (tmp_path / "edited" / "after.png").read_bytes()


def test_pti_locality_keeps_nearby_latents_rendering_as_before(files):
    """The locality term holds latents near the pivot to the untouched generator's images."""
    m = load_model(files["baseline"])
    target = _target(m, 3)
    p = project(m, target, steps=5)
    g = torch.Generator().manual_seed(0)               # the latents pivotal_tune holds (seed 0)
    z = torch.randn(4, m.G.cfg.z_dim, generator=g)
    with torch.no_grad():
        near = p.ws + 0.5 * (m.G.mapping_ws(z) - p.ws)
        before = m.G.synthesis(near, None, noise_mode="const")

    def drift(**kw):
        G = pivotal_tune(m, p.ws, None, target, steps=24, fp16=False, **kw)
        with torch.no_grad():
            return (G.synthesis(near, None, noise_mode="const") - before).square().mean().item()
    free = drift(locality=0)
    assert drift() < 0.5 * free                        # the default weight
    assert drift(locality=1) < drift()


def test_projector_can_keep_the_latent_and_fit_only_the_codes(files):
    """fit_ws=False (style_codes_check.py's encoder row): W+ stays bit-identical, the objects'
    codes move and the error falls; with nothing else to fit it is refused."""
    from steergan.edit.invert import Projector
    m = load_model(files["spatial"])
    target = _target(m, 3)
    start = m.G.mapping_ws(torch.randn(1, m.G.cfg.z_dim, generator=torch.Generator().manual_seed(1)))
    hm = m.control_from_seed(0)
    p = Projector(m, target, steps=8, heatmaps=hm, init_ws=start, fit_ws=False)
    codes0 = p.styles.detach().clone()
    while not p.done:
        p.step()
    assert torch.equal(p.ws, start) and not torch.equal(p.styles, codes0)
    assert p.history[-1]["loss"] < p.history[0]["loss"]
    plain = load_model(files["baseline"])
    with pytest.raises(UserError, match="nothing to fit"):
        Projector(plain, _target(plain, 3), steps=2, fit_ws=False)


def test_pti_tunes_only_the_layers_from_tune_from(files):
    """PTI leaves the blocks coarser than ``tune_from`` (and the constant input) exactly as they
    were and tunes the rest; ``tune_from=4`` tunes every synthesis layer."""
    from steergan.edit.invert import PTI_TUNE_FROM
    m = load_model(files["baseline"])
    target = _target(m, 3)
    p = project(m, target, steps=3)
    syn0 = m.G.synthesis
    coarse = {f"convs.{s.index}." for s in syn0.layer_specs if s.resolution < 8} | {"const"} | {
        f"to_rgbs.{b}." for b, r in enumerate(syn0.resolutions) if r < 8}
    for tune_from in (8, 4):
        G = pivotal_tune(m, p.ws, None, target, steps=4, fp16=False, tune_from=tune_from)
        before = dict(syn0.named_parameters())
        for name, q in G.synthesis.named_parameters():
            frozen = any(name.startswith(c) for c in coarse) and tune_from == 8
            if frozen:
                assert torch.equal(q, before[name]), name
            elif name.endswith("weight") and "affine" not in name:
                assert not torch.equal(q, before[name]), name
    assert PTI_TUNE_FROM > 4          # the default freezes the coarse layout


def test_pti_freeze_leaves_the_named_parts_as_trained_and_still_fits(tmp_path):
    """``freeze=("noise", "adapters")`` keeps every noise strength and SpatialGAN adapter parameter
    of the tuned blocks as trained (a tuning without it moves them), tunes the rest and still
    lowers the error; an unknown part name is refused."""
    m = load_model(str(_generator_file(tmp_path / "norm.safetensors", "spatial", {**INDOOR, "sel": "indoor_norm"})))
    with torch.no_grad():          # a non-zero noise strength, so a tuning that moved it would show
        for name, q in m.G.synthesis.named_parameters():
            if name.endswith("noise.strength"):
                q.fill_(0.05)
    target = _target(m, 3)
    p = project(m, target, steps=3, heatmaps=initial_heatmaps(m, torch.zeros(16, 16)))

    def fit(G):
        with torch.no_grad():
            return psnr(G.synthesis(p.ws, p.control, noise_mode="const"), target.float()[None] / 127.5 - 1)

    trained = {n: q.clone() for n, q in m.G.synthesis.named_parameters()}
    parts = [n for n in trained if n.endswith("noise.strength") or ".adapter." in n]
    assert any(".adapter." in n for n in parts) and any("noise" in n for n in parts)
    G = pivotal_tune(m, p.ws, p.control, target, steps=12, fp16=False, freeze=("noise", "adapters"))
    G_all = pivotal_tune(m, p.ws, p.control, target, steps=12, fp16=False)
    frozen, tuned = dict(G.synthesis.named_parameters()), dict(G_all.synthesis.named_parameters())
    assert all(torch.equal(frozen[n], trained[n]) for n in parts)
    assert any(not torch.equal(tuned[n], trained[n]) for n in parts)
    assert any(not torch.equal(frozen[n], trained[n]) for n in trained if n not in parts)
    assert fit(G) > fit(m.G)
    with pytest.raises(UserError, match="cannot freeze"):
        pivotal_tune(m, p.ws, p.control, target, steps=1, freeze=("mapping",))


def test_pti_renders_its_frozen_blocks_once_and_the_same_image(files):
    """The tuner renders the blocks below ``tune_from`` once (the pivot is fixed); a step's image
    is what the whole generator renders, and a moving pivot goes through every block."""
    from steergan.edit.invert import PivotalTuner
    m = load_model(files["spatial"])
    target = _target(m, 3)
    p = project(m, target, steps=3, heatmaps=initial_heatmaps(m, torch.zeros(16, 16)))
    t = PivotalTuner(m, p.ws, p.control, target, steps=3, tune_from=8, fp16=False)
    assert t._heads is not None and len(t._heads) == 1 + len(t.local_ws)
    for _ in range(3):
        t.step()
    with torch.no_grad():
        whole = t.G.synthesis(p.ws, p.control, noise_mode="const")
        torch.testing.assert_close(t._render([0]), whole, rtol=0, atol=1e-5)
        local = t.G.synthesis(t.local_ws[1][None], p.control, noise_mode="const")
        torch.testing.assert_close(t._render([0, 2])[1:], local, rtol=0, atol=1e-5)
    assert PivotalTuner(m, p.ws, p.control, target, steps=1, tune_from=4)._heads is None
    assert PivotalTuner(m, p.ws, p.control, target, steps=1, tune_from=8, pivot_lr=0.01)._heads is None

def test_pti_follow_teaches_the_tuned_generator_to_carry_a_moved_object(files):
    """follow > 0: moving one of the image's heatmaps on the tuned generator carries the object
    and keeps the rest (the follow loss, read on moves the tuning never drew, falls against a
    tuning without the term); a model without movable heatmaps ignores the weight."""
    from steergan.edit.invert import PivotalTuner
    from steergan.methods.spatial.follow import follow_loss, moved_heatmaps
    m = load_model(files["spatial"])
    target = _target(m, 3)
    p = project(m, target, steps=3, heatmaps=m.control_from_seed(3))

    def follow_after(weight):
        t = PivotalTuner(m, p.ws, p.control, target, steps=60, tune_from=8, fp16=False, follow=weight,
                         follow_every=1, seed=0)
        while not t.done:
            t.step()
        with torch.no_grad():
            moved = moved_heatmaps(p.control, torch.tensor([0]), torch.tensor([[0.3, -0.2]]))
            torch.testing.assert_close(t._render_layout(p.ws, moved),
                                       t.G.synthesis(p.ws, moved, noise_mode="const"), rtol=0, atol=1e-5)
            return sum(follow_loss(t.G, p.ws, p.control, torch.Generator().manual_seed(100 + i)).item()
                       for i in range(8))
    assert follow_after(1.0) < 0.85 * follow_after(0.0)      # 0.78 when written
    plain = load_model(files["baseline"])
    assert PivotalTuner(plain, project(plain, target, steps=1).ws, None, target, steps=1, follow=1.0).follow == 0


def test_projection_follow_fits_a_latent_whose_objects_go_with_their_heatmaps(files):
    """follow > 0 in the W+ projection: the follow loss, read on moves the projection never drew,
    is lower for the latent found than for the one found without the term (G is never fitted);
    a model without movable heatmaps ignores the weight."""
    from steergan.edit.invert import Projector
    from steergan.methods.spatial.follow import follow_loss
    m = load_model(files["spatial"])
    target = _target(m, 3)

    def follow_after(weight):
        p = Projector(m, target, steps=40, heatmaps=m.control_from_seed(3), follow=weight, follow_every=1)
        fitted = {id(t) for g in p.opt.param_groups for t in g["params"]}
        assert not fitted & {id(t) for t in m.G.parameters()}        # the latent is fitted, never G
        while not p.done:
            p.step()
        r = p.result()
        with torch.no_grad():
            return sum(follow_loss(m.G, r.ws, r.control, torch.Generator().manual_seed(100 + i)).item()
                       for i in range(8))
    assert follow_after(3.0) < 0.85 * follow_after(0.0)      # 0.67 when written
    plain = load_model(files["baseline"])
    assert Projector(plain, target, steps=1, follow=1.0).follow == 0
    with pytest.raises(UserError):
        Projector(m, target, steps=1, heatmaps=m.control_from_seed(3), follow=-1)


def test_cli_pivot_steps_default_depends_on_pti(files, tmp_path, capsys):
    _write(tmp_path / "x.png", "RGB", (16, 16))
    for extra, want in (([], W_STEPS), (["--pti", "--pti-steps", "1"], PIVOT_STEPS)):
        code, stdout, err = invoke(["invert", str(tmp_path / "x.png"), "--model", files["baseline"], "--out",
                                    str(tmp_path / "o"), "--json", *extra], capsys)
        assert code == 0, err
        assert json.loads(stdout)["steps"] == want
    code, stdout, err = invoke(["invert", str(tmp_path / "x.png"), "--model", files["baseline"], "--out",
                                str(tmp_path / "p"), "--perceptual", "-1"], capsys)
    assert code == 2 and err.startswith("error: ") and not (tmp_path / "p").exists()


def test_cli_pti_rate_is_higher_from_a_guess_than_after_w_plus_steps(files, tmp_path, capsys, monkeypatch):
    """PTI's rate follows the pivot: ``PTI_LR_FROM_GUESS`` with ``--steps 0`` (an encoder's guess or
    the mean), ``PTI_LR`` after W+ steps; the rate reaches the optimiser."""
    import steergan.edit.invert as inv
    seen = []
    real_init = inv.PivotalTuner.__init__

    def spy(self, *a, **kw):
        real_init(self, *a, **kw)
        seen.append(self.opt.param_groups[0]["lr"])
    monkeypatch.setattr(inv.PivotalTuner, "__init__", spy)
    _write(tmp_path / "x.png", "RGB", (16, 16))
    for steps in ("0", "2"):
        code, _, err = invoke(["invert", str(tmp_path / "x.png"), "--model", files["baseline"], "--out",
                               str(tmp_path / steps), "--pti", "--pti-steps", "1", "--steps", steps], capsys)
        assert code == 0, err
    assert seen == [inv.PTI_LR_FROM_GUESS, inv.PTI_LR] and inv.PTI_LR_FROM_GUESS > inv.PTI_LR


def test_cli_follow_reaches_the_projection(files, tmp_path, capsys, monkeypatch):
    """``invert --follow W`` gives the W+ projection that weight (0 by default)."""
    import steergan.edit.invert as inv
    seen = []
    real_init = inv.Projector.__init__

    def spy(self, *a, **kw):
        real_init(self, *a, **kw)
        seen.append(self.follow)
    monkeypatch.setattr(inv.Projector, "__init__", spy)
    _write(tmp_path / "x.png", "RGB", (16, 16))
    for extra in ([], ["--follow", "0.5"]):
        code, _, err = invoke(["invert", str(tmp_path / "x.png"), "--model", files["spatial"], "--out",
                               str(tmp_path / str(len(extra))), "--steps", "1", *extra], capsys)
        assert code == 0, err
    assert seen == [inv.W_FOLLOW, 0.5]


def test_cli_without_pti_keeps_the_model_name(files, tmp_path, capsys):
    _write(tmp_path / "x.png", "RGB", (16, 16))
    code, _, err = invoke(["invert", str(tmp_path / "x.png"), "--model", files["baseline"], "--out",
                           str(tmp_path / "o"), "--steps", "3"], capsys)
    assert code == 0, err
    state = EditState.from_json((tmp_path / "o" / "x" / "state.json").read_text())
    assert state.model == files["baseline"] and state.heatmaps is None and len(state.ws) == load_model(
        files["baseline"]).G.num_ws
    assert not (tmp_path / "o" / "x" / "generator.safetensors").exists()


def test_cli_pti_freeze_keeps_the_adapters_and_names_them_in_the_file(files, tmp_path, capsys):
    """``--pti-freeze adapters`` tunes around them (the written generator carries the trained
    adapters and says what was frozen); an unknown part is the one-line error with exit 2."""
    src = tmp_path / "norm.safetensors"
    _generator_file(src, "spatial", {**INDOOR, "sel": "indoor_norm"})
    _write(tmp_path / "x.png", "RGB", (16, 16))
    code, _, err = invoke(["invert", str(tmp_path / "x.png"), "--model", str(src), "--out", str(tmp_path / "o"),
                           "--steps", "2", "--pti", "--pti-steps", "3", "--pti-freeze", "adapters"], capsys)
    assert code == 0, err
    gen = tmp_path / "o" / "x" / "generator.safetensors"
    tuned, base = load_model(str(gen)), load_model(str(src))
    assert tuned.config["pti"]["pti_freeze"] == ["adapters"]
    before = {n: q.half().float() for n, q in base.G.synthesis.named_parameters()}     # the file is fp16
    after = dict(tuned.G.synthesis.named_parameters())
    assert all(torch.equal(after[n], before[n]) for n in before if ".adapter." in n)
    assert any(not torch.equal(after[n], before[n]) for n in before if ".adapter." not in n)
    code, out, err = invoke(["invert", str(tmp_path / "x.png"), "--model", str(src), "--out", str(tmp_path / "o2"),
                             "--pti", "--pti-freeze", "mapping"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error:")
    assert not (tmp_path / "o2").exists()


@pytest.mark.parametrize("content", [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, None])
def test_cli_unreadable_file_is_one_line_exit_2_and_writes_nothing(files, tmp_path, capsys, content):
    good = tmp_path / "good.png"
    _write(good, "RGB", (16, 16))
    bad = tmp_path / "bad.png"
    if content is not None:
        bad.write_bytes(content)
    out = tmp_path / "out"
    code, stdout, err = invoke(["invert", str(good), str(bad), "--model", files["baseline"], "--out", str(out),
                                "--steps", "1"], capsys)
    assert code == 2 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.png" in lines[0], err
    assert not out.exists()


def test_inversion_code_reads_neither_the_metrics_nor_the_judge():
    """The edit layer optimises: the evaluation judge (and the metrics layer) stay out of it."""
    from test_judge import imported_modules
    root = Path(__file__).resolve().parent.parent / "steergan"
    names = imported_modules(root / "edit" / "invert.py")
    bad = [n for n in names if "judge" in n or {"metrics", "cli", "ui"} & set(n.strip(".").split("."))]
    assert not bad, bad


@pytest.mark.parametrize("kind", ["baseline", "spatial"])
def test_encoder_learns_the_models_latents_and_starts_the_projection(files, tmp_path, capsys, kind):
    """Issue 19: an encoder trained on the model's own samples predicts their W+ better than the
    mean w, round-trips through its file, and `steergan invert --encoder` starts from its guess."""
    from steergan.edit.encoder import encode, load_encoder, save_encoder, train_encoder
    m = load_model(files[kind])
    enc, meta = train_encoder(m, minutes=5, steps=60, batch=8, log=None)
    assert meta["trained"]["steps"] == 60
    errs, base = [], []
    for seed in range(100, 108):
        ws = m.ws_from_seed(seed, 0.8)
        img = to_uint8(m.synthesize(ws, m.control_from_seed(seed)))[0]
        errs.append(float((encode(enc, img) - ws).square().mean()))
        base.append(float((m.G.mapping.w_avg[None, None] - ws).square().mean()))
    assert sum(errs) < 0.9 * sum(base), (sum(errs), sum(base))
    path = save_encoder(enc, meta, tmp_path / "enc.safetensors")
    again = load_encoder(path, m)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    assert torch.equal(again(x), enc(x))
    other = load_model(files["hier" if kind == "baseline" else "baseline"])
    if other.G.num_ws != m.G.num_ws or other.G.cfg.w_dim != m.G.cfg.w_dim:
        with pytest.raises(UserError, match="another model"):
            load_encoder(path, other)
    with pytest.raises(UserError, match="not a steergan encoder"):
        (tmp_path / "bad.safetensors").write_bytes(b"nope")
        load_encoder(tmp_path / "bad.safetensors")
    # the CLI: train one, then invert with it (--steps 0: the encoder's guess alone)
    code, _, err = invoke(["train-encoder", files[kind], "--out", str(tmp_path / "e2.safetensors"),
                           "--minutes", "0.02", "--batch", "4"], capsys)
    assert code == 0 and (tmp_path / "e2.safetensors").is_file(), err
    Image.fromarray(to_uint8(m.synthesize(m.ws_from_seed(3), m.control_from_seed(3)))[0].permute(1, 2, 0).numpy()
                    ).save(tmp_path / "t.png")
    code, _, err = invoke(["invert", str(tmp_path / "t.png"), "--model", files[kind], "--out", str(tmp_path / "o"),
                           "--steps", "0", "--encoder", str(path), "--json"], capsys)
    assert code == 0, err
    state = EditState.from_json((tmp_path / "o" / "t" / "state.json").read_text())
    img = to_uint8(m.synthesize(m.ws_from_seed(3), m.control_from_seed(3)))[0]
    assert torch.allclose(state.ws_tensor(), encode(enc, img), atol=1e-5)
    # with --pti and no --steps the guess is the pivot (edit.invert.default_steps)
    code, out, err = invoke(["invert", str(tmp_path / "t.png"), "--model", files[kind], "--out", str(tmp_path / "p"),
                             "--pti", "--pti-steps", "2", "--encoder", str(path), "--json"], capsys)
    assert code == 0 and json.loads(out)["steps"] == 0, err
    code, out, err = invoke(["invert", str(tmp_path / "t.png"), "--model", files[kind], "--out", str(tmp_path / "w"),
                             "--pti", "--pti-steps", "2", "--encoder", str(path), "--space", "w", "--json"], capsys)
    assert code == 0 and json.loads(out)["steps"] == PIVOT_STEPS, err       # W averages the guess: steps fix it
    code, out, err = invoke(["invert", str(tmp_path / "t.png"), "--model", files[kind], "--out", str(tmp_path / "q"),
                             "--pti", "--pti-steps", "2", "--json"], capsys)
    assert code == 0 and json.loads(out)["steps"] == PIVOT_STEPS, err


@pytest.mark.parametrize("kind", ["baseline", "spatial"])
def test_encoder_trained_on_real_images_reconstructs_them_better_than_the_mean(files, tmp_path, capsys, kind):
    """``--data``: half of each batch is images G did not draw, fitted through G (pSp style);
    the encoder's guess then reconstructs such images better than the mean w does."""
    from steergan.cli.invert import segmenter_instances
    from steergan.data.scenes import render
    from steergan.edit.encoder import encode, train_encoder
    from steergan.edit.invert import initial_heatmaps
    m = load_model(files[kind])
    real = torch.stack([torch.from_numpy(render("rooms", i, 16, 3).image.transpose(2, 0, 1).copy())
                        for i in range(8)])
    controls = [initial_heatmaps(m, segmenter_instances(m, im)) for im in real] if m.method.has_heatmaps else None

    def recon_error(ws_of):
        with torch.no_grad():
            return sum(float((m.synthesize(ws_of(im), c) - (im.float() / 127.5 - 1)[None]).square().mean())
                       for im, c in zip(real, controls or [None] * len(real)))
    torch.manual_seed(0)
    enc, meta = train_encoder(m, minutes=5, steps=80, batch=8, lr=3e-3, real=real, real_controls=controls, log=None)
    assert meta["trained"]["real_images"] == 8 and meta["trained"]["real_mse"] > 0
    mean_w = m.G.mapping.w_avg[None, None].expand(1, m.G.num_ws, -1)
    # (samples alone bring it to about 0.8x the mean's error on these; the real half to about 0.3x)
    assert recon_error(lambda im: encode(enc, im)) < 0.5 * recon_error(lambda im: mean_w)
    # the CLI reads a folder for it; a heatmap model without controls is refused in the API
    folder = tmp_path / "real"
    folder.mkdir()
    for i, im in enumerate(real):
        Image.fromarray(im.permute(1, 2, 0).numpy()).save(folder / f"{i}.png")
    code, out, err = invoke(["train-encoder", files[kind], "--out", str(tmp_path / "e.safetensors"),
                             "--minutes", "0.02", "--batch", "4", "--data", str(folder), "--json"], capsys)
    assert code == 0 and json.loads(out)["real_images"] == 8, err
    if m.method.has_heatmaps:
        with pytest.raises(UserError, match="one control each"):
            train_encoder(m, steps=1, batch=4, real=real, log=None)


def test_encoder_training_continues_from_a_file_and_weighs_the_latent_loss(files, tmp_path, capsys):
    """``--init-from`` goes on from an encoder's weights (0 steps of learning rate 0 give it back
    unchanged, a wrong model is refused); ``--latent-weight`` scales the own samples' W+
    regression (0: only pictures count); bad values are one error line, exit 2, no file."""
    from steergan.edit.encoder import load_encoder, save_encoder, train_encoder
    m = load_model(files["baseline"])
    enc, meta = train_encoder(m, steps=20, batch=4, log=None)
    path = save_encoder(enc, meta, tmp_path / "a.safetensors")
    same, meta2 = train_encoder(m, steps=1, batch=4, lr=1e-12, init=load_encoder(path, m), log=None)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    assert meta2["trained"]["continued"] and torch.allclose(same(x), enc(x), atol=1e-6)
    fresh, _ = train_encoder(m, steps=1, batch=4, lr=1e-12, log=None)
    assert not torch.allclose(fresh(x), enc(x), atol=1e-3)
    # the loss the encoder sees: 0 drops the latent term, so it equals the image term alone
    _, zero = train_encoder(m, steps=1, batch=4, latent_weight=0.0, log=None)
    _, one = train_encoder(m, steps=1, batch=4, latent_weight=1.0, log=None)
    assert zero["trained"]["latent_mse"] == one["trained"]["latent_mse"]     # same seed, same first batch
    assert one["trained"]["loss"] - zero["trained"]["loss"] == pytest.approx(one["trained"]["latent_mse"], abs=2e-4)
    code, _, err = invoke(["train-encoder", files["baseline"], "--out", str(tmp_path / "b.safetensors"),
                           "--steps", "2", "--batch", "4", "--init-from", str(path), "--latent-weight", "0.1",
                           "--json"], capsys)
    assert code == 0 and load_encoder(tmp_path / "b.safetensors", m) is not None, err
    for bad in (["--latent-weight", "-1"], ["--init-from", str(tmp_path / "missing.safetensors")]):
        code, out, err = invoke(["train-encoder", files["baseline"], "--out", str(tmp_path / "c.safetensors"),
                                 "--steps", "1", *bad], capsys)
        assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "c.safetensors").exists()
    from steergan.edit.encoder import Encoder
    with pytest.raises(UserError, match="another model"):
        train_encoder(m, steps=1, batch=4, init=Encoder(m.resolution, m.G.num_ws + 1, m.G.cfg.w_dim), log=None)


def test_domain_term_pulls_far_guesses_back_and_leaves_near_ones(files, tmp_path, capsys):
    """``--domain-weight``: a guess farther from the mean w than a typical sample costs, one within
    costs nothing; training with it on real images brings the guesses closer to the mean w than the
    same training without it; a negative weight is one error line, exit 2, no file."""
    from steergan.data.scenes import render
    from steergan.edit.encoder import domain_penalty, encode, sample_radius, train_encoder
    m = load_model(files["baseline"])
    w_avg = m.G.mapping.w_avg
    r = sample_radius(m, torch.Generator().manual_seed(0))
    with torch.no_grad():
        typical = (m.G.mapping(torch.randn(2000, m.G.cfg.z_dim)) - w_avg).norm(dim=-1)
    assert 0.3 < float((typical < r).float().mean()) < 0.7          # the median distance of the samples
    unit = torch.nn.functional.normalize(torch.randn(1, 3, w_avg.shape[0]), dim=-1)
    near, far = w_avg + 0.9 * r * unit, (w_avg + 2 * r * unit).requires_grad_(True)
    assert float(domain_penalty(near, w_avg, r)) == 0
    penalty = domain_penalty(far, w_avg, r)
    assert float(penalty.detach()) == pytest.approx(1.0)                      # (2r - r) / r, squared
    penalty.backward()
    assert float((far.grad * unit).sum()) > 0                        # descent moves it toward w_avg
    real = torch.stack([torch.from_numpy(render("rooms", i, 16, 3).image.transpose(2, 0, 1).copy()) for i in range(8)])

    def spread(enc):
        return float(torch.stack([(encode(enc, im) - w_avg).norm(dim=-1).mean() for im in real]).mean())
    kw = dict(steps=60, batch=8, lr=3e-3, real=real, log=None, seed=1)
    free, _ = train_encoder(m, **kw)
    held, meta = train_encoder(m, domain_weight=100.0, **kw)
    assert meta["trained"]["domain_weight"] == 100.0 and "domain" in meta["trained"]
    assert spread(held) < 0.9 * spread(free)
    code, out, err = invoke(["train-encoder", files["baseline"], "--out", str(tmp_path / "d.safetensors"),
                             "--steps", "1", "--domain-weight", "-1"], capsys)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "d.safetensors").exists()


def test_encoder_style_head_predicts_the_objects_codes(files, tmp_path, capsys):
    """Models with per-object style codes get an encoder with a style head: after training it is
    closer to the samples' object codes than the mean w is, ``encode_start`` gives the heatmaps
    those codes (a removed object keeps its own), hierarchical models get no head, and an encoder
    file from before style heads goes on training into one that has a head."""
    from steergan.edit.encoder import Encoder, encode_start, load_encoder, save_encoder, train_encoder
    m = load_model(files["spatial"])
    torch.manual_seed(0)
    enc, meta = train_encoder(m, steps=80, batch=8, lr=3e-3, log=None)
    assert meta["style_head"] and enc.style_head is not None
    errs, base = [], []
    w_avg = m.G.mapping.w_avg
    for seed in range(100, 108):
        hm = m.control_from_seed(seed)
        img = to_uint8(m.synthesize(m.ws_from_seed(seed), hm))[0]
        _, start = encode_start(enc, img, hm)
        assert torch.equal(start.centres, hm.centres) and not torch.equal(start.styles, hm.styles)
        errs.append(float((start.styles - hm.styles).square().mean()))
        base.append(float((w_avg - hm.styles).square().mean()))
    assert sum(errs) < 0.9 * sum(base), (sum(errs), sum(base))
    removed = m.control_from_seed(3).remove(0)
    _, start = encode_start(enc, _target(m, 3), removed)
    assert torch.equal(start.styles[:, 0], removed.styles[:, 0])
    assert not torch.equal(start.styles[:, 1], removed.styles[:, 1])
    again = load_encoder(save_encoder(enc, meta, tmp_path / "s.safetensors"), m)
    assert torch.equal(encode_start(again, _target(m, 3), removed)[1].styles, start.styles)
    # no codes to predict: no head, and the control comes back as it was
    hier = load_model(files["hier"])
    enc_h, meta_h = train_encoder(hier, steps=2, batch=4, log=None)
    assert not meta_h["style_head"] and enc_h.style_head is None
    with pytest.raises(UserError, match="one style code per object"):
        train_encoder(hier, steps=1, batch=4, style_head=True, log=None)
    # asked for none (the ablation's control): W+ only, and it cannot continue a file that has a head
    code, out, err = invoke(["train-encoder", files["spatial"], "--out", str(tmp_path / "n.safetensors"),
                             "--steps", "1", "--batch", "4", "--no-style-head", "--json"], capsys)
    assert code == 0 and load_encoder(tmp_path / "n.safetensors", m).style_head is None, err
    with pytest.raises(UserError, match="has a style head"):
        train_encoder(m, steps=1, batch=4, style_head=False, init=enc, log=None)
    hm = hier.control_from_seed(1)
    assert encode_start(enc_h, _target(hier, 1), hm)[1] is hm
    # an encoder written before style heads: loads without one, continues into one
    old = Encoder(m.resolution, m.G.num_ws, m.G.cfg.w_dim)
    old.w_avg.copy_(w_avg)
    path = save_encoder(old, {"model": "old", "resolution": m.resolution, "num_ws": m.G.num_ws,
                              "w_dim": m.G.cfg.w_dim, "width": 32}, tmp_path / "old.safetensors")
    assert load_encoder(path, m).style_head is None
    grown, _ = train_encoder(m, steps=1, batch=4, lr=1e-12, init=load_encoder(path, m), log=None)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    assert grown.style_head is not None and torch.allclose(grown(x), old(x), atol=1e-6)


def test_refiner_corrects_the_encoders_guess_and_reloads_exactly(files, tmp_path, capsys):
    """``--refine``: an untrained refiner leaves the guess as it is (its head starts at zero); a
    trained one, given the image and the current reconstruction, reconstructs real images better
    than the frozen encoder it refines, whose own weights stay untouched; the file reloads to the
    same guesses; without the generator the refined guess is refused; and the CLI refuses
    ``--refine`` with no encoder to refine, and training the encoder itself under a refiner."""
    from steergan.data.scenes import render
    from steergan.edit.encoder import encode, load_encoder, new_refiner, save_encoder, train_encoder
    from steergan.edit.encoder_refine import train_refiner
    from steergan.edit.invert import psnr as psnr_of
    m = load_model(files["hier"])
    real = torch.stack([torch.from_numpy(render("rooms", i, 16, 3).image.transpose(2, 0, 1).copy()) for i in range(8)])
    controls = [initial_heatmaps(m, torch.zeros(16, 16)) for _ in real]
    enc, meta = train_encoder(m, steps=30, batch=8, lr=3e-3, real=real, real_controls=controls, log=None)
    path = save_encoder(enc, meta, tmp_path / "e.safetensors")
    base = {k: v.clone() for k, v in enc.state_dict().items()}

    def score(e):
        return float(np.mean([psnr_of(m.synthesize(encode(e, im, m.G, c), c), im.float()[None] / 127.5 - 1)
                              for im, c in zip(real, controls)]))
    before = score(enc)
    enc.refiner, enc.refine_passes = new_refiner(enc), 2
    assert score(enc) == pytest.approx(before, abs=1e-4)              # zero correction at the start
    enc.refiner = None
    refined, rmeta = train_refiner(m, load_encoder(path, m), passes=2, steps=60, batch=8, lr=3e-3, real=real,
                                   real_controls=controls, log=None)
    assert rmeta["passes"] == 2 and rmeta["steps"] == 60
    assert all(torch.equal(v, refined.state_dict()[k]) for k, v in base.items())   # the encoder is frozen
    assert score(refined) > before + 2          # 11.6 -> 15.5 dB when written
    again = load_encoder(save_encoder(refined, {**meta, "refiner": rmeta}, tmp_path / "r.safetensors"), m)
    assert again.refine_passes == 2
    assert torch.equal(encode(again, real[0], m.G, controls[0]), encode(refined, real[0], m.G, controls[0]))
    with pytest.raises(ValueError, match="generator"):
        encode(again, real[0])
    with pytest.raises(UserError, match="refiner"):
        train_encoder(m, steps=1, batch=4, init=again, log=None)
    # the CLI: refine the file's encoder; --refine without one is one error line and no file
    code, out, err = invoke(["train-encoder", files["hier"], "--out", str(tmp_path / "c.safetensors"), "--steps", "2",
                             "--batch", "4", "--init-from", str(path), "--refine", "1", "--json"], capsys)
    assert code == 0 and json.loads(out)["trained"] == "refiner", err
    assert load_encoder(tmp_path / "c.safetensors", m).refine_passes == 1
    code, out, err = invoke(["train-encoder", files["hier"], "--out", str(tmp_path / "c2.safetensors"), "--steps", "1",
                             "--batch", "4", "--init-from", str(tmp_path / "c.safetensors"), "--refine", "1", "--json"],
                            capsys)                                   # trained on: the record before is kept
    record = json.loads(out)
    assert code == 0 and record["continued"] and record["before"]["steps"] == 2, err
    code, out, err = invoke(["train-encoder", files["hier"], "--out", str(tmp_path / "d.safetensors"),
                             "--steps", "1", "--refine", "2"], capsys)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "d.safetensors").exists()


def test_polisher_improves_on_the_refined_guess_with_encoder_and_refiner_frozen(files, tmp_path, capsys):
    """``--polish``: a second refiner on top of the first starts at zero correction (the refined
    guess comes back as it was), trains with the encoder and the refiner frozen, reconstructs the
    real images better than the refined guess, and reloads to the same guesses; the CLI writes it
    under its own metadata key and refuses a polisher with no refiner under it (one error line,
    no file)."""
    from steergan.data.scenes import render
    from steergan.edit.encoder import encode, load_encoder, load_encoder_meta, new_refiner, save_encoder, train_encoder
    from steergan.edit.encoder_refine import train_refiner
    from steergan.edit.invert import psnr as psnr_of
    m = load_model(files["hier"])
    real = torch.stack([torch.from_numpy(render("rooms", i, 16, 3).image.transpose(2, 0, 1).copy()) for i in range(8)])
    controls = [initial_heatmaps(m, torch.zeros(16, 16)) for _ in real]
    enc, meta = train_encoder(m, steps=30, batch=8, lr=3e-3, real=real, real_controls=controls, log=None)
    plain = save_encoder(enc, meta, tmp_path / "e.safetensors")
    enc, rmeta = train_refiner(m, enc, passes=1, steps=20, batch=8, lr=3e-3, real=real, real_controls=controls,
                               log=None)
    path = save_encoder(enc, {**meta, "refiner": rmeta}, tmp_path / "r.safetensors")
    frozen = {k: v.clone() for k, v in enc.state_dict().items()}

    def score(e):
        return float(np.mean([psnr_of(m.synthesize(encode(e, im, m.G, c), c), im.float()[None] / 127.5 - 1)
                              for im, c in zip(real, controls)]))
    before = score(enc)
    enc.polisher, enc.polish_passes = new_refiner(enc, 16), 1
    assert score(enc) == pytest.approx(before, abs=1e-4)              # zero correction at the start
    enc.polisher = None
    polished, pmeta = train_refiner(m, enc, passes=1, steps=60, batch=8, lr=3e-3, real=real, real_controls=controls,
                                    width=16, polish=True, log=None)
    assert pmeta["width"] == 16 and polished.refine_passes == 1 and polished.polish_passes == 1
    assert all(torch.equal(v, polished.state_dict()[k]) for k, v in frozen.items())   # encoder and refiner frozen
    assert score(polished) > before + 0.5
    again = load_encoder(save_encoder(polished, {**meta, "refiner": rmeta, "polisher": pmeta},
                                      tmp_path / "p.safetensors"), m)
    assert again.polisher is not None and again.polisher.width == 16
    assert torch.equal(encode(again, real[0], m.G, controls[0]), encode(polished, real[0], m.G, controls[0]))
    with pytest.raises(UserError, match="refiner"):
        train_refiner(m, load_encoder(plain, m), steps=1, batch=4, polish=True, log=None)
    code, out, err = invoke(["train-encoder", files["hier"], "--out", str(tmp_path / "c.safetensors"), "--steps", "2",
                             "--batch", "4", "--init-from", str(path), "--polish", "1", "--refiner-width", "16",
                             "--json"], capsys)
    assert code == 0 and json.loads(out)["trained"] == "polisher", err
    assert load_encoder_meta(tmp_path / "c.safetensors")["polisher"]["width"] == 16
    assert load_encoder_meta(tmp_path / "c.safetensors")["refiner"] == load_encoder_meta(path)["refiner"]
    for args in (["--init-from", str(plain), "--polish", "1"], ["--init-from", str(path), "--polish", "1",
                                                                "--refiner-width", "12"]):
        code, out, err = invoke(["train-encoder", files["hier"], "--out", str(tmp_path / "d.safetensors"),
                                 "--steps", "1", "--batch", "4", *args], capsys)
        assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "d.safetensors").exists()
