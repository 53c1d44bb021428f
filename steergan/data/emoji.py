"""Real data: emoji images from the npm packages ``emoji-datasource-<vendor>``.

Each package holds ~3,700 64x64 PNGs in ``img/<vendor>/64/`` and ``emoji.json`` with
their categories. Without ``source`` the package is fetched with ``npm pack`` (the npm
registry); tests and offline users pass an extracted package or its .tgz.

Every image comes with an instance map (``instances/``: 1 where the emoji's alpha is at
least half, 0 elsewhere), so methods that learn from object layouts (SpatialGAN's paired
discriminator) can train on emoji. ``placement="random"`` pastes each emoji ``copies`` times
at a random size (``scale`` of the canvas side) and position on a plain canvas: the native
images are all centred and full-size, so a model trained on them has no layout to steer.
That is a compositing of real emoji, not a photograph of them; the dataset JSON records it.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from ..errors import UserError
from .imageio import UNREADABLE, open_image
from .folder import square_resize, to_rgb

VENDORS = ("google", "apple", "twitter", "facebook")
GENERATOR = "steergan.data.emoji"
PLACEMENTS = ("centre", "random")
ALPHA_OBJECT = 128          # alpha >= this is the emoji in the instance map


MAX_COPIES = 1000           # placements per emoji: ~3.7 million images at most


def read_entries(meta: Path, vendor: str) -> list[dict]:
    """``emoji.json``: a list of objects whose ``image`` is a plain file name (no path: the
    package must not make us read outside its image folder) and whose ``category`` is text.
    Anything else is a malformed package, refused in one line."""
    try:
        entries = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:     # JSONDecodeError is a ValueError
        raise UserError(f"{meta} is not readable JSON ({e})") from None
    if not isinstance(entries, list):
        raise UserError(f"{meta} must hold a JSON list of emoji, not {type(entries).__name__}")
    for i, e in enumerate(entries):
        where = f"{meta} entry {i}"
        if not isinstance(e, dict):
            raise UserError(f"{where} is {type(e).__name__}, not an object")
        image = e.get("image", "")
        if not isinstance(image, str) or (image and (Path(image).name != image or image in (".", ".."))):
            raise UserError(f"{where}: 'image' must be a file name, got {image!r}")
        if e.get("category") is not None and not isinstance(e["category"], str):
            raise UserError(f"{where}: 'category' must be text, got {e['category']!r}")
        flag = e.get(f"has_img_{vendor}", True)
        if not isinstance(flag, bool):
            raise UserError(f"{where}: 'has_img_{vendor}' must be true or false, got {flag!r}")
    return entries


def _placed(img: Image.Image, resolution: int, placement: str, scale: tuple[float, float],
            rng: random.Random) -> Image.Image:
    """RGBA emoji -> RGBA canvas of ``resolution`` with the emoji centred (full size) or placed."""
    rgba = square_resize(img.convert("RGBA"), resolution)
    if placement == "centre":
        return rgba
    size = max(4, round(rng.uniform(*scale) * resolution))
    small = rgba.resize((size, size), Image.BOX)     # area average: no ringing halo in alpha
    canvas = Image.new("RGBA", (resolution, resolution), (0, 0, 0, 0))
    canvas.alpha_composite(small, (rng.randint(0, resolution - size), rng.randint(0, resolution - size)))
    return canvas


MAX_MEMBER_BYTES = 64 << 20        # one file of the package (emoji.json is ~2 MB, an image ~5 kB)
MAX_PACKAGE_BYTES = 2 << 30        # all of it unpacked (the google package: ~80 MB)


def _safe_extract(tgz: Path, dest: Path) -> Path:
    """Extract an npm tarball, refusing links, paths that escape ``dest`` and sizes past the limits
    (a tarball of a few kB can claim terabytes)."""
    dest = dest.resolve()
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            total = 0
            for m in tar.getmembers():
                target = (dest / m.name).resolve()
                if not str(target).startswith(str(dest) + os.sep) or m.issym() or m.islnk():
                    raise UserError(f"{tgz} contains an unsafe path {m.name!r}; refusing to extract")
                total += m.size
                if m.size > MAX_MEMBER_BYTES or total > MAX_PACKAGE_BYTES:
                    raise UserError(f"{tgz}: {m.name!r} makes the package larger than steergan unpacks "
                                    f"({MAX_MEMBER_BYTES >> 20} MB a file, {MAX_PACKAGE_BYTES >> 30} GB in all)")
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
                 subcategory: Optional[str] = None,
                 resolution: int = 64, background=(255, 255, 255), placement: str = "centre",
                 copies: int = 1, scale: tuple[float, float] = (0.45, 0.8), seed: int = 0) -> dict:
    if vendor not in VENDORS:
        raise UserError(f"unknown vendor {vendor!r}; choose one of {', '.join(VENDORS)}")
    if placement not in PLACEMENTS:
        raise UserError(f"unknown placement {placement!r}; choose one of {', '.join(PLACEMENTS)}")
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise UserError(f"copies must be a positive integer, got {copies!r}")
    if placement == "centre" and copies != 1:
        raise UserError("copies > 1 only makes sense with placement 'random' (centred copies are identical)")
    if copies > MAX_COPIES:
        raise UserError(f"copies must be at most {MAX_COPIES}, got {copies}")
    if not 0.05 <= scale[0] <= scale[1] <= 1:
        raise UserError(f"scale must satisfy 0.05 <= min <= max <= 1, got {scale}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 8 <= resolution <= 1024:
        raise UserError(f"resolution must be an integer in 8..1024, got {resolution!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a directory; choose a new --out")
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
        entries = read_entries(meta, vendor)
        cats = sorted({e.get("category") for e in entries if e.get("category")})
        if category is not None and category not in cats:
            raise UserError(f"unknown category {category!r}; categories: {', '.join(cats)}")
        chosen = [e for e in entries if e.get(f"has_img_{vendor}", True)
                  and (category is None or e.get("category") == category)
                  and (subcategory is None or str(e.get("subcategory") or "").startswith(subcategory))
                  and (img_dir / e.get("image", "")).is_file()]
        if not chosen:
            raise UserError(f"no {vendor} images for category {category!r}"
                            + (f" and subcategory {subcategory!r}*" if subcategory else ""))
        created = not out.exists()
        for sub in ("images", "instances"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        n = 0
        for k, e in enumerate(chosen):
            try:
                with open_image(img_dir / e["image"]) as img:
                    img.load()
                    src = img.copy()
            except UNREADABLE:
                continue
            for c in range(copies):
                rgba = _placed(src, resolution, placement, scale, random.Random(f"{seed}/{k}/{c}"))
                to_rgb(rgba, background).save(out / "images" / f"{n:08d}.png")
                mask = (np.asarray(rgba)[..., 3] >= ALPHA_OBJECT).astype(np.uint8)
                Image.fromarray(mask).save(out / "instances" / f"{n:08d}.png")
                n += 1
        if n == 0:                     # every image unreadable: no empty dataset left behind
            for sub in ("images", "instances"):
                shutil.rmtree(out / sub, ignore_errors=True)
            if created:
                shutil.rmtree(out, ignore_errors=True)
            raise UserError(f"none of the {len(chosen)} {vendor} images in {img_dir} could be read")
    info = {"kind": "emoji", "vendor": vendor, "category": category, "n": n, "resolution": resolution,
            **({"subcategory": subcategory} if subcategory else {}),
            "classes": None, "generator": GENERATOR, "instances": "instances", "placement": placement,
            "copies": copies, **({"scale": list(scale), "seed": seed} if placement == "random" else {})}
    tmpmeta = out / "dataset.json.tmp"
    tmpmeta.write_text(json.dumps(info, indent=2))
    os.replace(tmpmeta, out / "dataset.json")
    return info
