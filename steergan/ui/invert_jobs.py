"""Open image: an uploaded picture, inverted into the session's model as a stoppable job.

The upload is a data URL of a PNG, JPEG or WebP (any mode and aspect; centre-cropped and
resized to the model's resolution by ``data.folder.read_square``, which refuses
decompression bombs). ``InversionSteps`` follows the stepped-job protocol of ``DragJob``
(``step``, ``done``, ``image``, ``state``, ``summary``), so the editor runs, polls, stops and
commits an inversion exactly like a drag: one undo step. W+ steps first (from the mean w, or from
the guess of the model's encoder when the server has one: ``steergan ui --encoder``); with ``pti_steps``
pivotal tuning follows (``edit.invert.PivotalTuner``, the CLI's ``--pti``), and ``tuned()``
then gives the generator the state must be rendered with: the app registers it as a new model
(``ModelCatalog.add_tuned``) and commits the state on that model. Stopped during the W+ steps,
the pivot so far commits on the session's model; stopped during tuning, the generator as tuned so far.
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
MAX_PTI_STEPS = 1000


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


def invert_steps(tune: bool, steps: Optional[int], pti_steps: Optional[int],
                 from_encoder: bool = False) -> tuple[int, int]:
    """(pti_steps, steps) of an Open image request; what it leaves out (None) is the library's
    default, the CLI's too: PTI_STEPS when tuning (0 otherwise), then ``default_steps`` W+ steps
    (none before tuning from an encoder's guess)."""
    from ..edit.invert import PTI_STEPS, default_steps
    if pti_steps is None:
        pti_steps = PTI_STEPS if tune else 0
    if steps is None:
        steps = default_steps(pti_steps > 0, from_encoder)
    return pti_steps, steps


class InversionSteps:
    """W+ projection of one image, then optionally pivotal tuning, as a stepped job (see the module
    docstring). Steps count on across both phases (``steps + pti_steps`` in all)."""

    def __init__(self, model, image: torch.Tensor, steps: int, model_id: str, pti_steps: int = 0, encoder=None):
        from ..edit.invert import Projector, initial_heatmaps
        from ..metrics.segmenter import model_instances
        least = 0 if encoder is not None and pti_steps else 1      # an encoder's guess can be the pivot itself
        if isinstance(steps, bool) or not isinstance(steps, int) or not least <= steps <= MAX_INVERT_STEPS:
            raise UserError(f"steps must be an integer in {least}..{MAX_INVERT_STEPS}, got {steps!r}")
        if isinstance(pti_steps, bool) or not isinstance(pti_steps, int) or not 0 <= pti_steps <= MAX_PTI_STEPS:
            raise UserError(f"pti_steps must be an integer in 0..{MAX_PTI_STEPS}, got {pti_steps!r}")
        hm = initial_heatmaps(model, model_instances(model, image)) if model.method.has_heatmaps else None
        start = None
        if encoder is not None:            # W+ and, with a style head, the objects' codes
            from ..edit.encoder import encode_start
            start, hm = encode_start(encoder, image, hm, model.G)
        self.model, self.model_id, self.target, self.pti_steps = model, model_id, image, pti_steps
        self.start = "encoder" if encoder is not None else "mean w"
        self.total_steps = steps + pti_steps
        self.projector = Projector(model, image, steps=steps, heatmaps=hm, init_ws=start)
        self.tuner = None              # made from the pivot when the W+ steps are done

    @property
    def done(self) -> bool:
        return self.projector.done and (self.pti_steps == 0 or (self.tuner is not None and self.tuner.done))

    def step(self) -> dict:
        if not self.projector.done:
            h = self.projector.step()
        else:
            if self.tuner is None:
                from ..edit.invert import PivotalTuner, pti_lr
                pivot = self.projector.result()
                self.tuner = PivotalTuner(self.model, pivot.ws, pivot.control, self.target, steps=self.pti_steps,
                                          lr=pti_lr(self.projector.steps))
            h = dict(self.tuner.step(), step=self.projector.steps + len(self.tuner.history))
        return {"step": h["step"], "done": self.done, "handles": [], "distance": None,
                "psnr": round(h["psnr"], 2), "phase": "tuning" if self.tuner is not None else "projecting",
                "start": self.start}

    def image(self) -> torch.Tensor:
        from ..models import to_uint8
        img = self.projector.image if self.tuner is None or self.tuner.image is None else self.tuner.image
        return self.target if img is None else to_uint8(img)[0]

    def tuned(self):
        """The tuned generator (fp16-rounded, frozen), or None when no tuning step ran."""
        return None if self.tuner is None or not self.tuner.history else self.tuner.result()

    def state(self):
        from ..edit.invert import inversion_state
        r = self.projector.result()
        return inversion_state(self.model_id, r.ws, r.control)

    def summary(self) -> dict:
        history = self.tuner.history if self.tuner is not None and self.tuner.history else self.projector.history
        last: Optional[dict] = history[-1] if history else None
        tuned = self.tuner is not None and bool(self.tuner.history)
        return {"outcome": "inverted and tuned" if tuned else "inverted",
                "psnr": None if last is None else round(last["psnr"], 2)}
