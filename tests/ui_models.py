"""Tiny random generator files for the editor tests (16 px ``test`` preset; written once per run)."""
from pathlib import Path

import torch

from steergan import checkpoint as ckpt_io
from steergan.methods import build_method
from steergan.nn import get_preset

SEMANTIC_CLASSES = ["wall", "floor", "bed"]
LINK_BOXES = [{"region": {"box": [0.0, 0.0, 0.5, 1.0]}, "axes": 4},         # left half: w channels 0-3
              {"region": {"box": [0.5, 0.5, 1.0, 1.0]}, "axes": [8, 12]}]   # lower right quarter: 8-11
KINDS = {
    "multi": ("spatial", {"sampling": "multi", "n_objects": 3}),
    "hier": ("spatial", {"sampling": "hierarchical"}),
    "base": ("stylegan2", {}),
    "link": ("link", {"links": LINK_BOXES}),
    "link-class": ("link", {"links": [{"region": {"class": 1, "dilate": 0}, "axes": 4}]}),   # needs a segmenter
    "semantic": ("semantic", {"classes": SEMANTIC_CLASSES}),
}


def tiny_model_file(folder: Path, kind: str = "multi", resolution: int = 16) -> Path:
    """A ``kind`` generator (see ``KINDS``) with seeded random weights, as a generator file."""
    name, options = KINDS[kind]
    arch = get_preset("test", resolution=resolution)
    method = build_method(name, options)
    torch.manual_seed(0)
    G = method.build_generator(arch)
    cfg = ckpt_io.base_config("generator", arch.to_dict(), method.to_dict())
    return ckpt_io.save_generator_file(Path(folder) / f"tiny-{kind}.safetensors", cfg, G.state_dict(), fp16=False)
