"""``steergan train-encoder``: an image -> W+ encoder for a model, trained on the model's own samples
and, with ``--data``, on a folder of images it did not draw (half of each batch)."""
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
@click.option("--data", default=None, help="A folder (or zip) of images: half of each batch is these, fitted by "
              "their reconstruction (pSp style). Without it, the model's own samples only.")
@click.option("--max-images", default=2000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="With --data: read at most this many images.")
@click.option("--steps", default=100_000, show_default=True, type=click.IntRange(1, 10_000_000),
              help="Stop after this many steps if --minutes has not run out first.")
@click.option("--latent-weight", default=1.0, show_default=True, type=float,
              help="Weight of the W+ regression on the model's own samples (the image losses weigh 1); "
              "lower fits pictures more.")
@click.option("--domain-weight", default=0.0, show_default=True, type=float,
              help="With --data: keep the guesses for those images as close to the mean w as the model's own "
              "latents (a pivot far outside is one PTI tunes poorly); 0 turns it off.")
@click.option("--init-from", "init_from", default=None, help="An encoder file to go on training (same model).")
@click.option("--refine", default=0, show_default=True, type=click.IntRange(0, 8),
              help="With --init-from: keep that encoder as it is and train a refiner that corrects its guess in "
              "this many passes, each comparing the image with the current reconstruction (ReStyle); 0 trains "
              "the encoder itself.")
@click.option("--polish", default=0, show_default=True, type=click.IntRange(0, 8),
              help="With --init-from an encoder that has a refiner: keep both as they are and train a second "
              "refiner (the polisher) that corrects the refined guess in this many passes.")
@click.option("--refiner-width", default=32, show_default=True, type=click.IntRange(8, 256),
              help="Channels of the first layer of a new refiner or polisher (doubling per layer, at most 256).")
@click.option("--style-head/--no-style-head", default=True, show_default=True,
              help="For models with one style code per object (SpatialGAN indoor): also predict those codes "
                   "from features pooled under each heatmap. Other models never have one.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2 ** 32 - 1))
@device_option
@json_option
def train_encoder(model_name, out, minutes, batch, lr, data, max_images, steps, latent_weight, domain_weight, init_from,
                  refine, polish, refiner_width, style_head, seed, device, as_json):
    """Fit an encoder (image -> W+) to MODEL (a bundled name or a file) for --minutes; `steergan
    invert --encoder FILE` then starts from its guess instead of the mean w."""
    from pathlib import Path

    from ..edit.encoder import load_encoder, load_encoder_meta, save_encoder, train_encoder as fit
    from ..models import load_model
    if not (minutes > 0) or minutes > 24 * 60:
        raise UserError(f"--minutes must be in (0, 1440], got {minutes}")
    if not (0 < lr <= 1):
        raise UserError(f"--lr must be in (0, 1], got {lr}")
    if not (0 <= latent_weight <= 100):
        raise UserError(f"--latent-weight must be in [0, 100], got {latent_weight}")
    if not (0 <= domain_weight <= 1000):
        raise UserError(f"--domain-weight must be in [0, 1000], got {domain_weight}")
    if refiner_width % 8:
        raise UserError(f"--refiner-width must be a multiple of 8 (its layers normalise in groups of 8), "
                        f"got {refiner_width}")
    if refine and polish:
        raise UserError("--refine and --polish train different nets: give one of them")
    if (refine or polish) and init_from is None:
        raise UserError("--refine and --polish train on top of a trained encoder: give that encoder with --init-from")
    dest = Path(out)
    if dest.is_dir():
        raise UserError(f"--out {dest} is a directory; give a file name")
    m = load_model(model_name, device=device)
    init = None if init_from is None else load_encoder(init_from, m).to(m.device)
    t0 = time.time()
    real, controls = (None, None) if data is None else _real_images(m, data, max_images)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    what = "polisher" if polish else "refiner" if refine else "encoder"
    if refine or polish:    # the encoder (with --polish, its refiner too) stays as it was; the new net joins it
        from ..edit.encoder_refine import train_refiner
        enc, trained = train_refiner(m, init, passes=refine or polish, minutes=minutes, steps=steps, batch=batch,
                                     lr=lr, seed=seed, real=real, real_controls=controls, latent_weight=latent_weight,
                                     domain_weight=domain_weight, width=refiner_width, polish=bool(polish), log=log)
        meta = load_encoder_meta(init_from)
        if what in meta:                 # trained on: the record of the training before is kept
            trained["before"] = meta[what]
        meta[what] = trained
    else:
        enc, meta = fit(m, minutes=minutes, steps=steps, batch=batch, lr=lr, seed=seed, real=real,
                        real_controls=controls, latent_weight=latent_weight, domain_weight=domain_weight, init=init,
                        style_head=None if style_head else False, log=log)
        trained = meta["trained"]
        meta["model"] = model_name
    if data is not None:
        trained["data"] = str(data)
    if init_from is not None:
        trained["init_from"] = str(init_from)
    save_encoder(enc, meta, dest)
    emit({"encoder": str(dest), "model": model_name, "trained": what, "seconds": round(time.time() - t0, 1),
          **trained}, as_json, [f"{what} for {model_name}: {trained['steps']} steps -> {dest}"])


def _real_images(model, data, max_images):
    """The folder's images at the model's resolution and, for heatmap models, the heatmaps the
    inversion would start from (the model's segmenter finds the objects)."""
    from ..data import ImageDataset
    from ..edit.invert import initial_heatmaps
    from .invert import segmenter_instances
    images = ImageDataset(data, model.resolution, max_images=max_images).images
    if not model.method.has_heatmaps:
        return images, None
    return images, [initial_heatmaps(model, segmenter_instances(model, img)) for img in images]
