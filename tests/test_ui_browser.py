"""The editor in real headless Chromium (Playwright + Debian's /usr/bin/chromium), bundled `rooms` model
(and a tiny SemanticStyleGAN model for the class panel).

Served by uvicorn in a thread on loopback, exactly as ``steergan ui`` serves it.
"""
import io
import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
                allow_module_level=True)
playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")

from steergan.ui import create_app  # noqa: E402
from steergan.models import load_model  # noqa: E402
from ui_models import tiny_model_file  # noqa: E402

pytestmark = pytest.mark.slow
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ui-browser")
    base, semantic = tiny_model_file(folder, "base"), tiny_model_file(folder, "semantic")
    app = create_app(["rooms", str(base), str(semantic)], allowed_hosts=["127.0.0.1"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    t0 = time.monotonic()
    while not srv.started:
        assert time.monotonic() - t0 < 30, "server did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(base_url=url, timeout=30) as client:
        yield url, client
    srv.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(server, browser):
    url, _ = server
    context = browser.new_context(viewport={"width": 1100, "height": 800}, accept_downloads=True)
    pg = context.new_page()
    problems = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    pg.on("request", lambda r: problems.append(f"external request: {r.url}") if not r.url.startswith((url, "data:", "blob:")) else None)
    pg.goto(url + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=30_000)
    yield pg
    context.close()
    assert not problems, problems


def session(page, client):
    return client.get(f"/api/sessions/{page.evaluate('document.body.dataset.session')}").json()


def image(page, client) -> torch.Tensor:
    r = client.get(f"/api/sessions/{page.evaluate('document.body.dataset.session')}/image.png")
    return torch.from_numpy(np.array(Image.open(io.BytesIO(r.content)).convert("RGB"))).permute(2, 0, 1).float()


def wait_for(predicate, what, timeout=20.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def canvas_point(page, xy):
    """Page coordinates of normalised image coordinates (x right, y down, [-1, 1])."""
    box = page.locator("#view").bounding_box()
    return box["x"] + (xy[0] + 1) / 2 * box["width"], box["y"] + (xy[1] + 1) / 2 * box["height"]


def page_shows(page, version):
    page.wait_for_function("v => Number(document.body.dataset.version) >= v", arg=version, timeout=20_000)


def test_dragging_a_centre_changes_the_image_mostly_where_it_moved(page, server):
    _, client = server
    # object 1 of seed 0, made compact first with its sigma slider (0.15: a small object)
    page.locator('#centres li[data-index="1"] input[type=range]').fill("0.15")
    s = wait_for(lambda: (lambda v: v if abs(v["state"]["centres"][1]["sigma"] - 0.15) < 1e-6 else None)(
        session(page, client)), "the sigma edit")
    page_shows(page, s["version"])
    before, v0 = image(page, client), s["version"]
    c0 = s["state"]["centres"][1]["xy"]
    goal = [c0[0] + 0.5, c0[1]]

    page.mouse.move(*canvas_point(page, c0))
    page.mouse.down()
    for k in range(1, 11):                                     # a real mouse drag, 10 moves
        page.mouse.move(*canvas_point(page, [c0[0] + 0.05 * k, c0[1]]))
        time.sleep(0.03)
    page.mouse.up()
    s = wait_for(lambda: (lambda v: v if abs(v["state"]["centres"][1]["xy"][0] - goal[0]) < 0.01 else None)(
        session(page, client)), "the centre to arrive")
    page_shows(page, s["version"])
    assert s["version"] - v0 >= 2, "the image did not follow the mouse while dragging"
    assert abs(s["state"]["centres"][1]["xy"][1] - c0[1]) < 0.01
    after = image(page, client)

    change = (after - before).abs().sum(0)
    R = change.shape[-1]
    grid = (torch.arange(R) * 2 + 1) / R - 1
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    near = torch.zeros(R, R, dtype=torch.bool)
    for cx, cy in (c0, goal):                                  # discs of radius 0.4 round the old and new place
        near |= (xx - cx) ** 2 + (yy - cy) ** 2 < 0.4 ** 2
    inside = float(change[near].sum() / change.sum())
    area = float(near.float().mean())
    assert change.sum() > 0 and area < 0.3
    assert inside > 0.6, f"only {inside:.2f} of the change lies in the moved region ({area:.2f} of the image)"

    page.click("#undo")                                        # the whole gesture is one undo step
    wait_for(lambda: session(page, client)["state"]["centres"][1]["xy"] == c0, "undo")
    assert torch.equal(image(page, client), before)


def test_remove_an_object(page, server):
    _, client = server
    before = image(page, client)
    page.click('#centres li[data-index="2"] button:text("Remove")')
    page.wait_for_selector('#centres li[data-index="2"].removed')
    s = session(page, client)
    assert s["state"]["centres"][2]["active"] is False and s["state"]["centres"][0]["active"] is True
    assert not torch.equal(image(page, client), before)
    page.click('#centres li[data-index="2"] button:text("Restore")')
    page.wait_for_selector('#centres li[data-index="2"]:not(.removed)')
    assert torch.equal(image(page, client), before)


def test_drag_edit_counts_steps_and_stops(page, server):
    _, client = server
    page.check('input[name="tool"][value="points"]')
    page.mouse.click(*canvas_point(page, [-0.7, 0.1]))         # handle
    page.mouse.click(*canvas_point(page, [0.7, 0.1]))          # target: a long drag, so it is still
    page.check('input[name="tool"][value="mask"]')            # running when Stop is pressed
    page.mouse.move(*canvas_point(page, [-0.9, 0.1]))         # paint the movable area: a horizontal stroke
    page.mouse.down()
    for x in (-0.6, -0.3, 0.0, 0.3, 0.6, 0.9):
        page.mouse.move(*canvas_point(page, [x, 0.1]))
    page.mouse.up()
    page.select_option("#drag-mode", "drag")                  # DragGAN alone: no coarse jump
    page.fill("#drag-steps", "200")
    with page.expect_request(lambda r: r.url.endswith("/drag") and r.method == "POST") as req:
        page.click("#drag-run")
    body = json.loads(req.value.post_data)
    assert body["mask"].startswith("data:image/png;base64,") and len(body["handles"]) == 1
    assert body["handles"][0][0] < body["targets"][0][0]       # image pixels, handle left of target
    page.wait_for_function("() => Number(document.querySelector('#drag-step').textContent) >= 3", timeout=60_000)
    assert page.is_disabled("#drag-run") and page.is_disabled("#undo")
    page.click("#drag-stop")
    page.wait_for_function("() => document.querySelector('#drag-status').textContent.startsWith('stopped')",
                           timeout=30_000)
    steps = int(page.text_content("#drag-step"))
    assert 3 <= steps < 200
    time.sleep(0.5)
    assert int(page.text_content("#drag-step")) == steps       # it really stopped
    s = session(page, client)
    assert s["drag"]["status"] == "stopped" and s["drag"]["step"] == steps
    assert s["state"]["explicit_latent"] and s["can_undo"]     # the drag's latent became the edit state
    assert page.is_enabled("#drag-run") and page.is_enabled("#undo")
    with page.expect_download() as d:                          # issue 18: the drag as a GIF
        page.click("#drag-gif")
    gif = Image.open(d.value.path())
    assert gif.format == "GIF" and gif.n_frames >= 2


def test_export_and_reimport_the_edit_state(page, server, tmp_path):
    _, client = server
    page.click('#centres li[data-index="0"] button:text("New style")')
    page_shows(page, 1)
    edited = image(page, client)
    with page.expect_download() as d:
        page.click("#export")
    state_file = tmp_path / "state.json"
    d.value.save_as(state_file)
    state = json.loads(state_file.read_text())
    assert state["model"] == "rooms" and state["seed"] == 0
    assert len(state["heatmaps"]["centres"][0]) == load_model("rooms").method.n_objects
    with page.expect_download() as d:
        page.click("#download")
    png = tmp_path / "image.png"
    d.value.save_as(png)
    assert torch.equal(torch.from_numpy(np.array(Image.open(png).convert("RGB"))).permute(2, 0, 1).float(), edited)

    page.fill("#seed", "5")
    page.click("#go")
    wait_for(lambda: session(page, client)["state"]["seed"] == 5, "seed 5")
    assert not torch.equal(image(page, client), edited)
    page.set_input_files("#import-file", str(state_file))
    wait_for(lambda: session(page, client)["state"]["seed"] == 0, "the import")
    assert torch.equal(image(page, client), edited)
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('loaded')")


def test_model_picker_switches_panels(page, server):
    page.select_option("#model", "tiny-base")
    page.wait_for_function("() => document.querySelector('section[data-panel=heatmaps]').hidden")
    assert page.is_visible("section[data-panel=drag]")
    assert page.is_disabled('#drag-mode option[value="hybrid"]')
    assert page.input_value("#drag-mode") == "drag"


CANVAS_PIXELS = """R => {             // the canvas at the centre of each image pixel (no overlays drawn)
  const c = document.querySelector('#view'), s = c.width / R;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, out = [];
  for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) {
    const k = ((i * s + s / 2) * c.width + (j * s + s / 2)) * 4;
    out.push(d[k], d[k + 1], d[k + 2]);
  }
  return out;
}"""


def canvas_shows(page, img: torch.Tensor) -> bool:
    pixels = torch.tensor(page.evaluate(CANVAS_PIXELS, 16), dtype=torch.float32).reshape(16, 16, 3).permute(2, 0, 1)
    return torch.equal(pixels, img)


def test_semantic_panel_new_texture_changes_the_image(page, server):
    _, client = server
    page.select_option("#model", "tiny-semantic")
    page.wait_for_selector('section[data-panel=semantic] #classes li[data-class="2"]')
    assert page.is_hidden("section[data-panel=heatmaps]") and page.is_hidden("section[data-panel=link]")
    s0 = session(page, client)
    assert s0["model"]["id"] == "tiny-semantic" and s0["version"] == 0
    before = image(page, client)
    wait_for(lambda: canvas_shows(page, before), "the semantic model's image on the canvas")
    page.wait_for_function(                                    # the class list shows each class's share
        "() => document.querySelector('#classes li[data-class=\"2\"] .area').textContent.endsWith('%')")

    page.click('#classes li[data-class="2"] button:text("New texture")')
    s = wait_for(lambda: (lambda v: v if v["version"] == 1 else None)(session(page, client)), "the texture edit")
    assert s["state"]["explicit_latent"] and s["can_undo"]
    after = image(page, client)
    assert not torch.equal(after, before)
    wait_for(lambda: canvas_shows(page, after), "the edited image on the canvas")


def test_sigma_slider_follows_a_real_mouse_drag(page, server):
    """Issue 18: each reply rebuilt the centre list, so the slider under the mouse froze after one step."""
    _, client = server
    slider = page.locator('#centres li[data-index="1"] input[type=range]')
    sigma0 = session(page, client)["state"]["centres"][1]["sigma"]
    page.evaluate("() => { window.__slider = document.querySelector('#centres li[data-index=\"1\"] input[type=range]'); }")
    box = slider.bounding_box()
    value = float(slider.input_value())
    thumb = 16                                                  # Chromium's range thumb, roughly
    x_of = lambda v: box["x"] + thumb / 2 + (v - 0.01) / 0.99 * (box["width"] - thumb)
    y = box["y"] + box["height"] / 2
    goal = 0.15 if value > 0.5 else 0.85
    page.mouse.move(x_of(value), y)
    page.mouse.down()
    for k in range(1, 13):                                     # a slow pull: server replies arrive meanwhile
        page.mouse.move(x_of(value + (goal - value) * k / 12), y)
        time.sleep(0.08)
    page.mouse.up()
    final = float(slider.input_value())
    assert abs(final - goal) < 0.06, f"the slider stopped at {final}, the mouse at {goal} (started {value})"
    assert page.evaluate("() => window.__slider.isConnected"), "the slider was rebuilt under the mouse"
    s = wait_for(lambda: (lambda v: v if abs(v["state"]["centres"][1]["sigma"] - final) < 1e-6 else None)(
        session(page, client)), "the last sigma to reach the server")
    page_shows(page, s["version"])
    assert float(slider.input_value()) == final
    page.click("#undo")                                        # one pull, one undo step
    wait_for(lambda: session(page, client)["state"]["centres"][1]["sigma"] == sigma0, "undo")


def test_a_failed_live_edit_does_not_strand_the_newest_one(page):
    """The live-edit queue (LatestOnly): a payload pushed while a failing one is in flight is still
    sent, and a failure is reported only when nothing newer succeeded."""
    got = page.evaluate("""async () => {
      const { LatestOnly } = await import('/static/api.js');
      const sent = [];
      const q = new LatestOnly(async p => {
        await new Promise(r => setTimeout(r, 30));
        if (p < 0) throw new Error('refused');
        sent.push(p);
      });
      const first = q.push(-1).then(() => 'ok', e => e.message);
      q.push(2);                                   // arrives while -1 is in flight
      const outcome = await first;
      await q.idle();
      const last = await q.push(-3).then(() => 'ok', e => e.message);
      return { sent, outcome, last };
    }""")
    assert got == {"sent": [2], "outcome": "ok", "last": "refused"}


def place_drag_points(page):
    page.check('input[name="tool"][value="points"]')
    page.mouse.click(*canvas_point(page, [-0.7, 0.1]))         # handle
    page.mouse.click(*canvas_point(page, [0.7, 0.1]))          # target: a long drag


def start_long_drag(page):
    place_drag_points(page)
    page.select_option("#drag-mode", "drag")
    page.fill("#drag-steps", "2000")
    page.click("#drag-run")
    page.wait_for_function("() => Number(document.querySelector('#drag-step').textContent) >= 1", timeout=60_000)


def running_drags(client) -> int:
    return client.get("/healthz").json().get("drags", -1)


def test_switching_model_mid_drag_clears_the_drag_readout(page, server):
    """Issue 18: the old poll read the new session's idle drag ("step undefined idle")."""
    _, client = server
    start_long_drag(page)
    old = page.evaluate("document.body.dataset.session")
    page.select_option("#model", "tiny-base")
    page.wait_for_function("() => document.querySelector('section[data-panel=heatmaps]').hidden")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('tiny-base')")
    time.sleep(0.6)                                            # several poll intervals
    text = page.evaluate("document.body.innerText")
    assert "undefined" not in text, text
    assert page.text_content("#drag-status") == "" and page.text_content("#drag-step") == "0"
    assert page.is_enabled("#drag-run") and page.is_disabled("#drag-stop")
    assert client.get(f"/api/sessions/{old}").status_code == 404      # the old session (and its drag) went
    wait_for(lambda: running_drags(client) == 0, "the old drag to stop")


def test_reloading_mid_drag_frees_the_drag_slot(page, server):
    """Issue 18: a reload left the drag running to its step cap; two reloads and Run got 429."""
    _, client = server
    for _ in range(2):                                         # the server allows 2 drags at once
        start_long_drag(page)
        old = page.evaluate("document.body.dataset.session")
        assert running_drags(client) >= 1
        page.reload()
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        wait_for(lambda: running_drags(client) == 0, "the reloaded page's drag to stop", timeout=1.5)
        assert client.get(f"/api/sessions/{old}").status_code == 404
    start_long_drag(page)                                      # a third drag starts: no 429
    assert "drags are running" not in page.text_content("#status")
    page.click("#drag-stop")
    page.wait_for_function("() => document.querySelector('#drag-status').textContent.startsWith('stopped')",
                           timeout=30_000)


def test_a_success_clears_an_earlier_error_and_actions_report(page, server):
    """Issue 18: errors stayed on screen after later successful actions; most buttons said nothing."""
    page.click("#drag-run")                                    # no points yet: an error
    assert "place a handle" in page.text_content("#status")
    assert page.evaluate("document.querySelector('#status').classList.contains('error')")
    page.fill("#seed", "4")
    page.click("#go")
    page.wait_for_function("() => document.querySelector('#status').textContent === 'seed 4'")
    assert not page.evaluate("document.querySelector('#status').classList.contains('error')")
    page.click('#centres li[data-index="0"] button:text("New style")')
    page.wait_for_function("() => document.querySelector('#status').textContent === 'object 0: new style'")
    page.click("#undo")
    page.wait_for_function("() => document.querySelector('#status').textContent === 'undone'")
    page.click("#clear-points")
    assert page.text_content("#status") == "drag points cleared"


def test_run_disables_and_says_so_at_once(page, server):
    """Issue 18: the first drag takes seconds to start; Run stayed enabled and the status said "ready"."""
    place_drag_points(page)
    page.select_option("#drag-mode", "drag")
    page.fill("#drag-steps", "2000")
    disabled, status, readout = page.evaluate("""() => {
        document.querySelector('#drag-run').click();           // what the page shows before any reply
        return [document.querySelector('#drag-run').disabled, document.querySelector('#status').textContent,
                document.querySelector('#drag-status').textContent];
    }""")
    assert disabled and "starting the drag" in status and readout == "starting…"
    page.wait_for_function("() => Number(document.querySelector('#drag-step').textContent) >= 1", timeout=60_000)
    assert page.is_disabled("#drag-run") and page.text_content("#status").startswith("dragging")
    page.click("#drag-stop")
    page.wait_for_function("() => /^stopped after \\d+ steps?, final distance [\\d.]+ px$/.test("
                           "document.querySelector('#drag-status').textContent)", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('drag stopped after')")


def test_import_and_load_latent_open_from_the_keyboard(page, server, tmp_path):
    """Issue 18: both were hidden file inputs inside labels, which take no keyboard focus."""
    _, client = server
    state = tmp_path / "state.json"
    state.write_text(json.dumps(client.get(f"/api/sessions/{page.evaluate('document.body.dataset.session')}/state").json()))
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    page.on("filechooser", lambda _chooser: None)             # file chooser interception on before any key
    page.evaluate("() => new Promise(r => setTimeout(r, 100))")
    for before, button, chosen, said in (("#export", "import", state, "edit state state.json loaded"),
                                         ("#new-latent", "load-latent", bad, "bad.json is not JSON")):
        page.focus(before)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == button
        with page.expect_file_chooser(timeout=10_000) as chooser:
            page.keyboard.press("Enter")
        chooser.value.set_files(str(chosen))
        page.wait_for_function("t => document.querySelector('#status').textContent === t", arg=said)


def test_narrow_screen_fits_without_horizontal_scroll(page, server):
    """Issue 18: at 390 px the fixed 512 px canvas overflowed and the header stopped short."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => document.querySelector('#view').getBoundingClientRect().width <= 390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#view").bounding_box()
    assert abs(box["width"] - box["height"]) < 1 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.locator("header").bounding_box()["width"] >= page.evaluate("document.documentElement.scrollWidth")
    touch = "() => getComputedStyle(document.querySelector('#view')).touchAction"
    assert page.evaluate(touch) != "none"                      # a swipe on the image scrolls the page
    page.check('input[name="tool"][value="points"]')
    assert page.evaluate(touch) == "none"                      # ... unless a tool needs the touches
    page.locator("#view").scroll_into_view_if_needed()
    page.mouse.click(*canvas_point(page, [0.0, 0.0]))          # points still land where clicked
    page.mouse.click(*canvas_point(page, [0.5, 0.0]))
    handles = page.evaluate("window.steerganEditor.view.handles")
    R = page.evaluate("window.steerganEditor.view.R")
    assert abs(handles[0][0] - (R - 1) / 2) < 1.5 and abs(handles[0][1] - (R - 1) / 2) < 1.5


def test_each_panel_has_a_how_to(page, server):
    for panel in ("latent", "heatmaps", "drag", "link", "semantic"):
        assert page.locator(f"section[data-panel={panel}] details.help summary").count() == 1, panel
    page.click("section[data-panel=drag] details.help summary")
    assert "place points" in page.text_content("section[data-panel=drag] details.help")


def test_open_image_from_the_keyboard_inverts_it_and_compares(page, server, tmp_path):
    """Issue 19: the user's own picture (a hold-out room at another size), inverted into the
    default model, becomes the edit state as one undo step; Show upload toggles the canvas."""
    from steergan.data.scenes import render
    _, client = server
    start = image(page, client)
    upload = render("rooms", 5, 128, 1).image
    path = tmp_path / "my room.png"
    Image.fromarray(upload).save(path)
    target = torch.from_numpy(np.array(Image.fromarray(upload).resize((64, 64), Image.LANCZOS))).permute(2, 0, 1).float()
    page.evaluate("window.steerganEditor.invertSteps = 25")
    page.on("filechooser", lambda _chooser: None)
    page.evaluate("() => new Promise(r => setTimeout(r, 100))")
    page.focus("#import")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "open-image"
    with page.expect_file_chooser(timeout=10_000) as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(path))
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('inverted')", timeout=120_000)
    s = session(page, client)
    assert s["state"]["explicit_latent"] and s["can_undo"]
    err = lambda a: float(((a - target) / 255).square().mean())               # noqa: E731
    assert err(image(page, client)) < 0.7 * err(start)
    assert "PSNR" in page.locator("#invert-status").text_content()
    page.click("#compare")
    assert page.evaluate("window.steerganEditor.view.image.naturalWidth") == 128           # the upload
    page.click("#compare")
    assert page.evaluate("window.steerganEditor.view.image.naturalWidth") == 64
    page.click("#undo")
    wait_for(lambda: session(page, client)["state"]["seed"] == 0, "undo to the seed")


def test_open_image_with_tune_edits_on_a_generator_of_its_own(page, server, tmp_path):
    """Issue 19: with "tune" the inversion goes on to fine-tune a copy of the generator (PTI); the
    session moves to that copy (named in the model menu, its file downloadable), Show upload still
    compares, and Undo goes back to the bundled model."""
    from steergan.data.scenes import render
    _, client = server
    path = tmp_path / "room.png"
    Image.fromarray(render("rooms", 6, 96, 1).image).save(path)
    page.evaluate("window.steerganEditor.invertSteps = 10; window.steerganEditor.ptiSteps = 10")
    page.check("#invert-tune")
    with page.expect_file_chooser(timeout=10_000) as chooser:
        page.click("#open-image")
    chooser.value.set_files(str(path))
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('inverted')", timeout=120_000)
    s = session(page, client)
    assert s["model"]["tuned_from"] == "rooms" and s["state"]["explicit_latent"]
    assert page.evaluate("document.querySelector('#model').value") == s["model"]["id"]
    assert "tuned to your image" in page.evaluate("document.querySelector('#model').selectedOptions[0].textContent")
    link = page.locator("#download-generator")
    assert link.is_visible() and link.get_attribute("href").endswith("/generator")
    assert client.get(link.get_attribute("href")).status_code == 200
    page.click("#compare")
    assert page.evaluate("window.steerganEditor.view.image.naturalWidth") == 96          # the upload
    page.click("#compare")
    page.click("#undo")
    wait_for(lambda: session(page, client)["model"]["id"] == "rooms", "undo to the bundled model")
    page.wait_for_function("() => document.querySelector('#model').value === 'rooms'")     # the page follows
    assert not link.is_visible()


def test_truncation_shareable_url_and_reload_keep_the_work(page, server, tmp_path):
    """Issue 18: a ψ control; model, seed and ψ in the address bar (a shared link opens there);
    a reload keeps the edits; the method's panel comes first; arrow keys move a centre."""
    url, client = server
    page.fill("#psi", "0.6")
    page.fill("#seed", "7")
    page.click("#go")
    wait_for(lambda: session(page, client)["state"]["seed"] == 7, "seed 7")
    assert session(page, client)["state"]["truncation"] == 0.6
    page.wait_for_function("() => location.search.includes('seed=7') && location.search.includes('psi=0.6')")
    assert "model=rooms" in page.evaluate("location.search")
    # the method's own panel above the drag panel
    assert page.locator("section[data-panel=heatmaps]").bounding_box()["y"] < \
        page.locator("section[data-panel=drag]").bounding_box()["y"]
    # keyboard: focus the image, select centre 0 (the default), move it 3 px right (keys pressed
    # while a reply is on its way are tested below)
    page_shows(page, session(page, client)["version"])
    before = session(page, client)["state"]["centres"][0]["xy"]
    page.focus("#view")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'view'")   # keys land
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_for(lambda: session(page, client)["state"]["centres"][0]["xy"][0] > before[0] + 0.08, "the centre to move")
    edited = image(page, client)
    page.evaluate("() => new Promise(r => setTimeout(r, 700))")          # the tab stores the edit state
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    wait_for(lambda: torch.equal(image(page, client), edited), "the edits after a reload")
    assert session(page, client)["state"]["truncation"] == 0.6
    # a shared link: another page opens the same model, seed and ψ
    other = page.context.new_page()
    other.goto(url + "/?model=rooms&seed=12&psi=0.8")
    other.wait_for_selector("body[data-ready='1']", timeout=30_000)
    s = client.get(f"/api/sessions/{other.evaluate('document.body.dataset.session')}").json()
    assert s["state"]["seed"] == 12 and s["state"]["truncation"] == 0.8 and s["model"]["id"] == "rooms"
    other.close()


def test_keys_pressed_while_replies_are_on_their_way_move_the_state_they_land_on(page, server):
    """Arrow keys pressed while a seed change and earlier key moves are still on their way (each
    request held 0.4 s in the page) move the new seed's centre, by every step pressed: a key must
    never act on the picture it replaced, nor overwrite a step not yet sent."""
    _, client = server
    now = session(page, client)
    page_shows(page, now["version"])
    R = now["model"]["resolution"]
    fresh = client.post("/api/sessions", json={"model": now["model"]["id"], "seed": 9,
                                               "truncation": now["state"]["truncation"]}).json()
    target = fresh["state"]["centres"][0]["xy"]
    client.delete(f"/api/sessions/{fresh['id']}")
    assert target != now["state"]["centres"][0]["xy"]
    page.evaluate("""() => {
      const f = window.fetch;
      window.fetch = (u, o) => /\\/(seed|ops)$/.test(String(u)) ? new Promise(r => setTimeout(r, 400)).then(() => f(u, o)) : f(u, o);
    }""")
    page.fill("#seed", "9")
    page.click("#go")
    page.focus("#view")
    for key in ("ArrowRight",) * 3 + ("ArrowDown",) * 2:
        page.keyboard.press(key)
    want = [target[0] + 3 * 2 / R, target[1] + 2 * 2 / R]
    done = lambda: (s := session(page, client))["state"]["seed"] == 9 and \
        np.allclose(s["state"]["centres"][0]["xy"], want, atol=1e-5)
    wait_for(done, "seed 9's centre moved 3 px right and 2 down")
    page.evaluate("() => new Promise(r => setTimeout(r, 1000))")          # nothing more arrives
    assert done(), session(page, client)["state"]["centres"][0]


def test_large_image_and_its_download(page, server, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.wait_for_function("() => document.querySelector('#view').getBoundingClientRect().width >= 768")
    with page.expect_download() as d:
        page.click("#download-large")
    path = tmp_path / "large.png"
    d.value.save_as(path)
    assert Image.open(path).size == (768, 768)
    page.check("#smooth")
    assert page.evaluate("getComputedStyle(document.querySelector('#view')).imageRendering") == "auto"


def test_advanced_drag_options_reach_the_drag(page, server):
    """Issue 18: the drag options a researcher tunes, behind an 'advanced' disclosure, prefilled
    with DragOptions' defaults; a changed one is sent with the drag."""
    from steergan.edit.drag import DragOptions
    _, client = server
    page.click("#drag-advanced summary")
    assert float(page.input_value('#drag-advanced-fields input[name="r2"]')) == DragOptions().r2
    page.fill('#drag-advanced-fields input[name="tolerance"]', "3")
    page.check('input[name="tool"][value="points"]')
    page.mouse.click(*canvas_point(page, [-0.3, 0.3]))
    page.mouse.click(*canvas_point(page, [-0.1, 0.3]))
    page.fill("#drag-steps", "2")
    with page.expect_request(lambda r: r.url.endswith("/drag") and r.method == "POST") as req:
        page.click("#drag-run")
    sent = req.value.post_data_json["options"]
    assert sent["tolerance"] == 3 and "r2" not in sent and sent["max_steps"] == 2
    page.wait_for_function("() => !document.querySelector('#drag-run').disabled", timeout=30_000)
