"""``steergan data make|emoji|info``: build and inspect datasets."""
from __future__ import annotations

import click

from ..data.scenes import SCENE_KINDS
from .common import emit, json_option


@click.group()
def data():
    """Make procedural scenes with ground truth, import emoji, inspect a dataset."""


@data.command("make")
@click.argument("kind", type=click.Choice(list(SCENE_KINDS)))
@click.option("--out", required=True, help="Output directory (must be new or a previous scene dataset).")
@click.option("-n", "--n", "n", default=20000, show_default=True, help="Number of images.")
@click.option("--resolution", default=64, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--workers", default=2, show_default=True)
@json_option
def make(kind, out, n, resolution, seed, workers, as_json):
    """Render KIND scenes with semantic masks, instance masks and object JSON."""
    import time

    from ..data.scenes import make_dataset
    from ..errors import UserError
    if n < 1:
        raise UserError(f"-n must be positive, got {n}")
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    t0 = time.time()
    make_dataset(kind, out, n=n, resolution=resolution, seed=seed, workers=workers, progress=not as_json)
    dt = time.time() - t0
    emit({"kind": kind, "out": out, "n": n, "resolution": resolution, "seconds": round(dt, 2)}, as_json,
         [f"wrote {n} {kind} scenes at {resolution} px to {out} in {dt:.1f} s"])


@data.command("emoji")
@click.option("--vendor", type=click.Choice(["google", "apple", "twitter", "facebook"]), default="google",
              show_default=True)
@click.option("--out", required=True)
@click.option("--category", default=None, help='e.g. "Smileys & Emotion" (from emoji.json).')
@click.option("--subcategory", default=None, help='Keep emoji whose subcategory starts with this, e.g. "face-" '
              '(the faces of "Smileys & Emotion").')
@click.option("--source", default=None, help="An extracted emoji-datasource package or its .tgz "
                                               "(default: fetch it with `npm pack`).")
@click.option("--resolution", default=64, show_default=True)
@click.option("--placement", type=click.Choice(["centre", "random"]), default="centre", show_default=True,
              help="centre: the images as shipped; random: each emoji pasted at a random size and "
                   "position (a layout for heatmap models to learn).")
@click.option("--copies", default=1, show_default=True, help="Placements per emoji (--placement random).")
@click.option("--scale", default="0.45,0.8", show_default=True, help="Size range of a placed emoji, "
              "as a fraction of the image side (--placement random).")
@click.option("--seed", default=0, show_default=True)
@json_option
def emoji(vendor, out, category, subcategory, source, resolution, placement, copies, scale, seed, as_json):
    """Import real emoji images from the npm package emoji-datasource-VENDOR, with instance
    maps (instances/: 1 = the emoji) from their alpha channel."""
    from ..data.emoji import import_emoji
    from ..errors import UserError
    try:
        lo, hi = (float(v) for v in scale.split(","))
    except ValueError:
        raise UserError(f"--scale {scale!r}: expected MIN,MAX, e.g. 0.45,0.8") from None
    result = import_emoji(vendor, out, category=category, subcategory=subcategory, source=source, resolution=resolution,
                          placement=placement, copies=copies, scale=(lo, hi), seed=seed)
    n = result["n"]
    emit({"vendor": vendor, "category": category, "out": out, "n": n}, as_json,
         [f"wrote {n} {vendor} emoji to {out}"])


@data.command("info")
@click.argument("path")
@json_option
def info(path, as_json):
    """Count, resolution, kind and fingerprint of a dataset."""
    from ..data.folder import info as dataset_info
    result = dataset_info(path)
    emit(result, as_json, [f"{k}: {v}" for k, v in result.items()])
