"""Procedural scenes with ground truth (semantic + instance masks, object boxes and centres).

``rooms``: multi-object indoor scenes; ``creatures``: one head with hierarchical parts;
``blocks``: primary-coloured shapes on a grey wall and floor (a kind no default was tuned on).
Image ``i`` of a dataset depends only on ``(seed, i)``, at any resolution.
"""
from __future__ import annotations

from ...errors import UserError
from . import blocks, creatures, rooms
from .sample import SceneSample
from .writer import make_dataset

SCENE_KINDS = {"rooms": rooms.render_rooms, "creatures": creatures.render_creatures, "blocks": blocks.render_blocks}
_CLASSES = {"rooms": rooms.CLASSES, "creatures": creatures.CLASSES, "blocks": blocks.CLASSES}


def render(kind: str, index: int, resolution: int = 64, seed: int = 0) -> SceneSample:
    if kind not in SCENE_KINDS:
        raise UserError(f"unknown scene kind {kind!r}; choose one of {', '.join(SCENE_KINDS)}")
    return SCENE_KINDS[kind](index, resolution, seed)


def classes(kind: str) -> list[str]:
    return list(_CLASSES[kind])


__all__ = ["SCENE_KINDS", "SceneSample", "classes", "make_dataset", "render"]
