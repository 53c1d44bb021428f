"""The editor's HTTP API (FastAPI TestClient, tiny 16-px models): every endpoint and error path."""
import base64
import io
import json
import socket
import tempfile
import time
from pathlib import Path
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from steergan.cli.main import main  # noqa: E402
from steergan.cli.ui import is_loopback  # noqa: E402
from steergan.errors import UserError  # noqa: E402
from steergan.methods.state import EditState, render_state  # noqa: E402
from steergan.methods.spatial.edits import apply_ops, state_from_seed  # noqa: E402
from steergan.models import load_model, to_uint8  # noqa: E402
from steergan.ui import create_app  # noqa: E402
from steergan.ui.catalog import ModelCatalog  # noqa: E402
from steergan.ui.panels import panels_for  # noqa: E402
from ui_models import tiny_model_file  # noqa: E402


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("ui-models")
    return {k: str(tiny_model_file(d, k)) for k in ("multi", "hier", "base")}


@pytest.fixture(scope="module")
def catalog(files):
    return ModelCatalog([files["multi"], files["hier"], files["base"]])


@pytest.fixture(scope="module")
def client(catalog):
    return TestClient(create_app(catalog=catalog))


def new(client, model="tiny-multi", seed=3):
    r = client.post("/api/sessions", json={"model": model, "seed": seed})
    assert r.status_code == 201, r.text
    return r.json()


def png_tensor(data) -> torch.Tensor:
    """uint8 [3, R, R] from PNG bytes or a data URL."""
    if isinstance(data, str):
        data = base64.b64decode(data.split(",", 1)[1])
    return torch.from_numpy(np.array(Image.open(io.BytesIO(data)).convert("RGB"))).permute(2, 0, 1)


def library_image(model, state) -> torch.Tensor:
    return to_uint8(render_state(model, state))[0]


def error_of(r, status, fragment=""):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    msg = r.json()["error"]
    assert isinstance(msg, str) and fragment in msg, msg
    return msg


# ---------------------------------------------------------------------- page, models, hardening

def test_models_come_with_capabilities_and_panels(client):
    d = client.get("/api/models").json()
    by_id = {m["id"]: m for m in d["models"]}
    assert d["default"] == "tiny-multi" and d["drag"] is True
    assert set(by_id) == {"tiny-multi", "tiny-hier", "tiny-base"}
    assert by_id["tiny-multi"]["panels"] == ["latent", "heatmaps", "drag"]
    assert "heatmap_remove" in by_id["tiny-multi"]["capabilities"]
    assert "heatmap_remove" not in by_id["tiny-hier"]["capabilities"]      # hierarchical: no removal
    assert by_id["tiny-base"]["panels"] == ["latent", "drag"] and by_id["tiny-base"]["resolution"] == 16


def test_panels_follow_capabilities():
    assert panels_for(["latent", "link_resample"]) == ["latent", "drag", "link"]    # more in test_ui_methods.py
    assert panels_for(["latent", "class_shape"], unavailable=["drag"]) == ["latent", "semantic"]
    assert panels_for(["latent", "heatmap_move"]) == ["latent", "heatmaps", "drag"]


def test_page_and_static_files_are_served_offline_with_a_strict_policy(client):
    r = client.get("/")
    assert r.status_code == 200 and "<canvas" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for name in ("app.js", "api.js", "canvas.js", "drag.js", "style.css"):
        s = client.get(f"/static/{name}")
        assert s.status_code == 200, name
        assert "http://" not in s.text and "https://" not in s.text, f"{name} loads something external"
    assert "http" not in r.text.replace('http-equiv', '')


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py",
                                  "/static/%2e%2e%2f%2e%2e%2fmodels.py", "/static//etc/passwd",
                                  "/static/../../../../etc/passwd", "/app.py", "/api/sessions/..%2f..%2fmodels.py"])
def test_no_path_traversal(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404, 405), (path, r.status_code)
    assert "import" not in r.text and "root:" not in r.text


def test_unknown_routes_and_methods_are_json_errors(client):
    error_of(client.get("/api/nothing"), 404)
    error_of(client.put("/api/models"), 405)
    assert client.get("/healthz").json()["ok"] is True


def test_body_size_limit(catalog):
    c = TestClient(create_app(catalog=catalog, max_body_bytes=2000))
    sid = new(c)["id"]
    error_of(c.post(f"/api/sessions/{sid}/latent", content=b"[" + b"0," * 5000 + b"0]",
                    headers={"content-type": "application/json"}), 413, "2000 bytes")

    def chunks():                      # no Content-Length: the limit counts streamed bytes
        for _ in range(10):
            yield b" " * 500
    error_of(c.post(f"/api/sessions/{sid}/latent", content=chunks(),
                    headers={"content-type": "application/json"}), 413)
    assert c.get(f"/api/sessions/{sid}").status_code == 200       # the server carries on


def test_host_header_is_checked_when_asked(catalog):
    c = TestClient(create_app(catalog=catalog, allowed_hosts=["127.0.0.1"]))
    error_of(c.get("/healthz"), 400, "testserver")                 # TestClient sends Host: testserver
    error_of(c.get("/healthz", headers={"host": "evil.example:8765"}), 400, "not served")
    assert c.get("/healthz", headers={"host": "127.0.0.1:8765"}).status_code == 200


@pytest.mark.parametrize("bound,good", [("::1", "[::1]:8765"), ("127.0.0.2", "127.0.0.2:8765"),
                                        ("localhost", "localhost:8765"), ("127.0.0.1", "127.0.0.1")])
def test_every_loopback_address_gets_the_host_check(catalog, bound, good):
    from steergan.cli.ui import allowed_hosts
    c = TestClient(create_app(catalog=catalog, allowed_hosts=allowed_hosts(bound)))
    error_of(c.get("/healthz", headers={"host": "evil.example:8765"}), 400, "not served")
    assert c.get("/healthz", headers={"host": good}).status_code == 200
    assert allowed_hosts("0.0.0.0") is None and allowed_hosts("192.168.1.5") is None


def test_catalog_only_offers_given_models(files):
    with pytest.raises(UserError, match="does not exist"):
        ModelCatalog(["/no/such/model.safetensors"])
    cat = ModelCatalog([files["base"]], eager=False)
    with pytest.raises(UserError, match="unknown model"):
        cat.get("rooms")
    assert cat.id_for_state(files["base"]) == "tiny-base"
    with pytest.raises(UserError, match="does not offer"):
        cat.id_for_state("/etc/passwd")


# ---------------------------------------------------------------------- sessions and rendering

