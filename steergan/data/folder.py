"""Image folders and zips as a training set: decoded once, cached in memory as uint8.

Accepts PNG/JPEG/WebP (recursively), composites transparency on a background colour,
centre-crops to a square and resizes to the training resolution. Files that cannot be
decoded are skipped with one warning that counts them; a missing or empty source is a
``UserError``. A steergan scene dataset (``dataset.json`` from ``steergan data make``)
contributes its ``images/`` only, and exposes masks and object JSON per index.
"""
from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from PIL import Image

from ..errors import UserError
from .imageio import UNREADABLE, ImageTooLarge, open_image

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
MAX_FILE_BYTES = 64 << 20      # one image file (or zip member) of a dataset; larger ones are skipped
SCENE_GENERATOR = "steergan.data.scenes"
EMOJI_GENERATOR = "steergan.data.emoji"


def to_rgb(img: Image.Image, background=(255, 255, 255)) -> Image.Image:
    """Any PIL mode -> RGB; transparent pixels show ``background``."""
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        img = img.convert("RGBA")
        canvas = Image.new("RGBA", img.size, tuple(background) + (255,))
        canvas.alpha_composite(img)
        return canvas.convert("RGB")
    return img.convert("RGB")


def square_resize(img: Image.Image, resolution: int) -> Image.Image:
    w, h = img.size
    s = min(w, h)
    img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    if s != resolution:
        img = img.resize((resolution, resolution), Image.LANCZOS if s > resolution else Image.BICUBIC)
    return img


