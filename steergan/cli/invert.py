"""``steergan invert``: reconstruct your own images with a model, as edit states to edit or drag.

Each image is centre-cropped to a square and resized to the model's resolution, projected
into W+ (``edit.invert.project``) and, with ``--pti``, the generator is fine-tuned around that
latent (``pivotal_tune``) and written next to the state, which then names it as its model.
SpatialGAN models start from heatmaps of the image's objects, found by the model's segmenter.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ..edit.invert import (PERCEPTUAL, PIVOT_STEPS, PTI_FOLLOW, PTI_FREEZABLE, PTI_FREEZE, PTI_STEPS, SPACES,
                           W_FOLLOW, W_STEPS)
from .common import device_option, emit, json_option, model_option


def read_square(path: str, resolution: int):
    """Any PNG/JPEG/WebP (grey, RGBA, palette, 16-bit, any aspect) -> uint8 [3, R, R]."""
    from ..data.folder import read_square as read
    return read(path, resolution)


def segmenter_instances(model, image):
    """The instance map the model's segmenter finds (``metrics.segmenter.model_instances``)."""
    from ..metrics.segmenter import model_instances
    return model_instances(model, image)


def _out_dirs(paths, out: Path) -> list[Path]:
    """One folder per image, named by its stem (a repeated stem gets -2, -3, ...)."""
    seen: dict[str, int] = {}
    dirs = []
    for p in paths:
        stem = Path(p).stem or "image"
        seen[stem] = seen.get(stem, 0) + 1
        dirs.append(out / (stem if seen[stem] == 1 else f"{stem}-{seen[stem]}"))
    return dirs


def _bar(total: int, desc: str):
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="step", leave=False, file=sys.stderr,
                disable=not sys.stderr.isatty())


@click.command()
@click.argument("images", nargs=-1, required=True, metavar="IMAGE...")
@model_option
@click.option("--out", default="out/invert", show_default=True, help="Output directory (one folder per image).")
@click.option("--steps", default=None, type=click.IntRange(0, 100_000),
              help=f"W+ optimisation steps [default: {W_STEPS}; {PIVOT_STEPS} with --pti, which closes the rest; "
                   "none with --pti and --encoder: the encoder's guess is the pivot].")
@click.option("--pti", is_flag=True, help="Also fine-tune the generator around the latent (pivotal tuning); "
              "writes generator.safetensors next to the state.")
@click.option("--pti-steps", default=PTI_STEPS, show_default=True, type=click.IntRange(0, 100_000),
              help="Pivotal tuning steps (with --pti).")
@click.option("--pti-follow", default=PTI_FOLLOW, show_default=True, type=click.FloatRange(0, 100),
              help="SpatialGAN, with --pti: weight of the follow loss while tuning (a moved heatmap carries its "
                   "object and leaves the rest of the picture; 0 is off; docs/invert.md).")
@click.option("--pti-freeze", multiple=True, type=click.Choice(list(PTI_FREEZABLE)), default=PTI_FREEZE,
              help="With --pti: leave these parts of the tuned blocks as trained (repeat for several). "
                   "'adapters' (SpatialGAN): moves disturb the rest of the picture less, for about 0.7 dB, "
                   "which --pti-steps 200 wins back (docs/invert.md).")
@click.option("--follow", default=W_FOLLOW, show_default=True, type=click.FloatRange(0, 100),
              help="SpatialGAN: weight of the follow loss in the W+ steps (the latent is fitted so that a moved "
                   "heatmap carries its object; 0 is off; docs/invert.md).")
@click.option("--perceptual", default=PERCEPTUAL, show_default=True, type=click.FloatRange(0, 10),
              help="Weight of a perceptual distance (frozen EfficientNet-Lite0 features) beside the pixel loss, "
                   "in W+ and PTI; 0 is off (measured no closer, 2.5x slower per step: docs/invert.md).")
@click.option("--fit-centres", is_flag=True, help="SpatialGAN: also optimise the heatmap centres and sigmas.")
@click.option("--encoder", default=None, help="An encoder file (`steergan train-encoder`): start from its guess "
              "instead of the mean w (--steps 0: the encoder's guess alone; with --pti the guess is the pivot).")