def test_new_session_renders_the_library_image(client, catalog):
    v = new(client, seed=5)
    m = catalog.get("tiny-multi")
    state = state_from_seed(m, 5)
    assert v["state"]["seed"] == 5 and len(v["state"]["centres"]) == 3
    assert torch.equal(png_tensor(v["image"]), library_image(m, state))
    assert v["version"] == 0 and not v["can_undo"] and not v["can_redo"]
    assert client.post("/api/sessions").json()["model"]["id"] == "tiny-multi"     # default model


@pytest.mark.parametrize("body,status", [
    ({"model": "rooms-nope"}, 400), ({"seed": -1}, 422), ({"seed": 2 ** 32}, 422), ({"seed": 1.5}, 422),
    ({"seed": "3"}, 422), ({"truncation": 5}, 422), ({"colour": 1}, 422), ([1, 2], 422)])
def test_new_session_bad_input(client, body, status):
    error_of(client.post("/api/sessions", json=body), status)


@pytest.mark.parametrize("method,route", [
    ("GET", ""), ("DELETE", ""), ("POST", "/seed"), ("POST", "/latent"), ("POST", "/ops"), ("POST", "/undo"),
    ("POST", "/redo"), ("GET", "/image.png"), ("GET", "/state"), ("PUT", "/state"), ("POST", "/drag"),
    ("GET", "/drag"), ("POST", "/drag/stop"), ("POST", "/close")])
def test_unknown_session_is_404_everywhere(client, method, route):
    body = {"seed": 1} if route == "/seed" else {"ops": [{"op": "remove", "index": 0}]} if route == "/ops" else \
        {"handles": [[1, 1]], "targets": [[2, 2]]} if route == "/drag" else {"seed": 1} if route == "/latent" else None
    if route == "/state" and method == "PUT":
        body = {"model": "tiny-multi", "seed": 1}
    r = client.request(method, f"/api/sessions/not-a-session{route}", json=body)
    error_of(r, 404, "no such session")


def test_sessions_are_isolated_and_deletable(client):
    a, b = new(client), new(client)
    assert a["id"] != b["id"]
    client.post(f"/api/sessions/{a['id']}/ops", json={"ops": [{"op": "remove", "index": 0}]})
    assert client.get(f"/api/sessions/{b['id']}").json()["state"]["centres"][0]["active"] is True
    assert client.get(f"/api/sessions/{a['id']}").json()["state"]["centres"][0]["active"] is False
    assert client.delete(f"/api/sessions/{a['id']}").status_code == 204
    error_of(client.get(f"/api/sessions/{a['id']}"), 404)


def test_store_drops_the_least_recently_used_session(catalog):
    c = TestClient(create_app(catalog=catalog, max_sessions=2))
    first, second = new(c)["id"], new(c)["id"]
    c.get(f"/api/sessions/{first}")                                  # first is now the most recent
    new(c)
    assert c.get(f"/api/sessions/{first}").status_code == 200
    assert c.get(f"/api/sessions/{second}").status_code == 404


# ---------------------------------------------------------------------- heatmap edits, undo/redo

def test_ops_render_exactly_what_the_library_renders(client, catalog):
    v = new(client, seed=4)
    ops = [{"op": "move", "index": 1, "delta": [0.25, -0.1]}, {"op": "set_sigma", "index": 0, "sigma": 0.2},
           {"op": "set_style", "index": 2, "seed": 11}]
    r = client.post(f"/api/sessions/{v['id']}/ops", json={"ops": ops})
    assert r.status_code == 200, r.text
    m = catalog.get("tiny-multi")
    expected = apply_ops(state_from_seed(m, 4), ops, m)
    assert torch.equal(png_tensor(r.json()["image"]), library_image(m, expected))
    c = r.json()["state"]["centres"]
    assert c[0]["sigma"] == pytest.approx(0.2) and c[2]["styled"] and not png_tensor(v["image"]).equal(
        png_tensor(r.json()["image"]))


def test_a_gesture_is_one_undo_step_and_redo_works(client):
    v = new(client)
    sid, start = v["id"], v["state"]["centres"][0]["xy"]
    for x in (0.1, 0.2, 0.3):                                       # one mouse drag, three frames
        r = client.post(f"/api/sessions/{sid}/ops", json={
            "ops": [{"op": "set_centre", "index": 0, "xy": [x, 0.0]}], "gesture": "move-1"})
    assert r.json()["version"] == 3 and r.json()["can_undo"]
    r = client.post(f"/api/sessions/{sid}/undo").json()
    assert r["state"]["centres"][0]["xy"] == start and r["can_redo"] and not r["can_undo"]
    assert torch.equal(png_tensor(r["image"]), png_tensor(v["image"]))
    error_of(client.post(f"/api/sessions/{sid}/undo"), 400, "nothing to undo")
    r = client.post(f"/api/sessions/{sid}/redo").json()
    assert r["state"]["centres"][0]["xy"] == pytest.approx([0.3, 0.0])
    error_of(client.post(f"/api/sessions/{sid}/redo"), 400, "nothing to redo")
    client.post(f"/api/sessions/{sid}/undo")
    r = client.post(f"/api/sessions/{sid}/ops", json={"ops": [{"op": "remove", "index": 1}]}).json()
    assert not r["can_redo"]                                        # a new edit clears redo


def test_remove_then_restore_gives_back_the_image(client):
    v = new(client)
    sid = v["id"]
    removed = client.post(f"/api/sessions/{sid}/ops", json={"ops": [{"op": "remove", "index": 2}]}).json()
    assert removed["state"]["centres"][2]["active"] is False
    assert not torch.equal(png_tensor(removed["image"]), png_tensor(v["image"]))
    back = client.post(f"/api/sessions/{sid}/ops", json={"ops": [{"op": "restore", "index": 2}]}).json()
    assert torch.equal(png_tensor(back["image"]), png_tensor(v["image"]))


@pytest.mark.parametrize("ops,fragment", [
    ([{"op": "explode", "index": 0}], "unknown edit op"),
    ([{"op": "move", "index": 9, "delta": [0.1, 0]}], "out of range"),
    ([{"op": "move", "index": 0}], "delta"),
    ([{"op": "move", "index": "0", "delta": [0.1, 0]}], "integer"),
    ([{"op": "set_sigma", "index": 0, "sigma": -1}], "positive"),
    ([{"op": "set_style", "index": 0, "seed": 2 ** 40}], "2^32"),
    ([{"op": "set_style", "index": 0, "w": [1.0, 2.0]}], "style code"),
    ([], "non-empty"),
    ([{"op": "remove", "index": 0}] * 65, "at most"),
])
def test_bad_ops_are_400(client, ops, fragment):
    sid = new(client)["id"]
    error_of(client.post(f"/api/sessions/{sid}/ops", json={"ops": ops}), 400, fragment)
    assert client.get(f"/api/sessions/{sid}").json()["version"] == 0          # nothing changed


