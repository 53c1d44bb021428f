"""``steergan generate``: images from seeds, as one PNG grid or one file per seed."""
from __future__ import annotations

import time
from pathlib import Path

import click
from PIL import Image

from ..errors import UserError
from ..models import load_model
from .common import device_option, emit, json_option, model_option, parse_seeds, save_png


@click.command()
@click.argument("checkpoint", required=False)
@model_option
@click.option("--seeds", default="0-15", show_default=True, help="e.g. 0-15 or 1,5,9")
@click.option("--truncation", "-t", default=1.0, show_default=True, type=float)
@click.option("--out", default="out/grid.png", show_default=True,
              help="A .png path for one grid, or a directory for one file per seed.")
@click.option("--noise", type=click.Choice(["const", "random", "none"]), default="const", show_default=True)
@device_option
@json_option
def generate(checkpoint, model, seeds, truncation, out, noise, device, as_json):
    """Generate images from CHECKPOINT (or --model; default: the bundled model)."""
    from ..visual import image_grid
    if checkpoint and model:
        raise UserError("give a CHECKPOINT or --model, not both")
    if not 0.0 <= truncation <= 2.0:
        raise UserError(f"--truncation must be in [0, 2], got {truncation}")
    m = load_model(checkpoint or model, device=device)
    seed_list = parse_seeds(seeds)
    t0 = time.time()
    images = m.generate(seed_list, truncation=truncation, noise_mode=noise)
    seconds = time.time() - t0
    out_path = Path(out)
    files = []
    if out_path.suffix.lower() == ".png":
        out_path.parent.mkdir(parents=True, exist_ok=True)
        save_png(image_grid(images.float() / 127.5 - 1), out_path)
        files.append(str(out_path))
    else:
        created = not out_path.exists()
        out_path.mkdir(parents=True, exist_ok=True)
        try:
            for s, img in zip(seed_list, images):
                f = out_path / f"seed{s:06d}.png"
                save_png(Image.fromarray(img.permute(1, 2, 0).numpy()), f)
                files.append(str(f))
        except BaseException:
            if created and not files:       # a folder this command made and could not fill
                out_path.rmdir()
            raise
    emit({"model": m.source, "method": m.method.name, "n": len(seed_list), "seconds": round(seconds, 4),
          "files": files}, as_json,
         [f"wrote {len(seed_list)} images from {m.source} to {out_path} in {seconds:.2f} s"])
