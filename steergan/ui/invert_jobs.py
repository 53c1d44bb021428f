"""Open image: an uploaded picture, inverted into the session's model as a stoppable job.

The upload is a data URL of a PNG, JPEG or WebP (any mode and aspect; centre-cropped and
resized to the model's resolution by ``data.folder.read_square``, which refuses
decompression bombs). ``InversionSteps`` follows the stepped-job protocol of ``DragJob``
(``step``, ``done``, ``image``, ``state``, ``summary``), so the editor runs, polls, stops and
commits an inversion exactly like a drag: one undo step, on the session's model, W+ only
(pivotal tuning writes a generator file and stays in the CLI: ``steergan invert --pti``).
"""
from __future__ import annotations

import base64
import binascii
from typing import Optional

import torch

from ..errors import UserError

MAX_UPLOAD_BYTES = 3 * 1024 * 1024         # decoded; the request body limit (4 MB) holds the base64 text
UPLOAD_TYPES = ("image/png", "image/jpeg", "image/webp")
MAX_INVERT_STEPS = 1000


def decode_upload(data: str, resolution: int) -> torch.Tensor:
    """``data:image/...;base64,...`` -> uint8 [3, R, R]; one-line ``UserError`` otherwise."""
    if not isinstance(data, str) or not data.startswith("data:") or "," not in data:
        raise UserError("image must be a data URL (data:image/png;base64,...)")
    head, payload = data.split(",", 1)
    mime = head[5:].split(";", 1)[0].strip().lower()
    if mime not in UPLOAD_TYPES or not head.endswith(";base64"):
        raise UserError(f"image must be a base64 PNG, JPEG or WebP data URL, got {head[:40]!r}")
    if len(payload) > (MAX_UPLOAD_BYTES * 4) // 3 + 4:
        raise UserError(f"image is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UserError("image is not valid base64") from None
    from ..data.folder import read_square
    return read_square(raw, resolution)


class InversionSteps:
    """W+ projection of one image as a stepped job (see the module docstring)."""

    def __init__(self, model, image: torch.Tensor, steps: int, model_id: str):
        from ..edit.invert import Projector, initial_heatmaps
        from ..metrics.segmenter import model_instances
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_INVERT_STEPS:
            raise UserError(f"steps must be an integer in 1..{MAX_INVERT_STEPS}, got {steps!r}")
        hm = initial_heatmaps(model, model_instances(model, image)) if model.method.has_heatmaps else None
        self.model_id, self.target = model_id, image
        self.projector = Projector(model, image, steps=steps, heatmaps=hm)

    @property
    def done(self) -> bool:
        return self.projector.done

    def step(self) -> dict:
        h = self.projector.step()
        return {"step": h["step"], "done": self.done, "handles": [], "distance": None,
                "psnr": round(h["psnr"], 2)}

    def image(self) -> torch.Tensor:
        from ..models import to_uint8
        img = self.projector.image
        return self.target if img is None else to_uint8(img)[0]

    def state(self):
        from ..edit.invert import inversion_state
        r = self.projector.result()
        return inversion_state(self.model_id, r.ws, r.control)

    def summary(self) -> dict:
        last: Optional[dict] = self.projector.history[-1] if self.projector.history else None
        return {"outcome": "inverted", "psnr": None if last is None else round(last["psnr"], 2)}
