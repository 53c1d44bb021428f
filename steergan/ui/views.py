"""What the page receives: PNG images and a JSON view of an edit state (no edit logic here)."""
from __future__ import annotations

import base64
import io

import numpy as np
import torch
from PIL import Image

from ..methods.state import EditState, render_state
from ..models import to_uint8


def png_bytes(image: torch.Tensor) -> bytes:
    """uint8 [3, R, R] -> PNG (fast compression: the live drag sends one per mouse move)."""
    buf = io.BytesIO()
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def pil_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def alpha_png(mask: torch.Tensor) -> bytes:
    """A mask [H, W] in [0, 1] -> white RGBA PNG with the mask as alpha (the page tints it)."""
    a = (mask.detach().float().clamp(0, 1).cpu() * 255).round().to(torch.uint8).numpy()
    rgba = np.full((*a.shape, 4), 255, np.uint8)
    rgba[..., 3] = a
    return pil_png(Image.fromarray(rgba, "RGBA"))


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_png(model, state: EditState) -> bytes:
    return png_bytes(to_uint8(render_state(model, state))[0])


def heatmap_view(state: EditState) -> list[dict]:
    """One entry per centre; ``xy`` in the library's normalised units (x right, y down, [-1, 1])."""
    hm = state.heatmaps
    if hm is None:
        return []
    centres, sigmas = hm.centres[0].tolist(), hm.sigmas[0].tolist()
    active = hm.active[0].tolist()
    styled = [False] * hm.num_centres if hm.styles is None else (~hm.styles[0].isnan().any(-1)).tolist()
    return [{"index": i, "xy": centres[i], "sigma": sigmas[i], "level": hm.levels[i], "parent": hm.parents[i],
             "active": active[i], "styled": styled[i]} for i in range(hm.num_centres)]


def state_view(state: EditState) -> dict:
    hm = state.heatmaps
    return {"seed": state.seed, "explicit_latent": state.ws is not None, "truncation": state.truncation,
            "heatmap_kind": None if hm is None else hm.kind,
            "num_levels": 0 if hm is None else hm.num_levels, "centres": heatmap_view(state)}


def mask_from_rgba(pixels: np.ndarray) -> torch.Tensor:
    """Painted (alpha > 0) pixels are where content may move (DragGAN's flexible area)."""
    return torch.from_numpy(pixels[..., 3] > 0)
