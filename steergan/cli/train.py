"""``steergan train``: train any method on a folder, zip or scene dataset; resumable."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import UserError
from ..methods import method_names
from ..nn import DEFAULT_DISCRIMINATOR, DISCRIMINATORS, PRESETS


@click.command()
@click.option("--data", required=True, help="Image folder, .zip, or a `steergan data make` dataset.")
@click.option("--out", required=True, help="Run directory (checkpoints, logs, samples).")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default="tiny", show_default=True)
@click.option("--method", default="stylegan2", show_default=True, help=f"One of: {', '.join(method_names())}.")
@click.option("--method-options", default="{}", help='JSON object, e.g. \'{"sel": "norm"}\'.')
@click.option("--discriminator", type=click.Choice(list(DISCRIMINATORS)), default=DEFAULT_DISCRIMINATOR,
              show_default=True, help="; ".join(f"{k}: {v[1]}" for k, v in DISCRIMINATORS.items()) + ".")
@click.option("--kimg", default=200.0, show_default=True, help="Thousands of real images to train on.")
@click.option("--minutes", default=None, type=float, help="Stop after this much training time.")
@click.option("--batch", default=32, show_default=True, help="Total batch over all processes.")
@click.option("--glr", default=0.0025, show_default=True)
@click.option("--dlr", default=0.0025, show_default=True)
@click.option("--gamma", default=None, type=float, help="R1 weight (default 0.0002*res^2/batch).")
@click.option("--pl-weight", default=0.0, show_default=True, help="Path-length regulariser weight.")
@click.option("--mix", "mix_prob", default=0.0, show_default=True, help="Style-mixing probability.")
@click.option("--augment", default="color,translation,cutout", show_default=True,
              help="DiffAugment policy; '' to disable.")
@click.option("--xflip", is_flag=True, help="Random horizontal flips of real images.")
@click.option("--tick-kimg", default=4.0, show_default=True, help="Log/sample/checkpoint interval.")
@click.option("--diversity-n", default=256, show_default=True,
              help="Each tick, precision and recall of the EMA generator on this many images (collapse "
                   "watch: a warning when recall halves); 0 turns it off.")
@click.option("--keep", "keep_last", default=3, show_default=True, help="Checkpoints to keep.")
@click.option("--milestones", default="", help="Minutes at which to keep extra snapshots, e.g. 10,20,40.")
@click.option("--resume/--no-resume", default=True, show_default=True,
              help="Continue from the run directory's latest checkpoint if there is one.")
@click.option("--init-from", default=None, help="Start from another run's weights (fine-tuning); a "
              "generator file or bundled model name (e.g. rooms-stylegan2) gives G only, D starts fresh.")
@click.option("--d-warmup-kimg", default=None, type=float,
              help="Train D alone for this many kimg first (default: 2 when --init-from gives G only, else 0).")
@click.option("--seed", default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--amp", is_flag=True, help="bf16 mixed precision (CUDA only).")
@click.option("--max-images", default=None, type=int, help="Use at most this many dataset images.")
@click.option("--masks", default=None, help="Folder of label PNGs paired with the images by relative path "
              "(methods that need masks, e.g. semantic; scene datasets bring their own).")
@click.option("--classes", default=None, help="Class list of --masks: a text file, one name per line, or JSON.")
def train(data, out, preset, method, method_options, discriminator, kimg, minutes, batch, glr, dlr, gamma, pl_weight,
          mix_prob, augment, xflip, tick_kimg, diversity_n, keep_last, milestones, resume, init_from, d_warmup_kimg, seed, device,
          amp, max_images, masks, classes):
    """Train a generator. Multi-GPU / multi-node: launch the same command with torchrun."""
    from ..data import ImageDataset
    from ..nn import get_preset
    from ..train import Trainer, TrainOptions
    try:
        mopts = json.loads(method_options)
        assert isinstance(mopts, dict)
    except (json.JSONDecodeError, AssertionError):
        raise UserError(f"--method-options must be a JSON object, got {method_options!r}") from None
    try:
        milestone_list = [float(m) for m in milestones.split(",") if m.strip()]
    except ValueError:
        raise UserError(f"--milestones must be comma-separated minutes, got {milestones!r}") from None
    arch = get_preset(preset)
    if init_from is not None:
        from ..models import load_model, resolve_model
        from ..nn import ArchConfig
        init_from = str(resolve_model(init_from)[0])      # a bundled name or a path
        # read and checked now, before the run directory or its logs exist (the trainer reads it later)
        source = load_model(init_from)
        if ArchConfig.from_dict(source.config["arch"]) != arch:
            raise UserError(f"--init-from {init_from} has a different architecture than preset {preset!r}")
    run = Path(out)
    if not resume and (run / "checkpoints").is_dir() and any((run / "checkpoints").iterdir()):
        raise UserError(f"{run} already holds checkpoints; use --resume or another --out (nothing was deleted)")
    opts = TrainOptions(data=data, out=out, preset=preset, method=method, method_options=mopts,
                        discriminator=discriminator, kimg=kimg,
                        minutes=minutes, batch=batch, g_lr=glr, d_lr=dlr, r1_gamma=gamma, pl_weight=pl_weight,
                        mix_prob=mix_prob, augment=augment, xflip=xflip, seed=seed, tick_kimg=tick_kimg, diversity_n=diversity_n,
                        keep_last=keep_last, milestone_minutes=milestone_list, device=device, amp=amp,
                        init_from=init_from, d_warmup_kimg=d_warmup_kimg)
    opts.validate()                       # before any image is read or any file written
    if masks is not None or classes is not None:
        from ..methods import build_method
        if not build_method(method, mopts).uses_masks:
            raise UserError(f"--masks/--classes: method {method!r} with these options reads no label maps "
                            f"(semantic and paired spatial do)")
    if max_images is not None and max_images < 1:
        raise UserError(f"--max-images must be at least 1, got {max_images}")
    dataset = ImageDataset(data, resolution=arch.resolution, max_images=max_images, masks=masks, classes=classes)
    info = {"path": str(Path(data).resolve()), "fingerprint": dataset.fingerprint, "n": len(dataset)}
    trainer = Trainer(opts, dataset, arch=arch, dataset_info=info)
    last = trainer.run()
    if trainer.dist.is_main:
        click.echo(f"done: {trainer.images_seen / 1000:.1f} kimg in {trainer.train_seconds / 60:.1f} min; "
                   f"last checkpoint {last}")
