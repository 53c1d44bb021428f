"""Untrained 16 px generator files for tests that need a model on disk (fast, deterministic)."""
import torch

from steergan import checkpoint as ckpt_io
from steergan.methods import build_method
from steergan.nn import get_preset

ARCH = get_preset("test")                 # 16 px


def generator_file(path, method_name, options=None):
    torch.manual_seed(0)
    method = build_method(method_name, options)
    G = method.build_generator(ARCH)
    cfg = ckpt_io.base_config("generator", ARCH.to_dict(), method.to_dict())
    return ckpt_io.save_generator_file(path, cfg, G.state_dict(), fp16=False)
