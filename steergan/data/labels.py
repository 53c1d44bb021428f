"""Label maps (semantic masks) paired with a dataset's images, and their class lists.

A label map is a single-channel PNG of class ids (mode L, P or I), one per image, the
way CelebAMask-HQ's label PNGs are prepared for SemanticStyleGAN and the way
``steergan data make`` writes ``semantic/``. It is cropped and resized exactly like its
image (centre square, then nearest neighbour, so ids are never blended). The class list
is a text file with one name per line, or a JSON list; line ``k`` names id ``k``.

Every problem names the file: a missing label map, one whose size differs from its
image's, one with more than one channel, or one holding ids beyond the class list.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from ..errors import UserError
from .imageio import UNREADABLE, open_image

LABEL_MODES = ("L", "P", "I", "I;16")


def read_class_list(source) -> list[str]:
    """A list of names, a ``.json`` file holding one, or a text file with one name per line."""
    if isinstance(source, (list, tuple)):
        names = [str(c) for c in source]
    else:
        path = Path(source)
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise UserError(f"class list {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"class list {path} is unreadable ({e})") from None
        if path.suffix.lower() == ".json":
            try:
                names = json.loads(text)
            except json.JSONDecodeError as e:
                raise UserError(f"class list {path} is not valid JSON ({e})") from None
            if not isinstance(names, list) or not all(isinstance(c, str) for c in names):
                raise UserError(f"class list {path} must be a JSON list of names")
        else:
            names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(names) < 2:
        raise UserError(f"a class list needs at least 2 classes, got {names!r}")
    if len(set(names)) != len(names):
        raise UserError(f"class list has repeated names: {names!r}")
    return names


def _square_nearest(label: Image.Image, resolution: int) -> np.ndarray:
    w, h = label.size
    s = min(w, h)
    label = label.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    if s != resolution:
        label = label.resize((resolution, resolution), Image.NEAREST)
    return np.asarray(label)


def read_label_map(path: Path, image_size: tuple[int, int], resolution: int, num_classes: int) -> np.ndarray:
    """One label PNG -> uint8 [R, R] class ids, checked against its image and the class list."""
    try:
        with open_image(path) as label:
            label.load()
            if label.mode not in LABEL_MODES:
                raise UserError(f"label map {path} has mode {label.mode}: expected a single-channel "
                                f"PNG of class ids (mode L or P)")
            if label.size != tuple(image_size):
                raise UserError(f"label map {path} is {label.size[0]}x{label.size[1]} but its image is "
                                f"{image_size[0]}x{image_size[1]}")
            ids = _square_nearest(label, resolution)
    except FileNotFoundError:
        raise UserError(f"label map {path} is missing") from None
    except UNREADABLE as e:
        raise UserError(f"label map {path} is unreadable ({e})") from None
    top = int(ids.max())
    if top >= num_classes:
        raise UserError(f"label map {path} holds class id {top}, but the class list has only "
                        f"{num_classes} classes (ids 0..{num_classes - 1})")
    return ids.astype(np.uint8)


def read_label_maps(paths: Sequence[Path], image_sizes: Sequence[tuple[int, int]], resolution: int,
                    num_classes: int, threads: int = 2) -> np.ndarray:
    """uint8 [N, R, R] for every image, in order."""
    if num_classes > 256:
        raise UserError(f"at most 256 classes are supported, got {num_classes}")
    jobs = list(zip(paths, image_sizes))
    with ThreadPoolExecutor(max(1, threads)) as pool:
        maps = list(pool.map(lambda j: read_label_map(j[0], j[1], resolution, num_classes), jobs))
    return np.stack(maps) if maps else np.empty((0, resolution, resolution), np.uint8)
