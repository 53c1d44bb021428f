"""Data: image folders/zips, procedural scenes with ground truth, the emoji importer."""
from .folder import ImageDataset, info
from .scenes import SCENE_KINDS, classes, make_dataset, render

__all__ = ["ImageDataset", "info", "SCENE_KINDS", "classes", "make_dataset", "render"]
