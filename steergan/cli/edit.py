"""``steergan edit``: move, resize, remove or restyle heatmap centres; swap latent or layout.

Coordinates on the command line are pixels of the output image (x right, y down);
the JSON edit state stores them normalised to [-1, 1], as the library does.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import click

from ..errors import UserError
from .common import check_truncation, device_option, emit, json_option, load_start, model_option


MAX_VALUE = 1e6      # pixels of a move, a sigma: far beyond any image, far inside float32


def _split(spec: str, what: str, n_values: int) -> tuple[int, list[float]]:
    try:
        idx, rest = spec.split(":", 1)
        values = [float(v) for v in rest.split(",")]
        if len(values) != n_values:
            raise ValueError
        index = int(idx)
    except ValueError:
        example = {"move": "0:8,-4", "sigma": "1:0.05", "restyle": "2:123"}[what]
        raise UserError(f"cannot read --{what} {spec!r}: expected e.g. {example}") from None
    bound = 2.0 ** 32 if what == "restyle" else MAX_VALUE          # a seed, or pixels / sigma
    if not all(math.isfinite(v) and abs(v) <= bound for v in values):
        raise UserError(f"--{what} {spec!r}: values must be finite numbers within +-{bound:g}")
    return index, values


def _check_numbers(value, where: str) -> None:
    """Every number in a raw JSON op (but its index and seed, checked on their own) finite and
    within +-1e6: a float32 overflow inside torch would be a traceback, not a message."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and not (math.isfinite(value) and abs(value) <= MAX_VALUE):
        raise UserError(f"{where}: {value!r} is not a finite number within +-{MAX_VALUE:g}")
    if isinstance(value, dict):
        for k, v in value.items():
            if k not in ("index", "seed"):             # integers with their own range checks
                _check_numbers(v, where)
    elif isinstance(value, list):
        for v in value:
            _check_numbers(v, where)


@click.command()
@click.argument("checkpoint", required=False)
@model_option
@click.option("--seed", type=int, default=None, help="Start from this seed (default 0 unless --state).")
@click.option("--state", "state_file", default=None, help="Start from a saved edit state JSON.")
@click.option("--move", "moves", multiple=True, metavar="I:DX,DY", help="Move centre I by DX,DY pixels "
              "(its descendants follow).")
@click.option("--sigma", "sigmas", multiple=True, metavar="I:S", help="Set centre I's sigma (normalised units; "
              "shrink towards 0 to remove the object).")
@click.option("--remove", "removes", multiple=True, type=int, metavar="I", help="Remove centre I.")
@click.option("--restyle", "restyles", multiple=True, metavar="I:SEED", help="New style code for object I.")
@click.option("--new-latent", type=int, default=None, metavar="SEED",
              help="Keep the heatmaps, take the latent of SEED (layout kept, appearance changes).")
@click.option("--new-layout", type=int, default=None, metavar="SEED",
              help="Keep the latent, take the heatmaps of SEED (appearance kept, layout changes).")
@click.option("--op", "ops", multiple=True, help='Raw JSON op, e.g. \'{"op":"move","index":0,"delta":[0.2,0]}\'.')
@click.option("--truncation", "-t", default=1.0, show_default=True)
@click.option("--out", default="out/edit", show_default=True, help="Output directory.")
@device_option
@json_option
def edit(checkpoint, model, seed, state_file, moves, sigmas, removes, restyles, new_latent, new_layout, ops,
         truncation, out, device, as_json):
    """Edit an image of a heatmap-steered model; writes before/after PNGs, overlays and state.json."""
    from ..edit import heatmap_overlay
    from ..edit.state_checks import check_seed
    from ..methods.state import render_state
    from ..methods.spatial.edits import apply_ops, state_from_seed
    from ..visual import image_grid

    check_truncation(truncation)
    m, state = load_start(checkpoint, model, seed, state_file, device)
    if state is None:
        if not m.method.has_heatmaps:
            raise UserError(f"{m.source} ({m.method.name}) has no heatmaps to edit; "
                            f"train with --method spatial")
        state = state_from_seed(m, seed or 0, truncation, model_id=checkpoint or model or m.source)
    if state.heatmaps is None:        # e.g. a `steergan drag` state of a baseline model
        raise UserError(f"edit state {state_file} has no heatmaps to edit")
    R = m.resolution
    K = state.heatmaps.num_centres
    edit_ops = []
    for spec in moves:
        i, (dx, dy) = _split(spec, "move", 2)
        edit_ops.append({"op": "move", "index": i, "delta": [2 * dx / R, 2 * dy / R]})
    for spec in sigmas:
        i, (s,) = _split(spec, "sigma", 1)
        edit_ops.append({"op": "set_sigma", "index": i, "sigma": s})
    edit_ops += [{"op": "remove", "index": i} for i in removes]
    for spec in restyles:
        i, (s,) = _split(spec, "restyle", 1)
        edit_ops.append({"op": "set_style", "index": i, "seed": check_seed(int(s), "--restyle seed")})
    for raw in ops:
        try:
            edit_ops.append(json.loads(raw))
        except json.JSONDecodeError:
            raise UserError(f"--op is not valid JSON: {raw!r}") from None
    for op in edit_ops:
        if not isinstance(op, dict):
            raise UserError(f"an edit op must be a JSON object, got {op!r}")
        _check_numbers(op, f"edit op {op.get('op')!r}")
        w = op.get("w")
        if op.get("op") == "set_style" and w is not None and (
                not isinstance(w, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in w)):
            raise UserError(f"edit op 'set_style': 'w' must be null or a list of numbers, got {w!r}"[:300])
        if isinstance(op.get("seed"), int):
            check_seed(op["seed"], "op seed")
        if isinstance(op.get("index"), int) and not 0 <= op["index"] < K:
            raise UserError(f"centre index {op['index']} does not exist: this model has centres 0..{K - 1}")

    before = render_state(m, state)
    t0 = time.perf_counter()
    edited = apply_ops(state, edit_ops, m)
    if new_latent is not None:
        edited = replace(edited, seed=check_seed(int(new_latent), "--new-latent"), ws=None)
    if new_layout is not None:
        check_seed(new_layout, "--new-layout")
        edited = replace(edited, heatmaps=state_from_seed(m, new_layout, truncation).heatmaps)
    after = render_state(m, edited)
    ms = 1000 * (time.perf_counter() - t0)

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    image_grid(before, nrow=1).resize((R * 4, R * 4), 0).save(out_dir / "before.png")
    image_grid(after, nrow=1).resize((R * 4, R * 4), 0).save(out_dir / "after.png")
    heatmap_overlay(before[0], state.heatmaps).save(out_dir / "before_heatmaps.png")
    heatmap_overlay(after[0], edited.heatmaps).save(out_dir / "after_heatmaps.png")
    tmp = out_dir / "state.json.tmp"
    tmp.write_text(edited.to_json())
    tmp.replace(out_dir / "state.json")
    changed = (after - before).abs().mean().item()
    emit({"model": m.source, "ops": edit_ops, "ms": round(ms, 2), "mean_abs_change": round(changed, 5),
          "out": str(out_dir), "state": str(out_dir / "state.json")}, as_json,
         [f"applied {len(edit_ops)} op(s) in {ms:.1f} ms; wrote {out_dir}/after.png, after_heatmaps.png, state.json"])
