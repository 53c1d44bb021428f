"""A small semantic segmentation network and its file format (images -> class maps).

Lives in ``nn`` because both a training method (LinkGAN's semantic links need a class map
of every generated image) and the metrics (Co-move Ratio) use it, and methods may not import
metrics. ``metrics.segmenter.SceneSegmenter`` adds instances, training and evaluation on top.

File: safetensors weights (fp16) + JSON metadata under ``META_KEY`` (format, version, kind,
class names, background classes, resolution, arch). Never pickle.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError

FORMAT = "steergan-segmenter"
VERSION = 1
META_KEY = "steergan_segmenter"
ASSETS = Path(__file__).resolve().parent.parent / "assets"
BUNDLED = ("rooms", "creatures")     # scene kinds that may have a bundled ``segmenter_<kind>.safetensors``


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinyUNet(nn.Module):
    """Four-scale U-Net (64 -> 32 -> 16 -> 8 px at 64 px input); ~0.2M parameters at width 16."""

    def __init__(self, num_classes: int, width: int = 16):
        super().__init__()
        w = width
        self.stem = _block(3, w)                                              # 1/1
        self.down1 = nn.Sequential(_block(w, 2 * w, 2), _block(2 * w, 2 * w))  # 1/2
        self.down2 = nn.Sequential(_block(2 * w, 4 * w, 2), _block(4 * w, 4 * w))  # 1/4
        self.down3 = nn.Sequential(_block(4 * w, 4 * w, 2), _block(4 * w, 4 * w))  # 1/8
        self.up2 = _block(8 * w, 2 * w)                                      # light decoder:
        self.up1 = _block(4 * w, w)                                          # each stage halves
        self.up0 = _block(2 * w, w)
        self.head = nn.Conv2d(w, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_all(x)["logits"]

    def forward_all(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The logits and the encoder's 1/4 and 1/8 maps (what ``fd_seg`` summarises)."""
        s0 = self.stem(x)
        s1 = self.down1(s0)
        s2 = self.down2(s1)
        b = self.down3(s2)
        up = lambda t, ref: F.interpolate(t, size=ref.shape[-2:], mode="bilinear", align_corners=False)  # noqa: E731
        y = self.up2(torch.cat([up(b, s2), s2], 1))
        y = self.up1(torch.cat([up(y, s1), s1], 1))
        y = self.up0(torch.cat([up(y, s0), s0], 1))
        return {"quarter": s2, "eighth": b, "logits": self.head(y)}


def segnet_path(path=None) -> Path:
    """``None`` -> the bundled rooms segmenter; a bundled kind name -> its file; else the path."""
    if path is None or str(path) in BUNDLED and not Path(str(path)).exists():
        path = ASSETS / f"segmenter_{path or 'rooms'}.safetensors"
    return Path(path)


def read_segnet(path=None) -> tuple[TinyUNet, dict]:
    """(network in eval mode, metadata) from a segmenter file (see ``segnet_path``)."""
    path = segnet_path(path)
    if not path.is_file():
        raise UserError(f"segmenter file {path} does not exist")
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(META_KEY)
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path} is not a readable safetensors file ({e})") from None
    if raw is None:
        raise UserError(f"{path} is not a steergan segmenter (no {META_KEY} metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise UserError(f"{path} has corrupt segmenter metadata") from None
    if meta.get("format") != FORMAT:
        raise UserError(f"{path} is not a steergan segmenter")
    if meta.get("version", 0) > VERSION:
        raise UserError(f"{path} was written by a newer steergan")
    arch = meta.get("arch", {})
    net = TinyUNet(len(meta["classes"]), int(arch.get("width", 16)))
    try:
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()})
    except RuntimeError as e:
        raise UserError(f"{path} does not match the TinyUNet architecture ({e})") from None
    return net.eval().requires_grad_(False), meta


def class_log_probs(net: nn.Module, images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Per-class log-probabilities [N, C, H, W] of a frozen segmenter at the images' size,
    differentiable w.r.t. the images (the alignment and consistency losses train through it)."""
    size = tuple(images.shape[-2:])
    x = images.float()
    if size != (resolution, resolution):
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
    logp = net(x).log_softmax(1)
    if size != (resolution, resolution):
        logp = F.interpolate(logp, size=size, mode="bilinear", align_corners=False)
    return logp


class ClassMapNet(nn.Module):
    """Float images [N, 3, H, W] in [-1, 1] -> class ids long [N, H, W] (argmax of the logits).

    Images are resized to the network's resolution and the logits back, so any image size works.
    ``classes`` names the ids. Frozen: it labels generated images, it is never trained here.
    """

    def __init__(self, net: nn.Module, classes: Sequence[str], resolution: int = 64):
        super().__init__()
        self.net = net.eval().requires_grad_(False)
        self.classes = list(classes)
        self.resolution = int(resolution)

    @classmethod
    def load(cls, path: Optional[str] = None) -> "ClassMapNet":
        net, meta = read_segnet(path)
        return cls(net, meta["classes"], meta.get("resolution", 64))

    def train(self, mode: bool = True) -> "ClassMapNet":
        return super().train(False)      # BatchNorm stays in inference mode whatever the caller does

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        size = images.shape[-2:]
        x = images.detach().float().clamp(-1, 1).contiguous()
        if tuple(size) != (self.resolution, self.resolution):
            x = F.interpolate(x, size=(self.resolution, self.resolution), mode="bilinear",
                              align_corners=False, antialias=True)
        logits = self.net(x)
        if tuple(size) != (self.resolution, self.resolution):
            logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        return logits.argmax(1)