@click.option("--space", type=click.Choice(list(SPACES)), default="w+", show_default=True,
              help="w+: one w per layer (closer reconstruction); w: one w for every layer (edits behave more "
                   "like a sample's, coarser reconstruction); z: the mapping network's input (every w is one "
                   "the mapping makes: LinkGAN links stay local; coarsest).")
@device_option
@json_option
def invert(images, model, out, steps, pti, pti_steps, pti_follow, pti_freeze, follow, perceptual, fit_centres,
           encoder, space, device, as_json):
    """Reconstruct IMAGE(s) with a model: reconstruction.png, before_after.png, state.json each."""
    import torch
    from ..edit.invert import (default_steps, initial_heatmaps, inversion_state, pivotal_tune, project, psnr,
                               pti_lr, save_tuned, tuned_model)
    from ..methods.state import render_state
    from ..models import load_model, to_uint8
    from ..visual import image_grid

    if steps is None:
        steps = default_steps(pti, encoder is not None and space == "w+")   # "w" averages the guess: steps fix it
    m = load_model(model, device=device)
    R = m.resolution
    targets = [read_square(p, R) for p in images]           # every file read before anything is written
    enc = None
    if encoder is not None:
        from ..edit.encoder import encode_start, load_encoder
        enc = load_encoder(encoder, m).to(m.device)
    model_id = model or m.source
    results = []
    for path, target, folder in zip(images, targets, _out_dirs(images, Path(out))):
        t0 = time.perf_counter()
        hm = initial_heatmaps(m, segmenter_instances(m, target)) if m.method.has_heatmaps else None
        name = Path(path).name
        bar = _bar(steps + (pti_steps if pti else 0), name)

        def tick(step, loss, p, phase="W+", bar=bar):
            bar.update(1)
            bar.set_postfix_str(f"{phase} step {step} PSNR {p:.2f} dB")
        start = None
        if enc is not None:              # W+ and, with a style head, the objects' codes
            start, hm = encode_start(enc, target, hm, m.G)
            start = start.to(m.device)
        proj = project(m, target, steps=steps, heatmaps=hm, fit_centres=fit_centres, callback=tick, space=space,
                       init_ws=start, perceptual=perceptual, follow=follow)
        state = inversion_state(model_id, proj.ws, proj.control)
        used = m
        folder.mkdir(parents=True, exist_ok=True)
        if pti:
            G = pivotal_tune(m, proj.ws, proj.control, target, steps=pti_steps, perceptual=perceptual, lr=pti_lr(steps),
                             follow=pti_follow, freeze=pti_freeze, callback=lambda s, loss, p: tick(s, loss, p, "PTI"))
            gen = save_tuned(m, G, folder / "generator.safetensors", {"image": name, "steps": steps,
                                                                       "pti_steps": pti_steps,
                                                                       "pti_follow": pti_follow,
                                                                       "pti_freeze": list(pti_freeze)})
            state = inversion_state(str(gen.resolve()), proj.ws, proj.control)
            used = tuned_model(m, G, str(gen.resolve()))
        bar.close()
        recon = render_state(used, state)
        score = psnr(recon, target.float()[None] / 127.5 - 1)
        image_grid(recon, nrow=1).save(folder / "reconstruction.png")
        pair = torch.cat([target[None], to_uint8(recon)])
        image_grid(pair.float() / 127.5 - 1, nrow=2).resize((R * 8, R * 4), 0).save(folder / "before_after.png")
        tmp = folder / "state.json.tmp"
        tmp.write_text(state.to_json())
        tmp.replace(folder / "state.json")
        seconds = time.perf_counter() - t0
        results.append({"image": str(path), "out": str(folder), "psnr": round(score, 2),
                        "seconds": round(seconds, 2), "state": str(folder / "state.json"),
                        "generator": state.model if pti else None})
    emit({"model": m.source, "steps": steps, "pti_steps": pti_steps if pti else 0, "images": results}, as_json,
         [f"{r['image']}: PSNR {r['psnr']:.2f} dB in {r['seconds']:.1f} s -> {r['out']}/state.json"
          for r in results])