def test_non_finite_values_never_reach_the_model(client):
    sid = new(client)["id"]
    raw = '{"ops": [{"op": "set_centre", "index": 0, "xy": [NaN, 0]}]}'
    error_of(client.post(f"/api/sessions/{sid}/ops", content=raw, headers={"content-type": "application/json"}),
             400, "finite")
    raw = '{"ops": [{"op": "set_sigma", "index": 0, "sigma": Infinity}]}'
    assert client.post(f"/api/sessions/{sid}/ops", content=raw,
                       headers={"content-type": "application/json"}).status_code == 400
    error_of(client.post(f"/api/sessions/{sid}/ops", content=b"{not json", headers={"content-type": "application/json"}),
             422)
    error_of(client.post(f"/api/sessions/{sid}/ops", json={"ops": "remove"}), 422)


def test_ops_a_model_cannot_do_are_refused(client):
    hier = new(client, "tiny-hier")
    error_of(client.post(f"/api/sessions/{hier['id']}/ops", json={"ops": [{"op": "remove", "index": 0}]}),
             400, "heatmap_remove")
    # hierarchical: moving the level-0 centre takes its descendants along (library semantics)
    r = client.post(f"/api/sessions/{hier['id']}/ops", json={"ops": [{"op": "move", "index": 0, "delta": [0.1, 0]}]})
    before, after = hier["state"]["centres"], r.json()["state"]["centres"]
    assert all(a["xy"][0] == pytest.approx(b["xy"][0] + 0.1) for a, b in zip(after, before))
    base = new(client, "tiny-base")
    assert base["state"]["centres"] == [] and base["state"]["heatmap_kind"] is None
    error_of(client.post(f"/api/sessions/{base['id']}/ops", json={"ops": [{"op": "move", "index": 0, "delta": [0, 0]}]}),
             400, "heatmap_move")


WEIRD = [None, [], "x", 1e308, -0.0, {"ops": [None]}, {"ops": [[]]}, {"ops": [{"op": None}]},
         {"ops": [{"op": "move", "index": 0, "delta": [1e308, -1e308]}]},
         {"ops": [{"op": "set_sigma", "index": 0, "sigma": 1e-300}]},
         {"ops": [{"op": "set_centre", "index": -1, "xy": [0, 0]}]},
         {"ops": [{"op": "set_style", "index": 0, "w": None}]}, {"ops": [{"op": "set_style", "index": 0}]},
         {"seed": 2 ** 64}, {"ws": [[[]]]}, {"ws": []}, {"ws": [1e39] * 16}, {"model": None, "seed": None},
         {"handles": [[1e308, 0]], "targets": [[0, 0]]}, {"handles": [["a", "b"]], "targets": [[0, 0]]},
         {"handles": [[1, 1]], "targets": [[1, 1]], "options": {"max_steps": "many"}},
         {"handles": [[1, 1]], "targets": [[1, 1]], "options": {"feature_res": 3}},
         {"handles": [[1, 1]], "targets": [[1, 1]], "mask": 5},
         {"heatmaps": {"centres": [[[0, 0]]]}, "model": "tiny-multi", "seed": 1}, {"a": {"b": {"c": [1] * 100}}}]


def test_nothing_a_client_sends_is_a_server_error(client):
    sid = new(client)["id"]
    for method, route in [("POST", "/ops"), ("POST", "/seed"), ("POST", "/latent"), ("PUT", "/state"),
                          ("POST", "/drag"), ("POST", "/undo")]:
        for body in WEIRD:
            r = client.request(method, f"/api/sessions/{sid}{route}", json=body)
            assert r.status_code < 500, (route, body, r.text)
            assert "error" in r.json() or r.status_code in (200, 202)
            if r.status_code == 202:
                wait_drag(client, sid, lambda p: p["status"] != "running", timeout=30)
    assert client.get(f"/api/sessions/{sid}/image.png").status_code == 200


# ---------------------------------------------------------------------- seed and latent

def test_seed_gives_a_new_image_and_layout(client, catalog):
    sid = new(client, seed=1)["id"]
    r = client.post(f"/api/sessions/{sid}/seed", json={"seed": 8}).json()
    m = catalog.get("tiny-multi")
    assert r["state"]["seed"] == 8 and r["can_undo"]
    assert torch.equal(png_tensor(r["image"]), library_image(m, state_from_seed(m, 8)))
    error_of(client.post(f"/api/sessions/{sid}/seed", json={}), 422)
    error_of(client.post(f"/api/sessions/{sid}/seed", json={"seed": True}), 422)


def test_new_latent_keeps_the_layout(client, catalog):
    v = new(client, seed=2)
    r = client.post(f"/api/sessions/{v['id']}/latent", json={"seed": 9}).json()
    assert r["state"]["centres"] == v["state"]["centres"] and r["state"]["seed"] == 9
    assert not torch.equal(png_tensor(r["image"]), png_tensor(v["image"]))


def test_load_latent_checks_its_shape(client, catalog):
    m = catalog.get("tiny-multi")
    sid = new(client)["id"]
    ws = m.ws_from_seed(6)[0]
    r = client.post(f"/api/sessions/{sid}/latent", json={"ws": ws.tolist()})
    assert r.status_code == 200 and r.json()["state"]["explicit_latent"] is True
    one_w = client.post(f"/api/sessions/{sid}/latent", json={"ws": ws[0].tolist()})   # one w, every row
    assert one_w.status_code == 200
    error_of(client.post(f"/api/sessions/{sid}/latent", json={"ws": ws[:, :3].tolist()}), 400, "shape")
    error_of(client.post(f"/api/sessions/{sid}/latent", json={"ws": [["a"]]}), 400, "numbers")
    error_of(client.post(f"/api/sessions/{sid}/latent", json={"seed": 1, "ws": ws.tolist()}), 400, "exactly one")
    error_of(client.post(f"/api/sessions/{sid}/latent", json={}), 400, "exactly one")
    raw = json.dumps({"ws": ws.tolist()}).replace(str(ws[0, 0].item()), "NaN", 1)
    error_of(client.post(f"/api/sessions/{sid}/latent", content=raw, headers={"content-type": "application/json"}),
             400, "finite")


# ---------------------------------------------------------------------- PNG and edit state

