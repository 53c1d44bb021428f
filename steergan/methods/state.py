"""The edit state every method shares: what re-renders one edited image bit-exactly.

An ``EditState`` holds the model id (a bundled name or a file), the latent (a seed, or an
explicit W+ list, e.g. after a drag or an inversion), the method's control (SpatialGAN's
heatmaps; nothing for the methods whose edits live in W+), truncation and noise mode. It
round-trips through JSON exactly (floats are written as exact decimal reprs) with a format
version: files without one (version 1, before the field existed) load unchanged.

Each method's edits (``Method.edit_ops``) map a state and an op to a new state; ``start_state``
asks the method for a seed's control; ``render_state`` renders any state.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

import torch

from ..errors import UserError
from .spatial.heatmaps import Heatmaps

STATE_VERSION = 2
NOISE_MODES = ("const", "random", "none")
MAX_TRUNCATION = 2.0     # psi beyond 2 extrapolates far outside the training distribution


@dataclass
class EditState:
    model: str                                   # bundled model name or checkpoint path
    seed: Optional[int] = None                   # the latent comes from this seed ...
    ws: Optional[list] = None                    # ... or is this W+ [num_ws][w_dim] (one image)
    heatmaps: Optional[Heatmaps] = None          # batch of 1
    truncation: float = 1.0
    noise_mode: str = "const"

    def validate(self) -> "EditState":
        if not isinstance(self.model, str) or not self.model:
            raise UserError("edit state needs a model id")
        if (self.seed is None) == (self.ws is None):
            raise UserError("edit state needs exactly one of seed and ws")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or not 0 <= self.seed < 2 ** 32):
            raise UserError(f"seed must be an integer between 0 and 2^32-1, got {self.seed!r}")
        if self.ws is not None:
            rows = self.ws
            if (not isinstance(rows, list) or not rows or not all(isinstance(r, list) and r for r in rows)
                    or len({len(r) for r in rows}) != 1):
                raise UserError("ws must be a non-empty [num_ws][w_dim] list of numbers")
        if not isinstance(self.truncation, (int, float)) or isinstance(self.truncation, bool) \
                or not 0 <= self.truncation <= MAX_TRUNCATION:
            raise UserError(f"truncation must be a number in [0, {MAX_TRUNCATION:g}], got {self.truncation!r}")
        if self.noise_mode not in NOISE_MODES:
            raise UserError(f"noise mode must be one of {', '.join(NOISE_MODES)}, got {self.noise_mode!r}")
        if self.heatmaps is not None and len(self.heatmaps) != 1:
            raise UserError("edit state heatmaps must hold exactly one image")
        return self

    def ws_tensor(self, device: Any = "cpu") -> torch.Tensor:
        """W+ [1, num_ws, w_dim] (float32) from ``ws``."""
        if self.ws is None:
            raise UserError("this edit state has a seed, not an explicit W+")
        return torch.tensor(self.ws, dtype=torch.float32, device=device)[None]

    def to_dict(self) -> dict:
        return {"version": STATE_VERSION, "model": self.model, "seed": self.seed, "ws": self.ws,
                "heatmaps": None if self.heatmaps is None else self.heatmaps.to_dict(),
                "truncation": self.truncation, "noise_mode": self.noise_mode}

    @classmethod
    def from_dict(cls, d: dict) -> "EditState":
        if not isinstance(d, dict):
            raise UserError("edit state must be a JSON object")
        version = d.get("version", 1)            # version 1 (no field): the files of steergan <= 0.x
        if version not in (1, STATE_VERSION):
            raise UserError(f"edit state version {version!r}: this steergan reads versions 1 and {STATE_VERSION}")
        unknown = set(d) - {"version", "model", "seed", "ws", "heatmaps", "truncation", "noise_mode"}
        if unknown:
            raise UserError(f"unknown edit state fields {sorted(unknown)}")
        hm = d.get("heatmaps")
        state = cls(model=d.get("model"), seed=d.get("seed"), ws=d.get("ws"),
                    heatmaps=None if hm is None else Heatmaps.from_dict(hm),
                    truncation=d.get("truncation", 1.0), noise_mode=d.get("noise_mode", "const"))
        return state.validate()

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "EditState":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise UserError(f"edit state is not valid JSON ({e})") from None

    def same_as(self, other: "EditState") -> bool:
        if (self.model, self.seed, self.ws, self.truncation, self.noise_mode) != \
                (other.model, other.seed, other.ws, other.truncation, other.noise_mode):
            return False
        if self.heatmaps is None or other.heatmaps is None:
            return self.heatmaps is None and other.heatmaps is None
        return self.heatmaps.same_as(other.heatmaps)


def render_state(model, state: EditState) -> torch.Tensor:
    """The image [1, 3, R, R] (float, about [-1, 1]) an edit state describes."""
    state.validate()
    ws = model.ws_from_seed(state.seed, state.truncation) if state.seed is not None \
        else state.ws_tensor(model.device)
    control = None if state.heatmaps is None else state.heatmaps.to(model.device)
    return model.synthesize(ws, control, noise_mode=state.noise_mode)


def start_state(model, seed: int, truncation: float = 1.0, noise_mode: str = "const",
                model_id: Optional[str] = None) -> EditState:
    """A seed's state: its latent, and its control when the method has one (``Method.start_control``)."""
    control = model.method.start_control(model, int(seed), truncation)
    return EditState(model_id or model.source, seed=int(seed), heatmaps=control, truncation=truncation,
                     noise_mode=noise_mode).validate()
