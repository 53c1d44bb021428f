"""Real data: emoji images from the npm packages ``emoji-datasource-<vendor>``.

Each package holds ~3,700 64x64 PNGs in ``img/<vendor>/64/`` and ``emoji.json`` with
their categories. Without ``source`` the package is fetched with ``npm pack`` (the npm
registry); tests and offline users pass an extracted package or its .tgz.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Optional

from PIL import Image

from ..errors import UserError
from .folder import square_resize, to_rgb

VENDORS = ("google", "apple", "twitter", "facebook")
GENERATOR = "steergan.data.emoji"


def _safe_extract(tgz: Path, dest: Path) -> Path:
    """Extract an npm tarball, refusing links and paths that escape ``dest``."""
    dest = dest.resolve()
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            for m in tar.getmembers():
                target = (dest / m.name).resolve()
                if not str(target).startswith(str(dest) + os.sep) or m.issym() or m.islnk():
                    raise UserError(f"{tgz} contains an unsafe path {m.name!r}; refusing to extract")
            tar.extractall(dest)
    except (tarfile.TarError, OSError) as e:
        raise UserError(f"{tgz} is not a readable npm package ({e})") from None
    return dest / "package" if (dest / "package").is_dir() else dest


def _fetch(vendor: str, workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise UserError("npm is not installed: install Node.js, or pass --source with the package")
    proc = subprocess.run([npm, "pack", f"emoji-datasource-{vendor}", "--silent"], cwd=workdir,
                          capture_output=True, text=True)
    tgzs = list(workdir.glob("*.tgz"))
    if proc.returncode != 0 or not tgzs:
        raise UserError(f"npm pack emoji-datasource-{vendor} failed: {proc.stderr.strip()[:200]}")
    return tgzs[0]


def import_emoji(vendor: str, out_dir, category: Optional[str] = None, source: Optional[str] = None,
                 resolution: int = 64, background=(255, 255, 255)) -> dict:
    if vendor not in VENDORS:
        raise UserError(f"unknown vendor {vendor!r}; choose one of {', '.join(VENDORS)}")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out} is not empty; choose a new --out (nothing was changed)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if source is None:
            pkg = _safe_extract(_fetch(vendor, tmp), tmp / "x")
        else:
            src = Path(source)
            if not src.exists():
                raise UserError(f"--source {src} does not exist")
            pkg = _safe_extract(src, tmp / "x") if src.is_file() else src
        meta = pkg / "emoji.json"
        img_dir = pkg / "img" / vendor / "64"
        if not meta.is_file() or not img_dir.is_dir():
            raise UserError(f"{pkg} is not an emoji-datasource-{vendor} package (no emoji.json or img/{vendor}/64)")
        entries = json.loads(meta.read_text())
        cats = sorted({e.get("category") for e in entries if e.get("category")})
        if category is not None and category not in cats:
            raise UserError(f"unknown category {category!r}; categories: {', '.join(cats)}")
        chosen = [e for e in entries if e.get(f"has_img_{vendor}", True)
                  and (category is None or e.get("category") == category)
                  and (img_dir / e.get("image", "")).is_file()]
        if not chosen:
            raise UserError(f"no {vendor} images for category {category!r}")
        (out / "images").mkdir(parents=True, exist_ok=True)
        n = 0
        for e in chosen:
            try:
                with Image.open(img_dir / e["image"]) as img:
                    img.load()
                    rgb = square_resize(to_rgb(img, background), resolution)
            except OSError:
                continue
            rgb.save(out / "images" / f"{n:08d}.png")
            n += 1
    info = {"kind": "emoji", "vendor": vendor, "category": category, "n": n, "resolution": resolution,
            "classes": None, "generator": GENERATOR}
    tmpmeta = out / "dataset.json.tmp"
    tmpmeta.write_text(json.dumps(info, indent=2))
    os.replace(tmpmeta, out / "dataset.json")
    return info