def read_square(source, resolution: int, label: Optional[str] = None) -> torch.Tensor:
    """One image people hand us (a path or the file's bytes; PNG/JPEG/WebP in any mode: grey,
    RGBA, palette, 16-bit; any aspect) -> uint8 [3, R, R], centre-cropped and resized. Any failure
    is one ``UserError`` naming ``label`` (default: "image PATH", or "the uploaded image")."""
    name = label or (f"image {source}" if isinstance(source, (str, Path)) else "the uploaded image")
    try:
        with open_image(source) as img:
            img.load()
            if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
                # 16/32-bit grey: Pillow's RGB conversion clips instead of scaling; keep the top byte
                arr = np.asarray(img, dtype=np.int64)
                top = 65535 if img.mode.startswith("I;16") or arr.max() > 255 else 255
                img = Image.fromarray((np.clip(arr, 0, top) * 255 // top).astype(np.uint8), "L")
            rgb = square_resize(to_rgb(img), resolution)
    except FileNotFoundError:
        raise UserError(f"{name} does not exist") from None
    except IsADirectoryError:
        raise UserError(f"{name} is a directory") from None
    except UNREADABLE as e:
        raise UserError(f"{name} is not a readable image ({e})") from None
    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).contiguous()


class _Source:
    """Lists and reads image files from a directory or a zip."""

    def __init__(self, path: Path):
        self.path = path
        self.zip: Optional[zipfile.ZipFile] = None
        self.scene_meta: Optional[dict] = None
        self.instance_dir: Optional[Path] = None     # instance maps of an imported (emoji) dataset
        if not path.exists():
            raise UserError(f"dataset path {path} does not exist")
        if path.is_file():
            if not zipfile.is_zipfile(path):
                raise UserError(f"{path} is neither a directory nor a .zip of images")
            self.zip = zipfile.ZipFile(path)
            self.names = sorted(n for n in self.zip.namelist() if n.lower().endswith(EXTENSIONS)
                                and not n.startswith("__MACOSX/"))
            self.sizes = [self.zip.getinfo(n).file_size for n in self.names]
        else:
            root = path
            meta = path / "dataset.json"
            if meta.is_file():
                try:
                    m = json.loads(meta.read_text())
                except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                    m = {}
                if not isinstance(m, dict):        # not ours: read the folder as plain images
                    m = {}
                if m.get("generator") == SCENE_GENERATOR:
                    self.scene_meta = m
                    root = path / "images"
                elif m.get("generator") == EMOJI_GENERATOR:
                    root = path / "images"          # instances/ beside it are labels, not images
                    if isinstance(m.get("instances"), str) and m["instances"] and (path / m["instances"]).is_dir():
                        self.instance_dir = path / m["instances"]
            files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
            self.names = [str(p.relative_to(path)) for p in files]
            self.sizes = [p.stat().st_size for p in files]
        if not self.names:
            raise UserError(f"no PNG/JPEG/WebP images found in {path}")

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            # a zip member that inflates past the limit is skipped like an unreadable file, before
            # it is decompressed (a zip bomb: kilobytes that claim gigabytes)
            if self.zip.getinfo(name).file_size > MAX_FILE_BYTES:
                raise ImageTooLarge(f"{name} inflates to more than {MAX_FILE_BYTES >> 20} MB")
            return self.zip.read(name)
        path = self.path / name
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImageTooLarge(f"{name} is larger than {MAX_FILE_BYTES >> 20} MB")
        return path.read_bytes()


def _decode(data: bytes, resolution: int, background) -> tuple[np.ndarray, tuple[int, int]]:
    """(uint8 [R, R, 3], the file's own size (w, h))."""
    with open_image(data) as img:
        img.load()
        return np.asarray(square_resize(to_rgb(img, background), resolution)), img.size


class ImageDataset(torch.utils.data.Dataset):
    """uint8 [3, R, R] tensors; ``images`` holds them all as one [N, 3, R, R] tensor."""

    def __init__(self, path, resolution: int, background=(255, 255, 255), max_images: Optional[int] = None,
                 xflip: bool = False, threads: int = 2, masks=None, classes=None):
        """``masks``: a folder of label PNGs paired with the images by relative path (``a/b.jpg``
        -> ``masks/a/b.png``) and ``classes`` their class list (file or list); see ``labels``.
        Scene datasets bring both (``semantic/``, ``dataset.json``). Read by ``load_masks``."""
        self.path = Path(path)
        self.mask_dir = Path(masks) if masks is not None else None
        self.class_source = classes
        self.threads = threads
        self.resolution = int(resolution)
        src = _Source(self.path)
        names, sizes = src.names, src.sizes
        if max_images is not None:
            names, sizes = names[:max_images], sizes[:max_images]
        self.scene_meta = src.scene_meta
        self.instance_dir = src.instance_dir

        def load(name):
            try:
                return _decode(src.read(name), self.resolution, background)
            except UNREADABLE:
                return None

        if src.zip is not None:  # zipfile handles are not thread-safe
            arrays = [load(n) for n in names]
        else:
            with ThreadPoolExecutor(max(1, threads)) as pool:
                arrays = list(pool.map(load, names))
        bad = [n for n, a in zip(names, arrays) if a is None]
        keep = [(n, s, a) for n, s, a in zip(names, sizes, arrays) if a is not None]
        if not keep:          # the error alone (no warning line before it)
            raise UserError(f"none of the {len(names)} image files in {self.path} could be read")
        if bad:
            shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
            warnings.warn(f"skipped {len(bad)} of {len(names)} files that could not be read: {shown}",
                          stacklevel=2)
        self.names = [n for n, _, _ in keep]
        self.skipped = len(bad)
        self.images = torch.from_numpy(np.stack([a for _, _, (a, _) in keep])).permute(0, 3, 1, 2).contiguous()
        self.image_sizes = [size for _, _, (_, size) in keep]
        self.xflip = xflip
        h = hashlib.sha256(f"res={self.resolution};bg={tuple(background)}".encode())
        for n, s, _ in keep:
            h.update(f"{n}:{s};".encode())
        if self.scene_meta:
            h.update(json.dumps(self.scene_meta, sort_keys=True).encode())
        self.fingerprint = h.hexdigest()[:16]
        self._objects: Optional[list] = None
        self._masks: dict[str, tuple] = {}

    def __len__(self) -> int:
        return len(self.images) * (2 if self.xflip else 1)

    def __getitem__(self, i: int) -> torch.Tensor:
        n = len(self.images)
        img = self.images[i % n]
        return img.flip(-1) if i >= n else img

    # -- ground truth of scene datasets -------------------------------------------------
    @property
    def classes(self) -> Optional[list]:
        return self.scene_meta.get("classes") if self.scene_meta else None

    def load_masks(self, kind: str = "semantic") -> tuple[torch.Tensor, list[str]]:
        """(label maps uint8 [N, R, R] aligned with ``images``, class names); read once per kind.

        ``kind="semantic"``: class-id maps and their names. ``kind="instances"``: instance-id
        maps (0 = no object, 1..K the objects; scene and emoji datasets' ``instances/``, or
        the --masks folder) and no names."""
        if kind not in ("semantic", "instances"):
            raise ValueError(f"unknown mask kind {kind!r}")
        if kind not in self._masks:
            from .labels import read_class_list, read_label_maps
            semantic = kind == "semantic"
            if semantic and self.mask_dir is not None and self.class_source is None:
                raise UserError("label maps need their class list (--classes FILE: one name per line)")
            if self.mask_dir is not None:
                paths = [self.mask_dir / Path(n).with_suffix(".png") for n in self.names]
            elif self.scene_meta:
                paths = [self.path / kind / Path(n).name for n in self.names]
            elif not semantic and self.instance_dir is not None:
                paths = [self.instance_dir / Path(n).name for n in self.names]
            elif semantic:
                raise UserError(f"{self.path} has no label maps: pass a folder of label PNGs "
                                f"(--masks DIR) and the class list (--classes FILE)")
            else:
                raise UserError(f"{self.path} has no instance maps: pass a folder of instance-id PNGs "
                                f"(--masks DIR; 0 = no object, 1..K the objects)")
            names: list[str] = []
            if semantic:
                names = read_class_list(self.class_source if self.class_source is not None
                                        else self.scene_meta["classes"])
            maps = read_label_maps(paths, self.image_sizes, self.resolution, len(names) if semantic else 256,
                                   self.threads)
            self._masks[kind] = (torch.from_numpy(maps), names)
        return self._masks[kind]

    def _mask(self, kind: str, i: int) -> np.ndarray:
        if not self.scene_meta:
            raise UserError(f"{self.path} is not a scene dataset: it has no {kind} masks")
        name = Path(self.names[i]).name
        with open_image(self.path / kind / name) as m:
            return np.asarray(m)

    def semantic(self, i: int) -> np.ndarray:
        return self._mask("semantic", i)

    def instances(self, i: int) -> np.ndarray:
        return self._mask("instances", i)

    def objects(self, i: int) -> list:
        if not self.scene_meta:
            raise UserError(f"{self.path} is not a scene dataset: it has no object JSON")
        if self._objects is None:
            by_file = {}
            with open(self.path / "objects.jsonl") as f:
                for line in f:
                    rec = json.loads(line)
                    by_file[rec["file"]] = rec["objects"]
            self._objects = [by_file.get(n, []) for n in self.names]
        return self._objects[i]


def info(path) -> dict:
    """Cheap facts about a dataset without decoding every image."""
    src = _Source(Path(path))
    sizes = {}
    for name in src.names[:64]:
        try:
            with open_image(src.read(name)) as img:
                sizes[f"{img.size[0]}x{img.size[1]}"] = sizes.get(f"{img.size[0]}x{img.size[1]}", 0) + 1
        except UNREADABLE:
            sizes["unreadable"] = sizes.get("unreadable", 0) + 1
    kind = (src.scene_meta or {}).get("kind") or ("zip" if src.zip else "folder")
    h = hashlib.sha256()
    for n, s in zip(src.names, src.sizes):
        h.update(f"{n}:{s};".encode())
    return {"path": str(path), "kind": kind, "count": len(src.names),
            "sizes_in_first_64": sizes, "classes": (src.scene_meta or {}).get("classes"),
            "files_fingerprint": h.hexdigest()[:16]}
