"""Editor latency through the real HTTP server: centre-drag round trips, one and several clients.

    python bench/ui_latency.py [--model rooms] [--moves 200] [--clients 4] \
        [--json bench/results/ui_latency.json] [--browser] [--screenshot bench/results/editor.png]

Starts ``steergan ui`` in a subprocess (so the client does not share the server's interpreter),
then measures
* round trip: POST a ``set_centre`` op (one live-drag frame) -> JSON reply -> PNG decoded to
  pixels; p50/p95 over ``--moves`` moves of one client (after 10 warm-up moves);
* throughput: ``--clients`` clients, each with its own session, dragging at once; moves/s and
  per-move p50/p95;
* ``--browser``: the same round trip measured inside headless Chromium (fetch -> image decoded
  -> drawn on a canvas), i.e. request -> new image in the page;
* ``--screenshot``: the editor page with a drag set up, saved as PNG (Playwright + /usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import base64
import io
import math
import os
import subprocess
import sys
import threading
import time

import httpx
from PIL import Image

from _timing import percentile_ms, report

CHROMIUM = "/usr/bin/chromium"
WARMUP = 10


def start_server(model: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "steergan.cli.main", "ui", "--ckpt", model, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line}{proc.stderr.read()}")
    url = line.split("http://", 1)[1].split("/", 1)[0]
    return proc, f"http://{url}"


def decode(data_url: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))
    img.load()
    return img


def drag_moves(client: httpx.Client, sid: str, n: int, phase: float = 0.0) -> list[float]:
    """n live-drag frames of centre 0 along a sine; seconds per request -> decoded image."""
    times = []
    for i in range(n):
        xy = [0.5 * math.sin(phase + i / 10.0), 0.1]
        t0 = time.perf_counter()
        r = client.post(f"/api/sessions/{sid}/ops",
                        json={"ops": [{"op": "set_centre", "index": 0, "xy": xy}], "gesture": "bench"})
        r.raise_for_status()
        decode(r.json()["image"])
        times.append(time.perf_counter() - t0)
    return times


def new_session(client: httpx.Client, model_id: str) -> str:
    r = client.post("/api/sessions", json={"model": model_id, "seed": 0})
    r.raise_for_status()
    return r.json()["id"]


def single(url: str, model_id: str, moves: int) -> dict:
    with httpx.Client(base_url=url, timeout=60) as c:
        sid = new_session(c, model_id)
        drag_moves(c, sid, WARMUP)
        times = drag_moves(c, sid, moves)
    return {"moves": moves, "p50_ms": percentile_ms(times, 0.5), "p95_ms": percentile_ms(times, 0.95)}


def concurrent(url: str, model_id: str, clients: int, moves: int) -> dict:
    results: list[list[float]] = [[] for _ in range(clients)]
    sessions = []
    for _ in range(clients):
        with httpx.Client(base_url=url, timeout=60) as c:
            sessions.append(new_session(c, model_id))
            drag_moves(c, sessions[-1], 2)
    barrier = threading.Barrier(clients + 1)

    def work(k: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as c:
            barrier.wait()
            results[k] = drag_moves(c, sessions[k], moves, phase=k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    times = [t for r in results for t in r]
    return {"clients": clients, "moves_per_client": moves, "seconds": round(wall, 2),
            "moves_per_s": round(len(times) / wall, 1),
            "p50_ms": percentile_ms(times, 0.5), "p95_ms": percentile_ms(times, 0.95)}


PAGE_ROUND_TRIPS = """async ([n, warmup]) => {
  const sid = document.body.dataset.session, canvas = document.querySelector('#view');
  const ctx = canvas.getContext('2d'), times = [];
  for (let i = 0; i < n + warmup; i++) {
    const t0 = performance.now();
    const r = await fetch(`/api/sessions/${sid}/ops`, {method: 'POST', headers: {'content-type': 'application/json'},
      body: JSON.stringify({ops: [{op: 'set_centre', index: 0, xy: [0.5 * Math.sin(i / 10), 0.1]}], gesture: 'bench'})});
    const view = await r.json();
    const img = new Image(); img.src = view.image; await img.decode();
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return times;
}"""


def browser_pass(url: str, moves: int, screenshot: str | None) -> dict:
    from playwright.sync_api import sync_playwright
    out = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = b.new_page(viewport={"width": 1200, "height": 760})
        page.goto(url + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        if moves:
            ms = sorted(page.evaluate(PAGE_ROUND_TRIPS, [moves, WARMUP]))
            out = {"moves": moves, "p50_ms": round(ms[len(ms) // 2], 2),
                   "p95_ms": round(ms[max(0, int(0.95 * len(ms)) - 1)], 2)}
            page.reload()
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        if screenshot:
            box = page.locator("#view").bounding_box()
            page.check('input[name="tool"][value="points"]')
            page.mouse.click(box["x"] + 0.35 * box["width"], box["y"] + 0.62 * box["height"])
            page.mouse.click(box["x"] + 0.6 * box["width"], box["y"] + 0.55 * box["height"])
            page.check('input[name="tool"][value="centres"]')
            page.screenshot(path=screenshot)
        b.close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="rooms", help="bundled name or checkpoint the server offers")
    ap.add_argument("--moves", type=int, default=200)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--concurrent-moves", type=int, default=50, help="moves per client in the throughput run")
    ap.add_argument("--browser", action="store_true", help="also time round trips inside headless Chromium")
    ap.add_argument("--screenshot", default=None, help="save a screenshot of the editor here")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    proc, url = start_server(args.model)
    try:
        with httpx.Client(base_url=url) as c:
            model_id = c.get("/api/models").json()["default"]
        res = {"model": args.model, "server": "steergan ui (uvicorn, 1 process)",
               "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "cpu_count": os.cpu_count(),
               "round_trip": single(url, model_id, args.moves)}
        if args.clients > 1:
            res["concurrent"] = concurrent(url, model_id, args.clients, args.concurrent_moves)
        if args.browser or args.screenshot:
            page = browser_pass(url, args.moves if args.browser else 0, args.screenshot)
            if page:
                res["page_round_trip"] = page
            if args.screenshot:
                res["screenshot"] = args.screenshot
        report(res, args.json)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
