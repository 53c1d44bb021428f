"""Train a refiner for a trained encoder (ReStyle, Alaluf et al. 2021).

A feed-forward encoder sees the image once and cannot check its answer. The refiner sees the
image *and* the current reconstruction, and predicts a correction of W+; ``encode_start`` applies
it ``passes`` times (one render and one refiner pass each: milliseconds at 64 px). The encoder
itself stays frozen, so its guesses, the refiner's starting points, do not move under it; the
refiner starts at zero (no correction) and learns from the same mix as the encoder: the model's
own samples (W+ regression and reconstruction) and, with ``real``, images it did not draw
(reconstruction only), each pass's loss on that pass's correction (the one before detached).

With ``polish``, the same training gives an encoder that already has a refiner a second one, the
*polisher*, applied after the refiner's passes with the encoder and the refiner frozen (ReStyle in
stages). Why: a refiner of 32 channels trained for hours levelled off on real emoji (docs/invert.md),
and a wider net trained from scratch would have to relearn what it already does; a polisher starts
at zero correction from the refined guess, so it can only be trained to improve on it.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from ..errors import UserError
from .encoder import (Encoder, domain_penalty, new_refiner, own_batch, real_batch, refine_step, refined,
                      sample_radius, with_codes)


def train_refiner(model, enc: Encoder, passes: int = 2, minutes: float = 10.0, steps: int = 100_000,
                  batch: int = 16, lr: float = 1e-3, truncation: float = 0.8, seed: int = 0,
                  real: Optional[torch.Tensor] = None, real_controls: Optional[list] = None,
                  latent_weight: float = 1.0, domain_weight: float = 0.0, width: int = 32, polish: bool = False,
                  log: Optional[Callable[[str], None]] = print) -> tuple[Encoder, dict]:
    """Give ``enc`` a refiner of ``passes`` passes (or go on training the one it has) for
    ``minutes`` (or ``steps``); returns ``enc`` (eval mode) and its training metadata.
    ``domain_weight``: as in ``train_encoder``, on the corrected guesses for ``real`` images.
    ``polish``: train (or go on training) the polisher instead, on top of the refiner's passes;
    ``width``: of a new refiner or polisher."""
    if not (minutes > 0 and steps > 0 and batch > 0 and passes > 0):
        raise UserError("minutes, steps, batch and passes must be positive")
    if real is not None and model.method.has_heatmaps and (real_controls is None or len(real_controls) != len(real)):
        raise UserError("real images for a heatmap model need one control each")
    if polish and (enc.refiner is None or enc.refine_passes < 1):
        raise UserError("a polisher goes on top of a refiner: train the encoder's refiner first")
    G = model.G.requires_grad_(False)
    enc.requires_grad_(False).eval()
    torch.manual_seed(seed)
    attr = "polisher" if polish else "refiner"
    continued = getattr(enc, attr) is not None
    if not continued:
        setattr(enc, attr, new_refiner(enc, width))
    setattr(enc, "polish_passes" if polish else "refine_passes", passes)
    ref = getattr(enc, attr).requires_grad_(True).train()
    opt = torch.optim.Adam(ref.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n_real = 0 if real is None else max(1, batch // 2)
    n_own = batch - n_real
    radius = sample_radius(model, torch.Generator().manual_seed(0)) if domain_weight > 0 and n_real else None
    t0, step, last = time.perf_counter(), 0, {}
    while step < steps and time.perf_counter() - t0 < minutes * 60:
        x, control, true_ws = _mixed_batch(model, n_own, n_real, truncation, real, real_controls, g)
        with torch.no_grad():
            ws, codes = enc.with_styles(x, control)
            control = with_codes(control, codes)
            if polish:                               # the refiner's guess is the polisher's start
                ws = refined(enc, G, x, ws, control, polish=False)
        opt.zero_grad(set_to_none=True)
        for p in range(passes):
            with torch.no_grad():
                y = G.synthesis(ws, control, noise_mode="const")
            if p == 0:                               # the start's error (encoder's, or refiner's), for comparison
                last["mse_0"] = round(F.mse_loss(y, x).item(), 5)
            ws_new = refine_step(enc, G, x, ws, control, y, net=ref)
            image = F.mse_loss(G.synthesis(ws_new, control, noise_mode="const"), x)
            loss = image
            if n_own:
                loss = loss + latent_weight * F.mse_loss(ws_new[:n_own], true_ws)
            if radius is not None:
                loss = loss + domain_weight * domain_penalty(ws_new[n_own:], enc.w_avg, radius)
            (loss / passes).backward()
            last[f"mse_{p + 1}"] = round(image.item(), 5)
            ws = ws_new.detach()
        opt.step()
        step += 1
        if log and step % 50 == 0:
            log(f"step {step} " + " ".join(f"{k} {v:.4f}" for k, v in last.items())
                + f" ({time.perf_counter() - t0:.0f}s)")
    meta = {"passes": passes, "width": ref.width, "steps": step, "continued": continued, "batch": batch, "lr": lr,
            "truncation": truncation, "latent_weight": latent_weight, "domain_weight": domain_weight,
            "real_images": 0 if real is None else len(real), "seconds": round(time.perf_counter() - t0, 1),
            "threads": torch.get_num_threads(), **last}
    enc.requires_grad_(False)
    return enc.eval(), meta


def _mixed_batch(model, n_own: int, n_real: int, truncation: float, real, real_controls, g):
    """(images [-1, 1], collated control or None, the own samples' W+): the model's own samples first."""
    parts, controls, true_ws = [], [], None
    if n_own:
        true_ws, img, control = own_batch(model, n_own, truncation, g)
        parts.append(img)
        controls.append(control)
    if n_real:
        img, control = real_batch(model, real, real_controls, n_real, g)
        parts.append(img)
        controls.append(control)
    control = None if controls[0] is None else model.method.collate_control(controls)
    return torch.cat(parts), control, true_ws
