"""Checks on what clients send, so that bad input is a 400 and never reaches a network.

An edit state or latent from a client must fit the session's model exactly (W+ shape,
heatmap structure, dtypes); a drag mask must be a PNG of the image's size.
"""
from __future__ import annotations

import base64
import binascii
import io
from typing import Optional

import numpy as np
import torch
from PIL import Image

from ..edit.state_checks import MAX_SEED, check_seed, check_state_fits, ws_rows  # noqa: F401  (re-exported)
from ..errors import UserError
from .views import mask_from_rgba


def decode_mask(data: Optional[str], resolution: int) -> Optional[torch.Tensor]:
    """A PNG (data URL or base64) of the image's size -> bool [R, R], True where painted."""
    if data is None:
        return None
    if not isinstance(data, str):
        raise UserError("mask must be a PNG data URL")
    payload = data.split(",", 1)[1] if data.startswith("data:") else data
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UserError("mask is not valid base64") from None
    try:
        with Image.open(io.BytesIO(raw)) as im:     # reads the header only: the size is checked first
            if im.format != "PNG":
                raise UserError(f"mask must be a PNG, got {im.format}")
            if im.size != (resolution, resolution):
                raise UserError(f"mask must be {resolution}x{resolution} (the image size), "
                                f"got {im.size[0]}x{im.size[1]}")
            pixels = np.asarray(im.convert("RGBA"))
    except UserError:
        raise
    except Exception as e:                          # PIL raises many types on corrupt data
        raise UserError(f"mask is not a readable PNG ({type(e).__name__})") from None
    return mask_from_rgba(pixels)
