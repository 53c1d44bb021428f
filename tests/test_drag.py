"""Point dragging: tracking, motion supervision, radii, stop rule, Eq. 6 coarse step, state, CLI."""
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from steergan.cli.drag import parse_points
from steergan.edit.coarse import CentreOffsets, coarse_move, to_normalised, to_pixels
from steergan.edit.drag import DragOptions, DragSession, clamp_radii, initial_state
from steergan.edit.motion import disc_pixels, mask_loss, motion_loss, sample_at
from steergan.edit.tracking import reference_features, track_points
from steergan.errors import UserError
from steergan.methods.spatial import EditState, Heatmaps
from steergan.methods.state import render_state
from steergan.models import load_model, to_uint8
from steergan.nn import get_preset
from cli_runner import invoke
from tiny_models import generator_file as _generator_file

ARCH = get_preset("test")                 # 16 px
INDOOR = {"sampling": "multi", "sel": "indoor", "align": "indoor"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return {"spatial": str(_generator_file(d / "spatial.safetensors", "spatial", INDOOR)),
            "baseline": str(_generator_file(d / "baseline.safetensors", "stylegan2"))}


@pytest.fixture(scope="module")
def spatial(files):
    return load_model(files["spatial"])


@pytest.fixture(scope="module")
def baseline(files):
    return load_model(files["baseline"])


# ---------------------------------------------------------------------- tracking

def test_tracking_recovers_a_known_shift_on_synthetic_features():
    g = torch.Generator().manual_seed(0)
    F0 = torch.randn(1, 16, 32, 32, generator=g)
    handles = [[10.0, 12.0], [20.0, 7.0], [1.0, 30.0]]
    ref = reference_features(F0, handles)
    for dx, dy in [(2, -1), (0, 3), (-3, -3)]:
        F1 = torch.roll(F0, shifts=(dy, dx), dims=(2, 3))
        moved = track_points(F1, ref, handles[:2], half=3)
        assert moved == [[10.0 + dx, 12.0 + dy], [20.0 + dx, 7.0 + dy]]
    # a move larger than the window is not found; the box spanning a predicted place finds it
    F1 = torch.roll(F0, shifts=(0, 6), dims=(2, 3))
    assert track_points(F1, ref[:1], handles[:1], half=2) != [[16.0, 12.0]]
    assert track_points(F1, ref[:1], handles[:1], half=2, reach=[[16.0, 12.0]]) == [[16.0, 12.0]]
    # windows are clipped at the border
    assert track_points(F0, ref[2:], handles[2:], half=4) == [[1.0, 30.0]]


def test_bilinear_sampling_is_exact_between_pixels():
    F = torch.arange(2 * 5 * 5, dtype=torch.float32).reshape(1, 2, 5, 5)    # value = 25 c + 5 y + x
    out = sample_at(F, torch.tensor([[1.25, 2.5], [4.0, 0.0]], dtype=torch.float64))
    assert torch.allclose(out, torch.tensor([[13.75, 38.75], [4.0, 29.0]]))


# ---------------------------------------------------------------------- motion supervision

def _blob_features(c: torch.Tensor, R: int = 32) -> torch.Tensor:
    """A toy generator: a Gaussian blob at ``c`` (pixels), 3 channels of different widths."""
    ys, xs = torch.meshgrid(torch.arange(R, dtype=torch.float32), torch.arange(R, dtype=torch.float32),
                            indexing="ij")
    d2 = (xs - c[0]) ** 2 + (ys - c[1]) ** 2
    return torch.stack([torch.exp(-d2 / (2 * s * s)) for s in (2.0, 3.0, 5.0)])[None]


def test_motion_loss_gradient_moves_content_toward_the_target():
    c = torch.tensor([12.0, 16.0], requires_grad=True)
    target = [20.0, 16.0]
    loss = motion_loss(_blob_features(c), [[12.0, 16.0]], [target], r1=3.0)
    (g,) = torch.autograd.grad(loss, [c])
    assert g[0] < 0 and abs(float(g[1])) < 1e-3 * abs(float(g[0]))   # descent moves the blob along +x only
    # the whole DragGAN loop on the toy generator: Adam, re-tracking, the blob arrives
    opt = torch.optim.Adam([c], lr=0.3)
    F0 = _blob_features(c).detach()
    ref, handles = reference_features(F0, [[12.0, 16.0]]), [[12.0, 16.0]]
    for _ in range(60):
        F = _blob_features(c)
        loss = motion_loss(F, handles, [target], r1=3.0)
        if loss is None:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        handles = track_points(_blob_features(c.detach()), ref, handles, half=3)
    assert math.dist(handles[0], target) <= 1 and abs(float(c[0].detach()) - 20) < 1.5 and abs(float(c[1].detach()) - 16) < 1


def test_motion_loss_skips_arrived_handles_and_mask_term_only_sees_fixed_pixels():
    F = _blob_features(torch.tensor([8.0, 8.0]))
    assert motion_loss(F, [[8.0, 8.0]], [[8.5, 8.0]], r1=3.0) is None
    movable = torch.zeros(32, 32, dtype=torch.bool)
    movable[:16] = True
    inside = F.clone()
    inside[..., :16, :] += 1
    outside = F.clone()
    outside[..., 20:, :] += 1
    assert float(mask_loss(inside, F, movable)) == 0 and float(mask_loss(outside, F, movable)) > 0


# ---------------------------------------------------------------------- radii, options

def test_radius_clamps_keep_small_images_working(baseline):
    assert clamp_radii(0.2, 0.4) == (1.0, 2) and clamp_radii(3.0, 6.4) == (3.0, 6)
    for p in ([5.0, 5.0], [5.5, 5.5], [0.0, 15.0], [7.3, 2.9]):
        assert len(disc_pixels(p, 1.0, 16)) >= 1               # DragGAN's round(3/512*R) would be 0
    assert len(disc_pixels([8.0, 8.0], 3.0, 16)) == 25                 # |q - p| < 3, strict
    opts = DragOptions(mode="drag", r1=0.1, r2=0.1).resolved(baseline)
    assert (opts.r1, opts.r2, opts.feature_res) == (1.0, 2, 8)  # 8 px block: closest to half of 16
    s = DragSession(baseline, initial_state(baseline, 1), [[8, 8]], [[12, 8]],
                    options=DragOptions(mode="drag", r1=0.1, r2=0.1, max_steps=1, lr=0.05))
    before = s.state().ws_tensor()
    s.step()
    assert not torch.equal(before, s.state().ws_tensor())      # the tiny disc still pulls


@pytest.mark.parametrize("bad", [dict(mode="fly"), dict(max_steps=0), dict(lr=-1.0), dict(r1=float("nan")),
                                 dict(feature_res=5), dict(track_res=12), dict(n_ws=True), dict(coarse_alpha=-1)])
def test_bad_options_are_user_errors(baseline, bad):
    with pytest.raises(UserError):
        DragOptions(**{"mode": "drag", **bad}).resolved(baseline)


def test_tracking_can_read_another_block_than_motion_supervision(spatial):
    """``track_res``: the tracker's reference comes from that block; left out, it is the motion
    block and the drag is what it was."""
    st = initial_state(spatial, 2)
    opts = dict(mode="hybrid", max_steps=4, tolerance=0.1)
    same = DragSession(spatial, st, [[5, 5]], [[9, 6]], options=DragOptions(**opts))
    explicit = DragSession(spatial, st, [[5, 5]], [[9, 6]], options=DragOptions(**opts, track_res=8))
    other = DragSession(spatial, st, [[5, 5]], [[9, 6]], options=DragOptions(**opts, track_res=16))
    assert same.options.track_res == same.options.feature_res == 8
    C = spatial.G.cfg.channels
    assert same._track_reference.shape[-1] == C(8) and other._track_reference.shape[-1] == C(16)
    assert other._reference.shape[-1] == C(8)              # the lost check keeps the motion block's
    a, b, c = same.run(), explicit.run(), other.run()
    assert a["handles"] == b["handles"] and torch.equal(same.state().ws_tensor(), explicit.state().ws_tensor())
    assert c["handles"] != a["handles"]


# ---------------------------------------------------------------------- stop rule

def test_stop_rule_tolerance_step_cap_and_heatmap_mode(spatial):
    st = initial_state(spatial, 2)
    arrived = DragSession(spatial, st, [[5, 5]], [[5.6, 5.6]], options=DragOptions(mode="drag"))
    assert arrived.done and arrived.run()["steps"] == 0                    # within 1 px: nothing to do
    capped = DragSession(spatial, st, [[3, 3]], [[13, 12]], options=DragOptions(mode="joint", max_steps=3))
    infos = []
    summary = capped.run(infos.append)
    assert [i["step"] for i in infos] == [1, 2, 3] and infos[-1]["done"] and summary["steps"] == 3
    assert capped.step()["step"] == 3                                      # a no-op once done
    assert all(set(i) == {"step", "done", "handles", "distance"} for i in infos)
    assert infos[-1]["distance"] == pytest.approx(math.dist(infos[-1]["handles"][0], [13, 12]) / 16)
    stopped = DragSession(spatial, st, [[3, 3]], [[13, 12]], options=DragOptions(mode="drag", max_steps=50))
    assert stopped.run(lambda info: info["step"] < 2)["steps"] == 2        # the caller can stop it
    heat = DragSession(spatial, st, [[3, 3]], [[13, 12]], options=DragOptions(mode="heatmap"))
    assert not heat.done
    heat.step()
    assert heat.done and heat.summary()["optimisation_steps"] == 0


def test_a_stalled_drag_stops_after_patience_steps(spatial, monkeypatch):
    import steergan.edit.drag as drag_mod
    monkeypatch.setattr(drag_mod, "track_points", lambda F, ref, handles, half, reach=None, subpixel=1: handles)
    st = initial_state(spatial, 2)
    s = DragSession(spatial, st, [[3, 3]], [[13, 12]], options=DragOptions(mode="drag", patience=5))
    summary = s.run()
    assert summary["steps"] == 6 and summary["stalled"] and not summary["reached"]   # best at step 1, 5 more
    s = DragSession(spatial, st, [[3, 3]], [[13, 12]], options=DragOptions(mode="drag", patience=0, max_steps=9))
    assert s.run()["steps"] == 9 and not s.stalled                                    # 0: only the cap
    with pytest.raises(UserError):
        DragOptions(mode="drag", patience=-1).resolved(spatial)


def test_joint_mode_alternates_latent_and_centre_steps(spatial):
    s = DragSession(spatial, initial_state(spatial, 4), [[4, 4]], [[12, 10]],
                    options=DragOptions(mode="joint", tolerance=0.1, max_steps=2))
    s0 = s.state()
    s.step()
    s1 = s.state()
    s.step()
    s2 = s.state()
    assert s1.ws != s0.ws and s1.heatmaps.same_as(s0.heatmaps)              # latent first
    assert s2.ws == s1.ws and not s2.heatmaps.same_as(s1.heatmaps)          # then the centres


# ---------------------------------------------------------------------- Eq. 6 coarse step

def test_repeated_coarse_steps_start_from_the_tracked_handle(spatial, monkeypatch):
    """A generator whose objects follow their heatmap half the way (faked in the tracker): each
    repeat moves the centre by alpha (t - tracked handle); repeats stop when one gains < 20%."""
    import steergan.edit.drag as drag_mod
    target = [11.0, 8.0]
    half_way = lambda F, ref, handles, half, reach=None, subpixel=1: [       # noqa: E731
        [p[0] + 0.5 * (target[0] - p[0]), p[1] + 0.5 * (target[1] - p[1])] for p in handles]
    monkeypatch.setattr(drag_mod, "track_points", half_way)
    st = initial_state(spatial, 2)
    c0 = to_pixels(st.heatmaps.centres[0], 16)
    i = int(((c0 - torch.tensor([3.0, 8.0])).norm(dim=1)).argmin())
    handle = c0[i].tolist()
    # the faked tracker puts the handle on unrelated features: the lost stop is off here
    s = DragSession(spatial, st, [handle], [target],
                    options=DragOptions(mode="heatmap", coarse_steps=3, coarse_radius=0.5, lost_error=0.0))
    infos = []
    s.run(infos.append)
    d0 = math.dist(handle, target)
    assert [round(x["distance"] * 16, 4) for x in infos] == [round(d0 / 2, 4), round(d0 / 4, 4), round(d0 / 8, 4)]
    shift = to_pixels(s.state().heatmaps.centres[0], 16)[i] - c0[i]
    want = (torch.tensor(target) - torch.tensor(handle)) * (1 + 0.5 + 0.25)
    assert torch.allclose(shift, want, atol=1e-3) and s.summary()["moved_centres"] == [i]
    # no gain (the object ignores its heatmap): one coarse step, then stop
    monkeypatch.setattr(drag_mod, "track_points", lambda F, ref, handles, half, reach=None, subpixel=1: handles)
    s = DragSession(spatial, initial_state(spatial, 2), [handle], [target],
                    options=DragOptions(mode="heatmap", coarse_steps=3, coarse_radius=0.5, lost_error=0.0))
    assert s.run()["steps"] == 1
    with pytest.raises(UserError):
        DragOptions(mode="hybrid", coarse_steps=0).resolved(spatial)


def _multi(centres_px, R=16):
    c = to_normalised(torch.tensor([centres_px], dtype=torch.float32), R)
    return Heatmaps(c, torch.full((1, len(centres_px)), 0.3), (0,) * len(centres_px), (-1,) * len(centres_px))


def test_coarse_step_moves_exactly_the_centres_within_r():
    hm = _multi([[4, 4], [6, 5], [12, 12], [4, 12]])
    new, moved = coarse_move(hm, [[5, 4]], [[9, 6]], 16, radius=2.0, alpha=0.5)
    assert moved == {0: 0, 1: 0}                                            # |c - p| = 1 and 1.41 <= 2
    shift = to_pixels(new.centres[0], 16) - to_pixels(hm.centres[0], 16)
    assert torch.allclose(shift[:2], torch.tensor([[2.0, 1.0]] * 2), atol=1e-5)   # alpha (t - p)
    assert torch.equal(new.centres[0, 2:], hm.centres[0, 2:])
    # two handles: each centre follows the nearest handle within r; removed centres stay
    new, moved = coarse_move(hm.remove(2), [[5, 4], [12, 11]], [[5, 8], [2, 11]], 16, radius=3.0, alpha=1.0)
    assert moved == {0: 0, 1: 0} and torch.equal(new.centres[0, 2], hm.centres[0, 2])


def test_coarse_step_moves_a_subtree_once():
    levels, parents = (0, 1, 1), (-1, 0, 0)
    c = to_normalised(torch.tensor([[[8, 8], [9, 8], [2, 2]]], dtype=torch.float32), 16)
    hm = Heatmaps(c, torch.full((1, 3), 0.3), levels, parents, kind="hierarchical")
    new, moved = coarse_move(hm, [[8, 8]], [[12, 8]], 16, radius=1.5, alpha=1.0)
    shift = to_pixels(new.centres[0], 16) - to_pixels(hm.centres[0], 16)
    assert set(moved) == {0, 1}                                             # the root and a close child
    assert torch.allclose(shift, torch.tensor([[4.0, 0.0]] * 3), atol=1e-5)  # all once, the far child too
    off = CentreOffsets(hm)
    with torch.no_grad():
        off.offsets[0, 0] = torch.tensor([0.1, 0.0])                         # moving the root ...
    assert torch.allclose(off.heatmaps().centres - hm.centres, torch.tensor([0.1, 0.0]).expand(1, 3, 2))


# ---------------------------------------------------------------------- state, errors

@pytest.mark.parametrize("which,mode", [("spatial", "hybrid"), ("baseline", "drag"), ("spatial", "drag")])
def test_state_after_a_drag_reloads_to_the_same_image(request, which, mode):
    m = request.getfixturevalue(which)
    s = DragSession(m, initial_state(m, 3, truncation=0.8), [[4, 5], [11, 11]], [[8, 7], [13, 7]],
                    options=DragOptions(mode=mode, max_steps=3, coarse_radius=16.0))
    s.run()
    back = EditState.from_json(s.state().to_json())
    assert back.seed is None and (back.heatmaps is None) == (which == "baseline")
    assert torch.equal(to_uint8(render_state(m, back))[0], s.image())
    assert not torch.equal(s.image(), to_uint8(render_state(m, initial_state(m, 3, truncation=0.8)))[0])
    # a further drag starts from the saved state
    again = DragSession(m, back, s.handles, [[9, 9], [12, 12]], options=DragOptions(mode=mode, max_steps=1))
    assert torch.equal(again.image(), s.image())


def test_impossible_input_is_a_user_error(spatial, baseline):
    st = initial_state(spatial, 1)
    cases = [
        (baseline, initial_state(baseline, 1), [[2, 2]], [[5, 5]], None, "joint", "has none"),
        (spatial, st, [[2, 2]], [[16, 5]], None, "drag", "outside"),
        (spatial, st, [[-1, 2]], [[5, 5]], None, "drag", "outside"),
        (spatial, st, [[2, 2], [3, 3]], [[5, 5]], None, "drag", "as many targets"),
        (spatial, st, [[2, 2]], [[5, 5]], torch.ones(8, 8, dtype=torch.bool), "drag", "must be 16x16"),
        (spatial, st, [[2, 2]], [[5, 5]], torch.zeros(16, 16, dtype=torch.bool), "drag", "no pixel"),
        (spatial, EditState("x", ws=[[0.0] * 3] * 2), [[2, 2]], [[5, 5]], None, "drag", r"W\+ is 2x3"),
    ]
    for m, state, h, t, mask, mode, msg in cases:
        with pytest.raises(UserError, match=msg):
            DragSession(m, state, h, t, mask, DragOptions(mode=mode))


def test_mask_keeps_the_fixed_region_closer_to_the_start(baseline):
    st = initial_state(baseline, 5)
    movable = torch.zeros(16, 16, dtype=torch.bool)
    movable[:, :8] = True
    opts = DragOptions(mode="drag", max_steps=8, lr=0.05, tolerance=0.1)
    free = DragSession(baseline, st, [[3, 8]], [[7, 8]], options=opts)
    held = DragSession(baseline, st, [[3, 8]], [[7, 8]], ~movable | movable, opts)  # everything movable
    masked = DragSession(baseline, st, [[3, 8]], [[7, 8]], movable, DragOptions(**{**opts.to_dict(),
                                                                                    "lambda_mask": 100.0}))
    start = free.image().float()
    for s in (free, held, masked):
        s.run()
    change = lambda s: (s.image().float() - start)[:, :, 10:].abs().mean()  # noqa: E731 (right part fixed)
    assert torch.equal(free.image(), held.image())                      # all-movable mask = no mask
    assert change(masked) < change(free)


# ---------------------------------------------------------------------- CLI

_run = invoke


def test_parse_points():
    assert parse_points("1,2>3,4; 5.5,6>7,8;") == ([[1, 2], [5.5, 6]], [[3, 4], [7, 8]])
    for bad in ("1,2-3,4", "1,2>3", "a,b>c,d", "1,2>3,4>5,6", ";", "nan,1>2,3"):
        with pytest.raises(UserError):
            parse_points(bad)


def test_cli_drag_writes_images_state_and_gif(files, spatial, tmp_path, capsys):
    out = tmp_path / "d"
    code, stdout, err = _run(["drag", files["spatial"], "--seed", "2", "--points", "4,4>9,6", "--max-steps", "4",
                              "--out", str(out), "--gif", "--json"], capsys)
    assert code == 0, err
    res = json.loads(stdout)
    assert res["mode"] == "hybrid" and 1 <= res["steps"] <= 4 and 0 <= res["distance"] < 1
    assert res["seconds"] > 0 and len(res["handles"]) == 1
    gif = Image.open(out / "drag.gif")
    assert gif.n_frames == res["steps"] + 1
    state = EditState.from_json((out / "state.json").read_text())
    img = to_uint8(render_state(spatial, state))[0].permute(1, 2, 0).numpy()
    final = np.asarray(Image.open(out / "final.png").convert("RGB"))
    assert final.shape == (64, 64, 3) and np.array_equal(final[::4, ::4], img)
    code, stdout, err = _run(["drag", "--state", str(out / "state.json"), "--points", "9,6>9,9", "--mode", "drag",
                              "--max-steps", "1", "--out", str(tmp_path / "d2"), "--json"], capsys)
    assert code == 0 and json.loads(stdout)["steps"] == 1, err


@pytest.mark.parametrize("extra,fragment", [
    (["--points", "4,4>20,4"], "outside the 16x16 image"),
    (["--points", "4,4->5,5"], "cannot read --points"),
    (["--points", "4,4>5,5", "--mask", "MASK8"], "the model's images are 16x16"),
    (["--points", "4,4>5,5", "--mask", "nope.png"], "does not exist"),
    (["--points", "4,4>5,5", "--mode", "joint", "BASELINE"], "has none"),
    (["--points", "4,4>5,5", "--state", "s.json"], "not both"),
])
def test_cli_errors_are_one_line(files, tmp_path, capsys, extra, fragment):
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(tmp_path / "m8.png")
    args = ["drag", "--seed", "1", "--out", str(tmp_path / "o")]
    extra = [str(tmp_path / "m8.png") if a == "MASK8" else a for a in extra]
    args.insert(1, files["baseline"] if "BASELINE" in extra else files["spatial"])
    args += [a for a in extra if a != "BASELINE"]
    code, _, err = _run(args, capsys)
    lines = [line for line in err.strip().splitlines() if line]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err


def test_bundled_smoke_and_edit_refuses_a_state_without_heatmaps(tmp_path, capsys):
    m = load_model("rooms-stylegan2")
    state = initial_state(m, 3)
    assert state.model == "bundled:rooms-stylegan2" and load_model(state.model).source == m.source
    s = DragSession(m, state, [[20, 30]], [[28, 30]], options=DragOptions(mode="drag", max_steps=2, max_jump=0.0))
    assert s.run()["steps"] == 2 and s.image().shape == (3, 64, 64)
    (tmp_path / "s.json").write_text(s.state().to_json())
    code, _, err = _run(["edit", "--state", str(tmp_path / "s.json"), "--out", str(tmp_path / "e")], capsys)
    assert code == 2 and err.strip().startswith("error: ") and "no heatmaps" in err


def test_a_tracker_fooled_by_a_look_alike_is_flagged_lost(baseline, monkeypatch):
    """Issue 16: two identical patches. The handle's content goes away, tracking jumps to the other
    patch 5 px off (its feature error is zero, so the error check alone cannot see it); the jump is
    longer than a latent step moves content, so the drag stops as lost instead of 'reached'."""
    F0 = torch.zeros(1, 4, 16, 16)
    F0[0, :, 8, 5] = F0[0, :, 8, 10] = torch.tensor([1.0, 2.0, 3.0, 4.0])     # two identical patches
    ref = reference_features(F0, [[5.0, 8.0]])
    F1 = F0.clone()
    F1[0, :, 8, 5] = 0                                                       # the handle's content vanished
    assert track_points(F1, ref, [[5.0, 8.0]], half=6) == [[10.0, 8.0]]      # fooled: a 5 px jump, zero error
    # in a session: a tracker that jumps (as above) is flagged lost, with the reason
    import steergan.edit.drag as drag_mod
    real = drag_mod.track_points
    monkeypatch.setattr(drag_mod, "track_points",
                        lambda F, r, handles, half, reach=None, subpixel=1: [[h[0] + 5.0, h[1]] for h in real(F, r, handles, half, reach)])
    s = DragSession(baseline, initial_state(baseline, 3), [[4, 8]], [[12, 8]],
                    options=DragOptions(mode="drag", max_steps=20, lost_error=0.0))
    summary = s.run()
    assert summary["lost"] and summary["lost_reason"] == "jump" and not summary["reached"] and summary["steps"] == 1
    off = DragSession(baseline, initial_state(baseline, 3), [[4, 8]], [[12, 8]],
                      options=DragOptions(mode="drag", max_steps=3, lost_error=0.0, max_jump=0.0))
    assert not off.run()["lost"]
    with pytest.raises(UserError, match="max_jump"):
        DragOptions(mode="drag", max_jump=-1.0).resolved(baseline)


def test_subpixel_tracking_finds_a_fractional_shift_and_keeps_exact_matches():
    """Smooth features shifted by (1.5, -0.75) px: whole-pixel tracking is off by up to half a
    pixel per axis, 1/4-pixel tracking finds the shift; an exact whole-pixel match stays put."""
    ax = torch.arange(32, dtype=torch.float64)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")

    def field(cx, cy):     # smooth, distinct channels: a bump and two ramps
        bump = torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 18.0)
        return torch.stack([bump, bump * (xx - cx) / 4, bump * (yy - cy) / 4])[None].float()
    ref = reference_features(field(15.0, 16.0), [[15.0, 16.0]])
    moved = field(16.5, 15.25)
    whole = track_points(moved, ref, [[15.0, 16.0]], half=3)[0]
    fine = track_points(moved, ref, [[15.0, 16.0]], half=3, subpixel=4)[0]
    assert math.dist(whole, [16.5, 15.25]) >= 0.35
    assert math.dist(fine, [16.5, 15.25]) <= 0.1
    assert track_points(field(15.0, 16.0), ref, [[15.0, 16.0]], half=3, subpixel=4) == [[15.0, 16.0]]
    with pytest.raises(UserError, match="subpixel"):
        DragOptions(mode="drag", subpixel=0).resolved(spatial_model_stub())


def spatial_model_stub():
    from types import SimpleNamespace
    return SimpleNamespace(G=SimpleNamespace(synthesis=SimpleNamespace(resolutions=[8, 16]), num_ws=4), resolution=16)
