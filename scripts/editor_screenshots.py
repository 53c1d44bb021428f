"""Screenshots of the editor for the docs (headless Chromium through Playwright, as the tests).

    .venv/bin/python scripts/editor_screenshots.py     # writes docs/editor-1280.png and docs/editor-390.png

The bundled default model at seed 3, a drag handle -> target pair placed, at 1280x800 and 390x844.
"""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from steergan.ui import create_app

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(uvicorn.Config(create_app(allowed_hosts=["127.0.0.1"]), log_level="warning"))
    threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/?seed=3"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        for (w, h), name in (((1280, 800), "editor-1280.png"), ((390, 844), "editor-390.png")):
            page = b.new_page(viewport={"width": w, "height": h})
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            page.check('input[name="tool"][value="points"]')
            box = page.locator("#view").bounding_box()
            for fx, fy in ((0.3, 0.62), (0.55, 0.7)):
                page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            page.evaluate("() => new Promise(r => setTimeout(r, 300))")
            page.screenshot(path=str(ROOT / "docs" / name))
            page.close()
        b.close()
    srv.should_exit = True


if __name__ == "__main__":
    main()
