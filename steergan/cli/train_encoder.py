"""``steergan train-encoder``: an image -> W+ encoder for a model, trained on the model's own samples."""
from __future__ import annotations

import sys
import time

import click

from ..errors import UserError
from .common import device_option, emit, json_option


@click.command("train-encoder")
@click.argument("model_name", metavar="MODEL")
@click.option("--out", required=True, help="Encoder file to write (.safetensors).")
@click.option("--minutes", default=10.0, show_default=True, type=float, help="Training time.")
@click.option("--batch", default=16, show_default=True, type=click.IntRange(1, 4096))
@click.option("--lr", default=1e-3, show_default=True, type=float)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2 ** 32 - 1))
@device_option
@json_option
def train_encoder(model_name, out, minutes, batch, lr, seed, device, as_json):
    """Fit an encoder (image -> W+) to MODEL (a bundled name or a file) for --minutes; `steergan
    invert --encoder FILE` then starts from its guess instead of the mean w."""
    from pathlib import Path

    from ..edit.encoder import save_encoder, train_encoder as fit
    from ..models import load_model
    if not (minutes > 0) or minutes > 24 * 60:
        raise UserError(f"--minutes must be in (0, 1440], got {minutes}")
    if not (0 < lr <= 1):
        raise UserError(f"--lr must be in (0, 1], got {lr}")
    dest = Path(out)
    if dest.is_dir():
        raise UserError(f"--out {dest} is a directory; give a file name")
    m = load_model(model_name, device=device)
    t0 = time.time()
    enc, meta = fit(m, minutes=minutes, batch=batch, lr=lr, seed=seed,
                    log=lambda s: print(s, file=sys.stderr, flush=True))
    meta["model"] = model_name
    save_encoder(enc, meta, dest)
    emit({"encoder": str(dest), "model": model_name, "seconds": round(time.time() - t0, 1), **meta["trained"]},
         as_json, [f"encoder for {model_name}: {meta['trained']['steps']} steps -> {dest}"])