def test_png_download_is_the_current_image(client):
    v = new(client)
    r = client.get(f"/api/sessions/{v['id']}/image.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert torch.equal(png_tensor(r.content), png_tensor(v["image"]))


def test_exported_state_reimports_and_reloads_in_the_library(client, files):
    sid = new(client, seed=7)["id"]
    client.post(f"/api/sessions/{sid}/ops", json={"ops": [{"op": "move", "index": 0, "delta": [-0.3, 0.2]},
                                                           {"op": "set_style", "index": 1, "seed": 5}]})
    png = client.get(f"/api/sessions/{sid}/image.png").content
    exported = client.get(f"/api/sessions/{sid}/state")
    assert "attachment" in exported.headers["content-disposition"]
    # the same file the CLI reads (steergan edit --state): it names the checkpoint and renders the same
    state = EditState.from_dict(exported.json())
    assert state.model == files["multi"]
    assert torch.equal(library_image(load_model(state.model), state), png_tensor(png))
    client.post(f"/api/sessions/{sid}/seed", json={"seed": 1})
    r = client.put(f"/api/sessions/{sid}/state", json=exported.json())
    assert r.status_code == 200, r.text
    assert torch.equal(png_tensor(r.json()["image"]), png_tensor(png))


def test_importing_another_models_state_switches_model_and_undo_switches_back(client, catalog):
    sid = new(client, "tiny-multi")["id"]
    hier_state = state_from_seed(catalog.get("tiny-hier"), 2, model_id="tiny-hier")
    r = client.put(f"/api/sessions/{sid}/state", json=hier_state.to_dict()).json()
    assert r["model"]["id"] == "tiny-hier" and len(r["state"]["centres"]) == 7
    assert client.post(f"/api/sessions/{sid}/undo").json()["model"]["id"] == "tiny-multi"


def _states(catalog, files):
    multi = state_from_seed(catalog.get("tiny-multi"), 0, model_id=files["multi"])
    hier = state_from_seed(catalog.get("tiny-hier"), 0)
    d = multi.to_dict()
    return [
        ("not an object", [1, 2], "JSON object"),
        ("unknown field", {**d, "extra": 1}, "unknown edit state fields"),
        ("model not offered", {**d, "model": "bundled:rooms"}, "does not offer"),
        ("path not offered", {**d, "model": "/etc/passwd"}, "does not offer"),
        ("heatmap structure", {**d, "heatmaps": hier.heatmaps.to_dict()}, "do not match"),
        ("no heatmaps", {**d, "heatmaps": None}, "need heatmaps"),
        ("heatmaps on baseline", {**d, "model": files["base"]}, "no heatmaps"),
        ("ws shape", {**d, "seed": None, "ws": [[0.0] * 16]}, "shape"),
        ("seed and ws", {**d, "ws": [[0.0] * 16]}, "exactly one"),
        ("bad seed", {**d, "seed": -4}, "2^32"),
        ("integer centres", {**d, "heatmaps": {**d["heatmaps"], "dtype": "int64"}}, "floating-point"),
        ("garbage centres", {**d, "heatmaps": {**d["heatmaps"], "centres": "x"}}, "malformed"),
        ("negative sigma", {**d, "heatmaps": {**d["heatmaps"], "sigmas": [[-0.1, 0.2, 0.3]]}}, "positive"),
        ("noise mode", {**d, "noise_mode": "loud"}, "noise mode"),
    ]


def test_bad_states_are_refused(client, catalog, files):
    sid = new(client)["id"]
    for name, body, fragment in _states(catalog, files):
        error_of(client.put(f"/api/sessions/{sid}/state", json=body), 400, fragment)
    assert client.get(f"/api/sessions/{sid}").json()["version"] == 0


# ---------------------------------------------------------------------- drag (fake session)

class FakeDrag:
    """Stands in for ``edit.drag.DragSession`` (same interface); steps every few milliseconds."""

    made = []

    def __init__(self, model, state, handles, targets, mask, options):
        if options.get("mode") == "bad":
            raise UserError("fake: bad mode")
        self.model, self.start, self.mask, self.handles = model, state, mask, handles
        self.max_steps, self.fail_at = options.get("max_steps", 1000), options.get("fail_at")
        self.steps = 0
        FakeDrag.made.append(self)

    @property
    def done(self):
        return self.steps >= self.max_steps

    def step(self):
        time.sleep(0.005)
        self.steps += 1
        if self.steps == self.fail_at:
            raise RuntimeError("boom")
        return {"step": self.steps, "done": self.done, "handles": [[h[0] + 0.1 * self.steps, h[1]]
                                                                   for h in self.handles], "distance": 0.5}

    def image(self):
        return torch.full((3, self.model.resolution, self.model.resolution), self.steps % 256, dtype=torch.uint8)

    def state(self):
        ws = self.model.ws_from_seed(100 + self.steps)[0].tolist()
        return replace(self.start, seed=None, ws=ws)


@pytest.fixture()
def fake_client(catalog):
    FakeDrag.made.clear()
    app = create_app(catalog=catalog, drag_factory=FakeDrag, max_drags=2)
    with TestClient(app) as c:
        yield c


def wait_drag(c, sid, until, timeout=10.0, route="drag"):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        p = c.get(f"/api/sessions/{sid}/{route}").json()
        if until(p):
            return p
        time.sleep(0.01)
    raise AssertionError(f"{route} never reached the expected state: {p}")


DRAG = {"handles": [[3, 8]], "targets": [[10, 8]]}


def test_drag_runs_in_a_worker_and_stops_on_request(fake_client):
    c = fake_client
    sid = new(c)["id"]
    r = c.post(f"/api/sessions/{sid}/drag", json=DRAG)
    assert r.status_code == 202 and r.json()["status"] == "running"
    p = wait_drag(c, sid, lambda p: p["step"] >= 3)
    assert p["status"] == "running" and p["handles"][0][0] > 3
    assert "image" not in c.get(f"/api/sessions/{sid}/drag", params={"since": 10 ** 6}).json()   # nothing newer
    error_of(c.post(f"/api/sessions/{sid}/ops", json={"ops": [{"op": "remove", "index": 0}]}), 409, "drag")
    error_of(c.post(f"/api/sessions/{sid}/undo"), 409)
    error_of(c.post(f"/api/sessions/{sid}/drag", json=DRAG), 409)
    c.post(f"/api/sessions/{sid}/drag/stop")
    p = wait_drag(c, sid, lambda p: p["status"] != "running")
    assert p["status"] == "stopped" and p["step"] < 1000 and p["image"].startswith("data:image/png")
    assert p["outcome"] == "stopped"
    time.sleep(0.05)
    assert c.get(f"/api/sessions/{sid}/drag").json()["step"] == p["step"]          # really stopped
    v = c.get(f"/api/sessions/{sid}").json()                                         # committed, one undo step
    assert v["state"]["explicit_latent"] and v["can_undo"]
    fake = FakeDrag.made[-1]
    assert c.get(f"/api/sessions/{sid}/state").json()["ws"] == fake.model.ws_from_seed(100 + fake.steps)[0].tolist()
    assert c.post(f"/api/sessions/{sid}/undo").json()["state"]["seed"] == 3


def test_server_shutdown_stops_running_drags(catalog):
    app = create_app(catalog=catalog, drag_factory=FakeDrag)
    with TestClient(app) as c:
        sid = new(c)["id"]
        c.post(f"/api/sessions/{sid}/drag", json=DRAG)
        job = app.state.store.get(sid).drag
        wait_drag(c, sid, lambda p: p["step"] >= 1)
    assert not job._thread.is_alive() and job.status == "stopped" and job.step < 1000


def test_drag_finishes_by_itself_and_reports_done(fake_client):
    sid = new(fake_client)["id"]
    fake_client.post(f"/api/sessions/{sid}/drag", json={**DRAG, "options": {"max_steps": 4}})
    p = wait_drag(fake_client, sid, lambda p: p["status"] != "running")
    assert p["status"] == "done" and p["step"] == 4 and p["max_steps"] == 4
    assert png_tensor(p["image"]).eq(4).all()                                   # the last step's image
    assert fake_client.get(f"/api/sessions/{sid}").json()["drag"]["status"] == "done"


def test_a_failing_drag_is_reported_and_the_server_carries_on(fake_client):
    sid = new(fake_client)["id"]
    fake_client.post(f"/api/sessions/{sid}/drag", json={**DRAG, "options": {"fail_at": 2}})
    p = wait_drag(fake_client, sid, lambda p: p["status"] != "running")
    assert p["status"] == "error" and "boom" in p["error"]
    r = fake_client.post(f"/api/sessions/{sid}/ops", json={"ops": [{"op": "remove", "index": 0}]})
    assert r.status_code == 200 and r.json()["state"]["seed"] == 3            # nothing committed


def test_drag_limits_and_bad_requests(fake_client):
    c = fake_client
    a, b, third = new(c)["id"], new(c)["id"], new(c)["id"]
    c.post(f"/api/sessions/{a}/drag", json=DRAG)
    c.post(f"/api/sessions/{b}/drag", json=DRAG)
    error_of(c.post(f"/api/sessions/{third}/drag", json=DRAG), 429, "drags are running")
    for sid in (a, b):
        c.post(f"/api/sessions/{sid}/drag/stop")
        wait_drag(c, sid, lambda p: p["status"] != "running")
    error_of(c.post(f"/api/sessions/{third}/drag", json={**DRAG, "options": {"mode": "bad"}}), 400, "bad mode")
    error_of(c.post(f"/api/sessions/{third}/drag", json={"handles": [], "targets": []}), 422)
    error_of(c.post(f"/api/sessions/{third}/drag", json={"handles": [[1, 2, 3]], "targets": [[1, 2]]}), 422)
    error_of(c.post(f"/api/sessions/{third}/drag", json={"handles": [[1, 2]] * 17, "targets": [[1, 2]] * 17}), 422)
    assert c.get(f"/api/sessions/{third}/drag").json() == {"status": "idle"}
    assert c.post(f"/api/sessions/{third}/drag/stop").json() == {"status": "idle"}


def _png_url(array: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_drag_mask_is_decoded_to_the_image_grid(fake_client):
    c = fake_client
    sid = new(c)["id"]
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[2:6, 3:9, 3] = 255                                               # painted block
    c.post(f"/api/sessions/{sid}/drag", json={**DRAG, "mask": _png_url(rgba), "options": {"max_steps": 1}})
    mask = FakeDrag.made[-1].mask
    assert mask.dtype == torch.bool and mask.shape == (16, 16)
    assert mask[2:6, 3:9].all() and int(mask.sum()) == 24
    wait_drag(c, sid, lambda p: p["status"] != "running")
    jpeg = io.BytesIO()
    Image.new("RGB", (16, 16)).save(jpeg, format="JPEG")
    for mask, fragment in [("data:image/png;base64,@@@", "base64"), (_png_url(np.zeros((8, 8, 4), np.uint8)), "16x16"),
                           ("data:image/png;base64," + base64.b64encode(b"not a png").decode(), "readable"),
                           (base64.b64encode(jpeg.getvalue()).decode(), "PNG")]:
        error_of(c.post(f"/api/sessions/{sid}/drag", json={**DRAG, "mask": mask}), 400, fragment)


def test_closing_a_session_stops_its_drag_and_frees_the_slot(catalog):
    """Issue 18: the page sends POST .../close (sendBeacon) on pagehide; a reload must not leave its
    drag holding one of the server's drag slots until the step cap."""
    app = create_app(catalog=catalog, drag_factory=FakeDrag, max_drags=1)
    with TestClient(app) as c:
        a, b = new(c)["id"], new(c)["id"]
        c.post(f"/api/sessions/{a}/drag", json=DRAG)
        job = app.state.store.get(a).drag
        wait_drag(c, a, lambda p: p["step"] >= 1)
        assert c.get("/healthz").json()["drags"] == 1
        error_of(c.post(f"/api/sessions/{b}/drag", json=DRAG), 429, "drags are running")
        assert c.post(f"/api/sessions/{a}/close").status_code == 204
        assert c.get("/healthz").json()["drags"] == 0
        error_of(c.get(f"/api/sessions/{a}"), 404)
        assert c.post(f"/api/sessions/{b}/drag", json=DRAG).status_code == 202      # the slot is free at once
        job.join(2)
        assert not job._thread.is_alive() and job.status == "stopped" and job.step < 1000
        c.post(f"/api/sessions/{b}/drag/stop")


def test_a_drag_nobody_polls_stops_by_itself(catalog):
    """A page that went away without closing its session (crash, lost beacon) does not keep a drag."""
    app = create_app(catalog=catalog, drag_factory=FakeDrag, drag_abandon_s=0.3)
    with TestClient(app) as c:
        sid = new(c)["id"]
        c.post(f"/api/sessions/{sid}/drag", json=DRAG)
        job = app.state.store.get(sid).drag
        job.join(3)                                                 # 1000 steps would take 5 s
        assert not job._thread.is_alive()
        p = c.get(f"/api/sessions/{sid}/drag").json()
        assert p["status"] == "stopped" and p["outcome"] == "abandoned" and p["step"] < 1000
        assert c.get(f"/api/sessions/{sid}").status_code == 200
    # a polled drag keeps running past the limit: 300 steps take 1.5 s against 1 s (a wider margin
    # than 0.3 s, which a busy machine's scheduling pause between two polls once exceeded)
    app = create_app(catalog=catalog, drag_factory=FakeDrag, drag_abandon_s=1.0)
    with TestClient(app) as c:
        sid = new(c)["id"]
        c.post(f"/api/sessions/{sid}/drag", json={**DRAG, "options": {"max_steps": 300}})
        p = wait_drag(c, sid, lambda p: p["status"] != "running")
        assert p["status"] == "done" and p["step"] == 300 and p["outcome"] == "ended"   # FakeDrag: no summary


def test_no_drag_module_means_no_drag_panel(catalog):
    c = TestClient(create_app(catalog=catalog, drag_factory=None))
    d = c.get("/api/models").json()
    assert d["drag"] is False and all("drag" not in m["panels"] for m in d["models"])
    sid = new(c)["id"]
    error_of(c.post(f"/api/sessions/{sid}/drag", json=DRAG), 400, "not available")


def test_unexpected_errors_are_500_json_and_the_server_survives(catalog):
    def broken(*args):
        raise ZeroDivisionError("bug")
    c = TestClient(create_app(catalog=catalog, drag_factory=broken), raise_server_exceptions=False)
    sid = new(c)["id"]
    error_of(c.post(f"/api/sessions/{sid}/drag", json=DRAG), 500, "ZeroDivisionError")
    assert c.get(f"/api/sessions/{sid}").status_code == 200


# ---------------------------------------------------------------------- drag (the real DragSession)

def test_real_drag_session_commits_its_state(client, catalog):
    pytest.importorskip("steergan.edit.drag")
    sid = new(client)["id"]
    r = client.post(f"/api/sessions/{sid}/drag", json={**DRAG, "options": {"mode": "hybrid", "max_steps": 3}})
    assert r.status_code == 202, r.text
    p = wait_drag(client, sid, lambda p: p["status"] != "running", timeout=30)
    assert p["status"] == "done" and p["step"] == 3
    assert p["outcome"] in ("reached", "stalled", "lost", "step cap")                # how it ended, for the page
    v = client.get(f"/api/sessions/{sid}").json()
    assert v["state"]["explicit_latent"]
    assert torch.equal(png_tensor(v["image"]), png_tensor(p["image"]))        # the state reloads to the drag's image
    error_of(client.post(f"/api/sessions/{sid}/drag", json={"handles": [[40, 8]], "targets": [[1, 1]]}), 400, "outside")
    error_of(client.post(f"/api/sessions/{sid}/drag", json={**DRAG, "options": {"nope": 1}}), 400, "unknown drag option")
    error_of(client.post(f"/api/sessions/{sid}/drag", json={**DRAG, "options": {"max_steps": 10 ** 6}}), 400, "at most")
    base = new(client, "tiny-base")["id"]
    error_of(client.post(f"/api/sessions/{base}/drag", json={**DRAG, "options": {"mode": "joint"}}), 400, "drag")


# ---------------------------------------------------------------------- the CLI

def run_cli(args, capsys):
    with pytest.raises(SystemExit) as e:
        main(args)
    return e.value.code, capsys.readouterr().err


def test_cli_ui_errors_are_one_line(files, capsys):
    code, err = run_cli(["ui", "--ckpt", "/no/such.safetensors"], capsys)
    assert code == 2 and err.startswith("error: ") and "does not exist" in err and len(err.strip().splitlines()) == 1
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        code, err = run_cli(["ui", "--ckpt", files["base"], "--port", str(busy.getsockname()[1])], capsys)
    finally:
        busy.close()
    assert code == 2 and "cannot listen" in err
    code, _ = run_cli(["ui", "--port", "70000"], capsys)
    assert code == 2
    for bad, says in ((["--encoder", "no-equals-sign"], "MODEL=FILE"),
                      (["--encoder", f"tiny-base={files['base']}"], "not a steergan encoder"),
                      (["--encoder", "tiny-base=/no/such.safetensors"], "does not exist"),
                      (["--encoder", "elsewhere=/no/such.safetensors"], "does not offer")):
        code, err = run_cli(["ui", "--ckpt", files["base"], "--port", "0", *bad], capsys)
        assert code == 2 and err.startswith("error: ") and says in err and len(err.strip().splitlines()) == 1, err


def test_cli_ui_serves_on_loopback(files, capsys, monkeypatch):
    import uvicorn
    seen = {}

    def fake_run(self, sockets=None):
        seen["address"] = sockets[0].getsockname()
        seen["hosts"] = [m.kwargs.get("hosts") for m in self.config.app.user_middleware]
    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    main(["ui", "--ckpt", files["multi"], "--ckpt", files["base"], "--port", "0"])
    out = capsys.readouterr().out
    assert seen["address"][0] == "127.0.0.1" and "tiny-multi, tiny-base" in out
    assert ["127.0.0.1", "[::1]", "localhost"] in seen["hosts"]
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")


# ---------------------------------------------------------------------- open image (inversion)

def data_url(img: Image.Image, fmt: str = "PNG", mime: str = "image/png") -> str:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode()


def wait_invert(c, sid, until, timeout=60.0):
    return wait_drag(c, sid, until, timeout, route="invert")


@pytest.mark.parametrize("model", ["tiny-multi", "tiny-base"])
def test_open_image_inverts_into_the_model_as_one_undo_step(client, catalog, model):
    sid = new(client, model)["id"]
    m = catalog.get(model)
    target = to_uint8(render_state(m, EditState(m.source, seed=11).validate() if not m.method.has_heatmaps
                                   else state_from_seed(m, 11)))[0]
    # an RGBA upload at another size and aspect: cropped and resized to the model's 16 px
    up = Image.fromarray(target.permute(1, 2, 0).numpy()).resize((48, 48), Image.NEAREST).convert("RGBA")
    wide = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    wide.paste(up, (8, 0))
    r = client.post(f"/api/sessions/{sid}/invert", json={"image": data_url(wide), "steps": 30})
    assert r.status_code == 202, r.text
    p = wait_invert(client, sid, lambda p: p["status"] != "running")
    assert p["status"] == "done" and p["step"] == 30 and p["outcome"] == "inverted"
    assert p["psnr"] > 12                                     # far closer than the mean image after 30 steps
    v = client.get(f"/api/sessions/{sid}").json()
    assert v["state"]["explicit_latent"] and v["can_undo"]
    got = png_tensor(v["image"]).float()
    err = lambda a: float(((a - target.float()) / 255).square().mean())          # noqa: E731
    mean_img = to_uint8(m.synthesize(m.G.mapping.w_avg[None, None].repeat(1, m.G.num_ws, 1),
                                     m.control_from_seed(11) if m.method.has_heatmaps else None))[0].float()
    assert err(got) < err(mean_img)                           # the inversion is nearer the upload than the start
    assert client.post(f"/api/sessions/{sid}/undo").json()["state"]["seed"] == 3


def test_open_image_can_be_stopped_and_refuses_bad_uploads(client, tmp_path):
    from test_bad_inputs import bomb_png
    sid = new(client)["id"]
    good = data_url(Image.new("RGB", (20, 20), (200, 30, 30)))
    r = client.post(f"/api/sessions/{sid}/invert", json={"image": good, "steps": 1000})
    assert r.status_code == 202
    error_of(client.post(f"/api/sessions/{sid}/invert", json={"image": good}), 409)
    client.post(f"/api/sessions/{sid}/invert/stop")
    p = wait_invert(client, sid, lambda p: p["status"] != "running")
    assert p["status"] == "stopped" and p["step"] < 1000
    assert client.get(f"/api/sessions/{sid}").json()["state"]["explicit_latent"]     # what it had, committed
    raw = bomb_png(tmp_path / "bomb.png").read_bytes()            # the header claims 100000 x 100000 pixels
    bad = {
        "must be a data URL": "hello", "PNG, JPEG or WebP": data_url(Image.new("RGB", (4, 4)), "GIF", "image/gif"),
        "not valid base64": "data:image/png;base64,@@@@", "not a readable image": "data:image/png;base64,"
        + base64.b64encode(b"not a png at all").decode(),
        "decompression bomb": "data:image/png;base64," + base64.b64encode(bytes(raw)).decode(),
    }
    for fragment, image in bad.items():
        msg = error_of(client.post(f"/api/sessions/{sid}/invert", json={"image": image}), 400)
        assert fragment in msg, msg
    error_of(client.post(f"/api/sessions/{sid}/invert", json={"image": good, "steps": 0}), 400, "steps must be")
    big = "data:image/png;base64," + "A" * (5 * 1024 * 1024)
    error_of(client.post(f"/api/sessions/{sid}/invert", json={"image": big}), 413)
    v = client.get(f"/api/sessions/{sid}").json()
    assert v["state"]["explicit_latent"]                          # nothing bad was committed


def test_open_image_takes_the_libraries_step_counts_when_the_request_leaves_them_out(client):
    """The editor sends ``tune`` and no counts: the server runs what the CLI runs by default."""
    from steergan.edit.invert import PIVOT_STEPS, PTI_STEPS, W_STEPS
    from steergan.ui.invert_jobs import invert_steps
    assert invert_steps(False, None, None) == (0, W_STEPS)
    assert invert_steps(True, None, None) == (PTI_STEPS, PIVOT_STEPS)
    assert invert_steps(False, 7, 3) == (3, 7) and invert_steps(True, None, 0) == (0, W_STEPS)
    sid = new(client)["id"]
    good = data_url(Image.new("RGB", (20, 20), (200, 30, 30)))
    for body, total in (({"image": good}, W_STEPS), ({"image": good, "tune": True}, PIVOT_STEPS + PTI_STEPS)):
        r = client.post(f"/api/sessions/{sid}/invert", json=body)
        assert r.status_code == 202 and r.json()["max_steps"] == total, r.text
        client.post(f"/api/sessions/{sid}/invert/stop")
        assert wait_invert(client, sid, lambda p: p["status"] != "running")["status"] == "stopped"


def test_the_last_drag_downloads_as_a_gif(fake_client):
    """Issue 18: the drag as a GIF, one frame per step (thinned beyond MAX_FRAMES)."""
    from steergan.ui.drag_jobs import MAX_FRAMES
    c = fake_client
    sid = new(c)["id"]
    error_of(c.get(f"/api/sessions/{sid}/drag/animation.gif"), 400, "not run a drag")
    c.post(f"/api/sessions/{sid}/drag", json={**DRAG, "options": {"max_steps": 5}})
    wait_drag(c, sid, lambda p: p["status"] == "done")
    r = c.get(f"/api/sessions/{sid}/drag/animation.gif")
    assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
    gif = Image.open(io.BytesIO(r.content))
    assert gif.n_frames == 6 and gif.size == (16 * 4, 16 * 4)
    c.post(f"/api/sessions/{sid}/drag", json={**DRAG, "options": {"max_steps": 3 * MAX_FRAMES}})
    wait_drag(c, sid, lambda p: p["status"] == "done", timeout=30)
    assert Image.open(io.BytesIO(c.get(f"/api/sessions/{sid}/drag/animation.gif").content)).n_frames <= MAX_FRAMES + 1


def test_open_image_with_tuning_edits_on_its_own_generator(files):
    """Open image with ``pti_steps``: W+ steps, then pivotal tuning; the state commits on a new
    model of this server (its tuned generator, listed to no one else), renders exactly as the
    downloaded generator file renders it in the library, imports back, and Undo returns to the
    model before. Tuned generators nobody refers to make room; ones in use are kept (400)."""
    cat = ModelCatalog([files["multi"], files["base"]], max_tuned=1)
    with TestClient(create_app(catalog=cat)) as c:
        sid = new(c)["id"]
        m = cat.get("tiny-multi")
        target = to_uint8(render_state(cat.get("tiny-base"), EditState(cat.get("tiny-base").source, seed=4)))[0]
        up = data_url(Image.fromarray(target.permute(1, 2, 0).numpy()))
        r = c.post(f"/api/sessions/{sid}/invert", json={"image": up, "steps": 20})
        assert r.status_code == 202
        w_only = wait_invert(c, sid, lambda p: p["status"] != "running")["psnr"]
        c.post(f"/api/sessions/{sid}/undo")
        r = c.post(f"/api/sessions/{sid}/invert", json={"image": up, "steps": 20, "pti_steps": 30})
        assert r.status_code == 202 and r.json()["max_steps"] == 50
        p = wait_invert(c, sid, lambda p: p["status"] != "running", timeout=120)
        assert p["status"] == "done" and p["step"] == 50 and p["outcome"] == "inverted and tuned", p
        assert p["phase"] == "tuning" and p["psnr"] > w_only + 1, (p["psnr"], w_only)
        v = c.get(f"/api/sessions/{sid}").json()
        tuned_id = v["model"]["id"]
        assert v["model"]["tuned_from"] == "tiny-multi" and tuned_id.startswith("tiny-multi-pti-")
        assert tuned_id not in [d["id"] for d in c.get("/api/models").json()["models"]]
        state = c.get(f"/api/sessions/{sid}/state").json()
        assert state["model"] == cat.entries[tuned_id].source
        # the downloaded generator renders the state exactly as the editor shows it
        gen = c.get(f"/api/sessions/{sid}/generator")
        assert gen.status_code == 200 and tuned_id in gen.headers["content-disposition"]
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "g.safetensors"
            path.write_bytes(gen.content)
            again = load_model(str(path))
            mine = library_image(again, replace(EditState.from_dict(state), model=str(path)))
        assert torch.equal(png_tensor(v["image"]), mine)
        assert not torch.equal(mine, library_image(m, replace(EditState.from_dict(state), model=m.source)))
        # another session of this server imports the state (the generator is one of its models)
        sid2 = new(c)["id"]
        assert c.put(f"/api/sessions/{sid2}/state", json=state).json()["model"]["id"] == tuned_id
        # room: one tuned generator, in use by two sessions: a second tuning is refused up front
        error_of(c.post(f"/api/sessions/{sid2}/invert", json={"image": up, "steps": 2, "pti_steps": 2}),
                 400, "tuned generators")
        error_of(c.get(f"/api/sessions/{new(c)['id']}/generator"), 400, "not a generator tuned")
        assert c.post(f"/api/sessions/{sid}/undo").json()["model"]["id"] == "tiny-multi"
        c.delete(f"/api/sessions/{sid}")
        c.delete(f"/api/sessions/{sid2}")
        old_file = Path(cat.entries[tuned_id].source)
        sid3 = new(c)["id"]
        c.post(f"/api/sessions/{sid3}/invert", json={"image": up, "steps": 2, "pti_steps": 2})
        assert wait_invert(c, sid3, lambda p: p["status"] != "running")["status"] == "done"
        assert tuned_id not in cat.entries and not old_file.exists()
        folder = Path(cat.entries[c.get(f"/api/sessions/{sid3}").json()["model"]["id"]].source).parent
        error_of(c.post(f"/api/sessions/{sid3}/invert", json={"image": up, "steps": 1, "pti_steps": -1}), 422)
    assert not folder.exists()                          # the server stopped: its tuned generators went


def test_open_image_starts_from_the_models_encoder(files, tmp_path):
    """``steergan ui --encoder MODEL=FILE``: that model's Open image starts from the encoder's guess
    (the listing says it has one); with tuning and no step count the guess itself is the pivot (no
    W+ steps, as the CLI's ``--encoder --pti``), without tuning W+ steps refine it, also on the
    generator a tuning made (it keeps its base model's encoder); models without one start from the
    mean w; an encoder for an unknown model is refused at start-up."""
    from steergan.edit.encoder import encode_start, save_encoder, train_encoder
    from steergan.edit.invert import PTI_STEPS, W_STEPS, initial_heatmaps
    from steergan.metrics.segmenter import model_instances
    from steergan.ui.invert_jobs import decode_upload, invert_steps
    assert invert_steps(True, None, None, from_encoder=True) == (PTI_STEPS, 0)
    assert invert_steps(False, None, None, from_encoder=True) == (0, W_STEPS)
    cat = ModelCatalog([files["multi"], files["base"]])
    m = cat.get("tiny-multi")
    enc, meta = train_encoder(m, steps=10, batch=4, log=None)
    path = save_encoder(enc, meta, tmp_path / "enc.safetensors")
    with pytest.raises(UserError, match="does not offer"):
        create_app(catalog=ModelCatalog([files["base"]]), encoders={"tiny-multi": str(path)})
    with TestClient(create_app(catalog=cat, encoders={"tiny-multi": str(path)})) as c:
        listed = {d["id"]: d["encoder"] for d in c.get("/api/models").json()["models"]}
        assert listed == {"tiny-multi": True, "tiny-base": False}
        target = to_uint8(render_state(cat.get("tiny-base"), EditState(cat.get("tiny-base").source, seed=4)))[0]
        up = data_url(Image.fromarray(target.permute(1, 2, 0).numpy()))
        sid = new(c)["id"]
        r = c.post(f"/api/sessions/{sid}/invert", json={"image": up, "tune": True, "pti_steps": 3})
        assert r.status_code == 202 and r.json()["max_steps"] == 3, r.text          # no W+ steps
        p = wait_invert(c, sid, lambda p: p["status"] != "running", timeout=60)
        assert p["status"] == "done" and p["start"] == "encoder" and p["phase"] == "tuning", p
        state = c.get(f"/api/sessions/{sid}/state").json()
        image = decode_upload(up, m.resolution)
        guess, _ = encode_start(enc, image, initial_heatmaps(m, model_instances(m, image)), m.G)
        assert torch.allclose(torch.tensor(state["ws"]).reshape(guess.shape), guess, atol=1e-3)
        assert (guess - m.G.mapping.w_avg).abs().max() > 0.05                # not the mean w's start
        assert c.get(f"/api/sessions/{sid}").json()["model"]["encoder"]           # the tuned copy has it too
        r = c.post(f"/api/sessions/{sid}/invert", json={"image": up, "steps": 4})
        assert r.status_code == 202 and r.json()["max_steps"] == 4
        assert wait_invert(c, sid, lambda p: p["status"] != "running")["start"] == "encoder"
        # a tuning of the tuned copy still starts from the encoder of the model it all began with
        r = c.post(f"/api/sessions/{sid}/invert", json={"image": up, "tune": True, "pti_steps": 2})
        assert r.status_code == 202 and r.json()["max_steps"] == 2, r.text
        assert wait_invert(c, sid, lambda p: p["status"] != "running")["start"] == "encoder"
        r = c.post(f"/api/sessions/{sid}/invert", json={"image": up, "tune": True, "pti_steps": 2})
        assert r.status_code == 202 and r.json()["max_steps"] == 2, r.text
        assert wait_invert(c, sid, lambda p: p["status"] != "running")["start"] == "encoder"
        sid2 = new(c, "tiny-base")["id"]
        c.post(f"/api/sessions/{sid2}/invert", json={"image": up, "steps": 2})
        assert wait_invert(c, sid2, lambda p: p["status"] != "running")["start"] == "mean w"
        error_of(c.post(f"/api/sessions/{sid2}/invert", json={"image": up, "steps": 0, "pti_steps": 2}),
                 400, "steps must be")
