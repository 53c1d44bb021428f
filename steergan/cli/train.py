"""``steergan train``: train any method on a folder, zip or scene dataset; resumable."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import UserError


def _click_type(f):
    """The click type of a ``TrainOptions`` field (from its annotation and metadata)."""
    choices = f.metadata.get("choices")
    if choices is not None:
        return click.Choice(list(choices()))
    kind = str(f.type)
    if f.metadata.get("parse") or "str" in kind:
        return str
    return {"float": float, "Optional[float]": float, "int": int, "Optional[int]": int}.get(kind.replace("typing.", ""), str)


def training_options(command):
    """One click option per command-line field of ``TrainOptions``: names, defaults and help come
    from the dataclass (``train.options.opt``), so nothing here repeats them."""
    from dataclasses import MISSING, fields

    from ..train import TrainOptions
    for f in reversed(fields(TrainOptions)):
        if f.metadata.get("cli") is False:
            continue
        flag = TrainOptions.flag(f.name)
        default = f.default if f.default is not MISSING else f.default_factory()
        parse = f.metadata.get("parse")
        if parse == "json":
            default = json.dumps(default)
        elif parse == "floats":
            default = ",".join(str(v) for v in default)
        help_text = f.metadata.get("help", "")
        if f.name in ("data", "out"):
            command = click.option(flag, f.name, required=True, help=help_text)(command)
        elif f.type in ("bool", bool):
            command = click.option(flag, f.name, is_flag=True, default=default, help=help_text)(command)
        else:
            command = click.option(flag, f.name, default=default, type=_click_type(f), help=help_text,
                                   show_default=default not in (None, "", "[]", "{}"))(command)
    return command


@click.command()
@training_options
@click.option("--resume/--no-resume", default=True, show_default=True,
              help="Continue from the run directory's latest checkpoint if there is one.")
@click.option("--max-images", default=None, type=int, help="Use at most this many dataset images.")
@click.option("--masks", default=None, help="Folder of label PNGs paired with the images by relative path "
              "(methods that need masks, e.g. semantic; scene datasets bring their own).")
@click.option("--classes", default=None, help="Class list of --masks: a text file, one name per line, or JSON.")
def train(resume, max_images, masks, classes, **options):
    """Train a generator. Multi-GPU / multi-node: launch the same command with torchrun."""
    from dataclasses import fields

    from ..data import ImageDataset
    from ..nn import get_preset
    from ..train import Trainer, TrainOptions
    for f in fields(TrainOptions):      # every JSON-object option, e.g. --method-options and --arch
        if f.metadata.get("parse") == "json":
            try:
                options[f.name] = json.loads(options[f.name])
                assert isinstance(options[f.name], dict)
            except (json.JSONDecodeError, AssertionError):
                raise UserError(f"{TrainOptions.flag(f.name)} must be a JSON object, got {options[f.name]!r}") from None
    try:
        options["milestone_minutes"] = [float(m) for m in options["milestone_minutes"].split(",") if m.strip()]
    except ValueError:
        raise UserError(f"--milestones must be comma-separated minutes, got {options['milestone_minutes']!r}") from None
    data, out, preset, method, mopts = (options[k] for k in ("data", "out", "preset", "method", "method_options"))
    arch = get_preset(preset, **options["arch"])     # an unknown or out-of-range field is a one-line error
    run = Path(out)
    started = (run / "checkpoints").is_dir() and any((run / "checkpoints").iterdir())
    if not resume and started:
        raise UserError(f"{run} already holds checkpoints; use --resume or another --out (nothing was deleted)")
    if not started:
        # read and checked now, before the dataset is read or the run directory exists
        from ..train.warm_start import resolve_init_from
        options["init_from"] = resolve_init_from(options["init_from"], options["discriminator"], method, arch)
        if options["init_from"]:
            click.echo(f"fine-tuning from {options['init_from']} (to train from scratch instead: --init-from none)",
                       err=True)
    opts = TrainOptions(**options)
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
