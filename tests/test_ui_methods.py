"""The editor's LinkGAN and SemanticStyleGAN panels over HTTP (TestClient, tiny 16-px models):
link / class ops, region / mask / depth / build-up views, undo, state export and import, errors."""
import base64
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from steergan.edit.semantic_views import class_colour, depth_grey  # noqa: E402
from steergan.methods.link import BoxRegion, apply_link_op  # noqa: E402
from steergan.methods.semantic import edits  # noqa: E402
from steergan.methods.state import EditState, render_state  # noqa: E402
from steergan.models import to_uint8  # noqa: E402
from steergan.ui import create_app  # noqa: E402
from steergan.ui.catalog import ModelCatalog  # noqa: E402
from steergan.ui.panels import panels_for  # noqa: E402
from ui_models import LINK_BOXES, SEMANTIC_CLASSES, tiny_model_file  # noqa: E402
from cli_runner import invoke  # noqa: E402

KINDS = ("link", "link-class", "semantic", "base")


class RedIsClassOne(nn.Module):
    """A stand-in segmenter: class 1 where the red channel is positive; counts its calls."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, images):
        self.calls += 1
        return (images[:, 0] > 0).long()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("ui-method-models")
    return {k: str(tiny_model_file(d, k)) for k in KINDS}


@pytest.fixture(scope="module")
def catalog(files):
    cat = ModelCatalog([files[k] for k in KINDS])
    cat.get("tiny-link-class").method.set_segmenter(RedIsClassOne())
    return cat


@pytest.fixture(scope="module")
def client(catalog):
    return TestClient(create_app(catalog=catalog, drag_factory=None))


def new(client, model, seed=3):
    r = client.post("/api/sessions", json={"model": model, "seed": seed})
    assert r.status_code == 201, r.text
    return r.json()


def ops(client, sid, *op_list, status=200):
    r = client.post(f"/api/sessions/{sid}/ops", json={"ops": list(op_list)})
    assert r.status_code == status, r.text
    return r.json()


def decode(data, mode="RGB") -> np.ndarray:
    """PNG bytes or data URL -> array [H, W(, C)] in ``mode``."""
    if isinstance(data, str):
        data = base64.b64decode(data.split(",", 1)[1])
    return np.array(Image.open(io.BytesIO(data)).convert(mode))


def png_tensor(data) -> torch.Tensor:
    return torch.from_numpy(decode(data)).permute(2, 0, 1)


def library_image(model, state) -> torch.Tensor:
    return to_uint8(render_state(model, state))[0]


def alpha(data_url) -> np.ndarray:
    return decode(data_url, "RGBA")[..., 3]


def error_of(r, status, fragment=""):
    assert r.status_code == status, r.text
    msg = r.json()["error"]
    assert fragment in msg, msg
    return msg


def state_ws(client, sid) -> torch.Tensor:
    return EditState.from_dict(client.get(f"/api/sessions/{sid}/state").json()).ws_tensor()


run_cli = invoke


# ---------------------------------------------------------------------- panels

def test_panels_follow_method_capabilities():
    assert panels_for(["latent", "link_resample"]) == ["latent", "drag", "link"]
    assert panels_for(["latent", "class_texture"], unavailable=["drag"]) == ["latent", "semantic"]
    assert panels_for(["class_shape"]) == ["semantic"]
    assert panels_for(["latent", "class_depth"], unavailable=["drag"]) == ["latent"]   # depth alone: no edits


def test_models_carry_their_links_and_classes(client):
    by_id = {m["id"]: m for m in client.get("/api/models").json()["models"]}
    link = by_id["tiny-link"]
    assert link["panels"] == ["latent", "link"] and link["method"] == "link"
    assert link["links"] == [{"index": 0, "axes": [0, 4], "region": LINK_BOXES[0]["region"], "kind": "box"},
                             {"index": 1, "axes": [8, 12], "region": LINK_BOXES[1]["region"], "kind": "box"}]
    assert by_id["tiny-link-class"]["links"][0]["kind"] == "class"
    assert by_id["tiny-link-class"]["links"][0]["region"] == {"class": [1], "dilate": 0}
    sem = by_id["tiny-semantic"]
    assert sem["panels"] == ["latent", "semantic"]
    assert [c["name"] for c in sem["classes"]] == SEMANTIC_CLASSES
    assert [c["colour"] for c in sem["classes"]] == ["#%02x%02x%02x" % class_colour(k) for k in range(3)]
    assert len({c["colour"] for c in sem["classes"]}) == 3
    assert "links" not in by_id["tiny-base"] and "classes" not in by_id["tiny-base"] and "links" not in sem
    assert new(client, "tiny-link")["model"]["links"] == link["links"]          # the session view has them too


def test_panel_scripts_are_served_and_load_nothing_external(client):
    page = client.get("/").text
    for panel in ("link", "semantic"):
        assert f'data-panel="{panel}"' in page
        s = client.get(f"/static/{panel}.js")
        assert s.status_code == 200 and "export function" in s.text
        assert "http://" not in s.text and "https://" not in s.text


# ---------------------------------------------------------------------- LinkGAN

def test_resample_link_is_the_library_edit_and_one_undo_step(client, catalog):
    v = new(client, "tiny-link", seed=3)
    sid, m = v["id"], catalog.get("tiny-link")
    op = {"op": "resample_link", "link": 1, "seed": 9}
    r = ops(client, sid, op)
    expected = apply_link_op(EditState(m.source, seed=3).validate(), op, m)
    assert torch.equal(png_tensor(r["image"]), library_image(m, expected))
    assert not torch.equal(png_tensor(r["image"]), png_tensor(v["image"]))
    assert r["state"]["explicit_latent"] and r["state"]["seed"] is None and r["can_undo"]
    # only link 1's channels (8..11) changed, to the donor seed's values
    ws, start, donor = state_ws(client, sid), m.ws_from_seed(3), m.ws_from_seed(9)
    changed = (ws != start).any(1).any(0)
    assert changed.nonzero().flatten().tolist() == [8, 9, 10, 11]
    assert torch.equal(ws[..., 8:12], donor.expand_as(ws)[..., 8:12])

    u = client.post(f"/api/sessions/{sid}/undo").json()
    assert u["state"]["seed"] == 3 and torch.equal(png_tensor(u["image"]), png_tensor(v["image"]))
    redo = client.post(f"/api/sessions/{sid}/redo").json()
    assert torch.equal(png_tensor(redo["image"]), png_tensor(r["image"]))
    two = ops(client, sid, {"op": "resample_link", "link": 0, "seed": 4})                  # edits compose
    assert (state_ws(client, sid) != start).any(1).any(0).nonzero().flatten().tolist() == [0, 1, 2, 3, 8, 9, 10, 11]
    assert two["version"] == redo["version"] + 1


def test_link_states_export_import_and_come_from_the_cli(client, catalog, files, tmp_path, capsys):
    sid = new(client, "tiny-link", seed=2)["id"]
    edited = ops(client, sid, {"op": "resample_link", "link": 0, "seed": 77})
    exported = client.get(f"/api/sessions/{sid}/state").json()
    state = EditState.from_dict(exported)
    assert state.model == files["link"] and state.ws is not None
    assert torch.equal(library_image(catalog.get("tiny-link"), state), png_tensor(edited["image"]))
    client.post(f"/api/sessions/{sid}/seed", json={"seed": 5})
    back = client.put(f"/api/sessions/{sid}/state", json=exported).json()
    assert torch.equal(png_tensor(back["image"]), png_tensor(edited["image"]))
    # a state written by `steergan resample` opens in the editor
    out = tmp_path / "resample"
    code, _, err = run_cli(["resample", files["link"], "--seed", "2", "--link", "1", "--n", "2", "--out", str(out)],
                           capsys)
    assert code == 0, err
    cli_state = json.loads((out / "state_01.json").read_text())
    r = client.put(f"/api/sessions/{sid}/state", json=cli_state)
    assert r.status_code == 200, r.text
    assert r.json()["model"]["id"] == "tiny-link"
    assert np.array_equal(decode(r.json()["image"]), np.array(Image.open(out / "sample_01.png").convert("RGB")))


def test_box_regions_are_the_link_boxes(client):
    sid = new(client, "tiny-link")["id"]
    r = client.get(f"/api/sessions/{sid}/link/regions")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 0 and len(body["regions"]) == 2
    for url, link in zip(body["regions"], LINK_BOXES):
        expected = BoxRegion(tuple(link["region"]["box"])).mask(16)[0, 0].numpy() * 255
        assert np.array_equal(alpha(url), expected.astype(np.uint8))
    assert alpha(body["regions"][0])[:, :8].min() == 255 and alpha(body["regions"][0])[:, 8:].max() == 0
    assert alpha(body["regions"][1])[8:, 8:].min() == 255 and alpha(body["regions"][1]).sum() == 64 * 255


def test_class_regions_follow_the_image_once_per_version(client, catalog):
    m = catalog.get("tiny-link-class")
    seg = m.method.segmenter(m.device)
    sid = new(client, "tiny-link-class", seed=1)["id"]

    def expected(state_dict):
        x = render_state(m, EditState.from_dict(state_dict))
        return (x[0, 0] > 0).numpy().astype(np.uint8) * 255

    calls = seg.calls
    first = client.get(f"/api/sessions/{sid}/link/regions").json()
    assert seg.calls == calls + 1
    assert np.array_equal(alpha(first["regions"][0]), expected(client.get(f"/api/sessions/{sid}/state").json()))
    client.get(f"/api/sessions/{sid}/link/regions")
    assert seg.calls == calls + 1                                  # cached for this state version
    ops(client, sid, {"op": "resample_link", "link": 0, "seed": 12})
    second = client.get(f"/api/sessions/{sid}/link/regions").json()
    assert second["version"] == 1 and seg.calls == calls + 2
    assert np.array_equal(alpha(second["regions"][0]), expected(client.get(f"/api/sessions/{sid}/state").json()))
    assert not np.array_equal(alpha(first["regions"][0]), alpha(second["regions"][0]))


@pytest.mark.parametrize("op,fragment", [
    ({"op": "resample_link", "link": 2, "seed": 1}, "does not exist"),
    ({"op": "resample_link", "link": "0", "seed": 1}, "does not exist"),
    ({"op": "resample_link", "link": True, "seed": 1}, "does not exist"),
    ({"op": "resample_link", "seed": 1}, "does not exist"),
    ({"op": "resample_link", "link": 0}, "seed"),
    ({"op": "resample_link", "link": 0, "seed": -1}, "2^32"),
    ({"op": "resample_link", "link": 0, "seed": 2 ** 32}, "2^32"),
    ({"op": "resample_link", "link": 0, "seed": True}, "2^32"),
    ({"op": "resample_link", "link": 0, "seed": "5"}, "2^32"),
    ({"op": "resample_link", "link": 0, "seed": 1.5}, "2^32"),
    ({"op": "set_code", "class": 1, "part": "shape", "seed": 1}, "class_shape"),
    ({"op": "move", "index": 0, "delta": [0, 0]}, "heatmap_move"),
])
def test_bad_link_ops_are_400_and_change_nothing(client, op, fragment):
    sid = new(client, "tiny-link")["id"]
    error_of(client.post(f"/api/sessions/{sid}/ops", json={"ops": [op]}), 400, fragment)
    assert client.get(f"/api/sessions/{sid}").json()["version"] == 0


# ---------------------------------------------------------------------- SemanticStyleGAN

def test_set_code_is_the_library_edit_and_one_undo_step(client, catalog):
    v = new(client, "tiny-semantic", seed=2)
    sid, m = v["id"], catalog.get("tiny-semantic")
    op_list = [{"op": "set_code", "class": "bed", "part": "texture", "seed": 5},
               {"op": "set_code", "class": 1, "part": "shape", "seed": 6}]
    r = ops(client, sid, *op_list)
    expected = edits.apply_ops(m.ws_from_seed(2), op_list, m)
    assert torch.equal(state_ws(client, sid), expected)
    assert torch.equal(png_tensor(r["image"]), library_image(m, EditState(m.source, ws=expected[0].tolist())))
    assert not torch.equal(png_tensor(r["image"]), png_tensor(v["image"]))
    layout = m.G.layout
    changed = (state_ws(client, sid) != m.ws_from_seed(2)).any(-1)[0].nonzero().flatten().tolist()
    assert changed == sorted([layout.slot(2, "texture"), layout.slot(1, "shape")])
    u = client.post(f"/api/sessions/{sid}/undo").json()                     # two ops, one request: one step
    assert u["state"]["seed"] == 2 and not u["can_undo"] and u["can_redo"]
    assert torch.equal(png_tensor(u["image"]), png_tensor(v["image"]))


def test_layers_are_the_label_map_and_the_pseudo_depths(client, catalog):
    sid = new(client, "tiny-semantic", seed=2)["id"]
    m = catalog.get("tiny-semantic")
    r = client.get(f"/api/sessions/{sid}/semantic/layers")
    assert r.status_code == 200, r.text
    before = r.json()
    out = edits.render(m, m.ws_from_seed(2))
    labels = edits.labels(out)[0].numpy()
    masks = np.stack([alpha(u) for u in before["masks"]])
    assert masks.shape == (3, 16, 16)
    for k in range(3):
        assert np.array_equal(masks[k], (labels == k).astype(np.uint8) * 255)
    assert (masks.astype(int).sum(0) == 255).all()                    # every pixel belongs to one class
    assert before["area"] == pytest.approx([float((labels == k).mean()) for k in range(3)])
    assert sum(before["area"]) == pytest.approx(1.0)
    depths = [decode(u, "L") for u in before["depths"]]
    S = m.G.synthesis.coarse_size
    for k in range(3):
        assert depths[k].shape == (S, S)
        assert np.array_equal(depths[k], np.asarray(depth_grey(out.depths[0, k])))
    assert (depths[0] == 127).all()                                   # the background's depth is constant

    # a texture code cannot move any depth; a shape code moves its own class's depth only
    ops(client, sid, {"op": "set_code", "class": 2, "part": "texture", "seed": 40})
    tex = client.get(f"/api/sessions/{sid}/semantic/layers").json()
    assert tex["version"] == 1 and tex["depths"] == before["depths"]
    ops(client, sid, {"op": "set_code", "class": 2, "part": "shape", "seed": 41})
    shp = client.get(f"/api/sessions/{sid}/semantic/layers").json()
    assert shp["depths"][:2] == before["depths"][:2] and shp["depths"][2] != before["depths"][2]


def test_build_up_adds_classes_and_ends_with_the_image(client):
    v = new(client, "tiny-semantic", seed=4)
    sid = v["id"]
    b = client.get(f"/api/sessions/{sid}/semantic/build_up").json()
    assert b["version"] == 0 and b["order"] == [0, 1, 2] and len(b["images"]) == 3
    assert torch.equal(png_tensor(b["images"][-1]), png_tensor(v["image"]))        # every class = the image
    assert not torch.equal(png_tensor(b["images"][0]), png_tensor(v["image"]))     # background alone differs
    r = ops(client, sid, {"op": "set_code", "class": 1, "part": "texture", "seed": 8})
    b = client.get(f"/api/sessions/{sid}/semantic/build_up").json()
    assert b["version"] == 1 and torch.equal(png_tensor(b["images"][-1]), png_tensor(r["image"]))


@pytest.mark.parametrize("op,fragment", [
    ({"op": "set_code", "class": "sofa", "part": "shape", "seed": 1}, "unknown class 'sofa'"),
    ({"op": "set_code", "class": 3, "part": "shape", "seed": 1}, "unknown class"),
    ({"op": "set_code", "class": True, "part": "shape", "seed": 1}, "unknown class"),
    ({"op": "set_code", "class": None, "part": "shape", "seed": 1}, "unknown class"),
    ({"op": "set_code", "class": [1], "part": "shape", "seed": 1}, "unknown class"),
    ({"op": "set_code", "class": 1, "part": "colour", "seed": 1}, "part must be one of shape, texture"),
    ({"op": "set_code", "class": 1, "seed": 1}, "part must be"),
    ({"op": "set_code", "class": 1, "part": ["shape"], "seed": 1}, "part must be"),
    ({"op": "set_code", "class": 1, "part": "shape"}, "takes a 'seed'"),
    ({"op": "set_code", "class": 1, "part": "shape", "w": [0.0] * 16}, "takes a 'seed'"),
    ({"op": "set_code", "class": 1, "part": "shape", "seed": 2 ** 32}, "2^32"),
    ({"op": "set_code", "class": 1, "part": "shape", "seed": -3}, "2^32"),
    ({"op": "set_code", "class": 1, "part": "shape", "seed": "3"}, "2^32"),
    ({"op": "resample_link", "link": 0, "seed": 1}, "link_resample"),
    ({"op": "set_style", "index": 0, "seed": 1}, "heatmap_style"),
])
def test_bad_class_ops_are_400_and_change_nothing(client, op, fragment):
    sid = new(client, "tiny-semantic")["id"]
    error_of(client.post(f"/api/sessions/{sid}/ops", json={"ops": [op]}), 400, fragment)
    assert client.get(f"/api/sessions/{sid}").json()["version"] == 0


def test_a_failing_op_leaves_the_earlier_ops_of_its_request_unapplied(client):
    v = new(client, "tiny-semantic")
    good = {"op": "set_code", "class": 1, "part": "shape", "seed": 1}
    error_of(client.post(f"/api/sessions/{v['id']}/ops",
                         json={"ops": [good, {**good, "class": "sofa"}]}), 400, "unknown class")
    after = client.get(f"/api/sessions/{v['id']}").json()
    assert after["version"] == 0 and after["state"]["seed"] == 3 and not after["can_undo"]


def test_compose_and_the_editor_read_each_others_states(client, catalog, files, tmp_path, capsys):
    out = tmp_path / "compose"
    code, _, err = run_cli(["compose", files["semantic"], "--seed", "3", "--swap-texture", "bed", "--from-seed", "9",
                            "--out", str(out)], capsys)
    assert code == 0, err
    sid = new(client, "tiny-semantic")["id"]
    r = client.put(f"/api/sessions/{sid}/state", json=json.loads((out / "state.json").read_text()))
    assert r.status_code == 200, r.text
    edited_png = np.array(Image.open(out / "edited.png").convert("RGB"))[::4, ::4]      # compose writes 4x
    assert np.array_equal(decode(r.json()["image"]), edited_png)
    # and an editor state goes into `steergan compose --state`
    ops(client, sid, {"op": "set_code", "class": "floor", "part": "shape", "seed": 21})
    exported = client.get(f"/api/sessions/{sid}/state")
    (tmp_path / "state.json").write_text(exported.text)
    code, _, err = run_cli(["compose", files["semantic"], "--state", str(tmp_path / "state.json"),
                            "--out", str(tmp_path / "again")], capsys)
    assert code == 0, err
    original = np.array(Image.open(tmp_path / "again" / "original.png").convert("RGB"))[::4, ::4]
    assert np.array_equal(original, decode(client.get(f"/api/sessions/{sid}/image.png").content))


# ---------------------------------------------------------------------- views: errors

@pytest.mark.parametrize("model,route,fragment", [
    ("tiny-semantic", "/link/regions", "no view 'link_regions'"), ("tiny-base", "/link/regions", "views: none"),
    ("tiny-link", "/semantic/layers", "no view 'semantic_layers'"), ("tiny-base", "/views/build_up", "no view"),
    ("tiny-link", "/semantic/build_up", "its views: link_regions")])
def test_views_of_a_panel_the_model_lacks_are_400(client, model, route, fragment):
    sid = new(client, model)["id"]
    error_of(client.get(f"/api/sessions/{sid}{route}"), 400, fragment)


@pytest.mark.parametrize("route", ["/link/regions", "/semantic/layers", "/semantic/build_up"])
def test_views_of_an_unknown_session_are_404(client, route):
    error_of(client.get(f"/api/sessions/nope{route}"), 404, "no such session")


WEIRD_OPS = [{"op": "set_code"}, {"op": "set_code", "class": {"a": 1}, "part": "shape", "seed": 1},
             {"op": "set_code", "class": 1.5, "part": "texture", "seed": 2 ** 70},
             {"op": "set_code", "class": "wall", "part": "texture", "seed": 1e308},
             {"op": "set_code", "class": "wall", "part": None, "seed": None}, {"op": "resample_link"},
             {"op": "resample_link", "link": 1e308, "seed": 1}, {"op": "resample_link", "link": [0], "seed": 1},
             {"op": "resample_link", "link": 0, "seed": 2 ** 70}, {"op": "resample_link", "link": -1, "seed": 0}]


def test_nothing_a_client_sends_to_the_method_panels_is_a_server_error(client):
    for model in ("tiny-link", "tiny-semantic"):
        sid = new(client, model)["id"]
        for op in WEIRD_OPS:
            r = client.post(f"/api/sessions/{sid}/ops", json={"ops": [op]})
            assert r.status_code in (200, 400), (model, op, r.text)
        for raw in ('{"ops": [{"op": "set_code", "class": 1, "part": "shape", "seed": NaN}]}',
                    '{"ops": [{"op": "resample_link", "link": 0, "seed": Infinity}]}'):
            r = client.post(f"/api/sessions/{sid}/ops", content=raw, headers={"content-type": "application/json"})
            assert r.status_code == 400, r.text
        for route in ("/link/regions", "/semantic/layers", "/semantic/build_up"):
            assert client.get(f"/api/sessions/{sid}{route}").status_code in (200, 400)


def test_views_are_declared_by_the_methods_and_served_by_one_route(client):
    """Issue 15: a method names its views (Method.views); the editor serves each through one
    generic route and refuses a view the session's model does not declare."""
    from steergan.methods.base import Method
    from steergan.ui.method_views import VIEWS
    for cls in Method.__subclasses__():
        assert set(cls.views) <= set(VIEWS), (cls.name, cls.views)
    sid = new(client, "tiny-link")["id"]
    generic = client.get(f"/api/sessions/{sid}/views/link_regions")
    assert generic.status_code == 200 and generic.json() == client.get(f"/api/sessions/{sid}/link/regions").json()
    r = client.get(f"/api/sessions/{sid}/views/semantic_layers")
    assert r.status_code == 400 and "no view 'semantic_layers'" in r.json()["error"] and "link_regions" in r.json()["error"]
    assert client.get(f"/api/sessions/{sid}/views/nope").status_code == 400
