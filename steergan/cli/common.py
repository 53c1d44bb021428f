"""Options and helpers shared by several subcommands."""
from __future__ import annotations

import json
from typing import Iterable

import click

from ..errors import UserError

model_option = click.option("--model", "model", default=None, metavar="NAME|PATH",
                            help="Bundled model name, generator .safetensors, checkpoint or run dir "
                                 "(default: the bundled 'rooms' model).")
def _check_device(ctx, param, value):
    from ..devices import resolve_device
    return str(resolve_device(value))


device_option = click.option("--device", default="cpu", show_default=True, callback=_check_device,
                             help="cpu, cuda, cuda:1, ... or auto")
MAX_SEEDS = 100_000      # one command's images: more is a typo, not a request
json_option = click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")


def parse_seeds(text: str) -> list[int]:
    """'0-7' or '1,5,9' or '3' -> list of ints."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                a, b = part.split("-", 1)
                lo, hi = int(a), int(b)
                if hi < lo:
                    raise ValueError
                if hi - lo + 1 + len(seeds) > MAX_SEEDS:
                    raise UserError(f"seeds {text!r} name more than {MAX_SEEDS:,} images; ask for fewer")
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(int(part))
    except ValueError:
        raise UserError(f"cannot read seeds {text!r}: use e.g. 0-15 or 1,5,9") from None
    if not seeds:
        raise UserError("no seeds given")
    if len(seeds) > MAX_SEEDS:
        raise UserError(f"more than {MAX_SEEDS:,} seeds; ask for fewer")
    if any(s < 0 or s >= 2 ** 32 for s in seeds):
        raise UserError("seeds must be between 0 and 2^32-1")
    return seeds


def check_truncation(value, flag: str = "--truncation") -> float:
    """psi in [0, 2] (the edit state's range): checked before any mapping runs, where a value
    like -3e38 would overflow float32 inside torch instead of being refused."""
    import math
    from ..methods.state import MAX_TRUNCATION
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= MAX_TRUNCATION:
        raise UserError(f"{flag} must be a number in [0, {MAX_TRUNCATION:g}], got {value!r}")
    return float(value)


def save_png(image, path) -> None:
    """Write a PIL image as PNG to a temporary name in the same folder, then rename it into
    place: a full disk or a kill leaves the old file or none, never a truncated PNG."""
    import os
    from pathlib import Path
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory; give a .png file name")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        image.save(tmp, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def emit(result: dict, as_json: bool, lines: Iterable[str] = ()) -> None:
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for line in lines:
            click.echo(line)


def load_start(checkpoint, model, seed, state_file, device):
    """The two shapes every editing command accepts, in one place: ``CHECKPOINT or --model``, then
    ``--seed or --state``. Returns (model, state or None); a state is checked against the model
    (W+ shape, heatmaps, seed and truncation ranges) before anything renders, and a state made for
    one model is not rendered on another."""
    from ..edit.state_checks import check_seed, check_state_fits
    from ..models import load_model, resolve_model
    if checkpoint and model:
        raise UserError("give a CHECKPOINT or --model, not both")
    if state_file and seed is not None:
        raise UserError("give --seed or --state, not both")
    if seed is not None:
        check_seed(seed, "--seed")
    asked = checkpoint or model
    if not state_file:
        return load_model(asked, device=device), None
    state = read_state_file(state_file)
    if asked and resolve_model(asked)[0] != resolve_model(state.model)[0]:
        raise UserError(f"edit state {state_file} was made for {state.model!r}, not {asked!r}; "
                        "drop CHECKPOINT/--model to use its own")
    m = load_model(asked or state.model, device=device)
    return m, check_state_fits(m, state)


def read_state_file(path):
    """An edit state JSON file (``--state``), or a one-line error."""
    from pathlib import Path
    from ..methods.state import EditState
    try:
        return _follow_moved_generator(EditState.from_json(Path(path).read_text()), Path(path))
    except FileNotFoundError:
        raise UserError(f"edit state {path} does not exist") from None
    except (IsADirectoryError, UnicodeDecodeError):
        raise UserError(f"edit state {path} is not a JSON text file") from None


def _follow_moved_generator(state, path):
    """An inversion with --pti names its tuned generator by absolute path, written next to the
    state; when the folder has moved, that path is gone but the file sits next to the state
    again: use it (a state naming a bundled model, or a path that exists, is left alone)."""
    from dataclasses import replace
    from pathlib import Path
    named = Path(state.model)
    if not named.is_absolute() or named.exists():
        return state
    beside = path.parent / named.name
    return replace(state, model=str(beside.resolve())) if beside.is_file() else state

