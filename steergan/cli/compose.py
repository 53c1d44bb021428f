"""``steergan compose``: per-class edits of SemanticStyleGAN models.

Swap one class's texture or shape code with another sample's, or draw it afresh; show
every class's pseudo-depth; build the image up class by class (the paper's composition
figure). Classes are given by name or id. Writes ``original.png``, ``edited.png`` (if any
edit), ``labels.png`` (generated label maps, original | edited), ``depth.png``,
``build_up.png`` (with ``--build-up``) and ``state.json`` (explicit W+, reloadable with
``--state`` and by the editor).
"""
from __future__ import annotations

import time
from pathlib import Path

import click

from ..errors import UserError
from .common import check_truncation, device_option, emit, json_option, load_start, model_option


@click.command()
@click.argument("checkpoint", required=False)
@model_option
@click.option("--seed", type=int, default=None, help="The image to edit (default 0 unless --state).")
@click.option("--state", "state_file", default=None, help="Start from a saved state.json (explicit W+).")
@click.option("--swap-texture", "swap_texture", multiple=True, metavar="CLASS",
              help="Take CLASS's texture code from --from-seed (appearance only; the coarse masks "
                   "cannot change).")
@click.option("--swap-shape", "swap_shape", multiple=True, metavar="CLASS",
              help="Take CLASS's shape code from --from-seed (its mask and depth change).")
@click.option("--from-seed", type=int, default=None, help="The donor sample of --swap-texture / --swap-shape.")
@click.option("--resample-texture", multiple=True, metavar="CLASS", help="A fresh texture code for CLASS.")
@click.option("--resample-shape", multiple=True, metavar="CLASS", help="A fresh shape code for CLASS.")
@click.option("--resample-seed", type=int, default=None,
              help="Seed of the fresh codes of --resample-* (default: 1000 + the image's seed).")
@click.option("--build-up", is_flag=True, help="Also write the image built up class by class.")
@click.option("--truncation", "-t", default=1.0, show_default=True)
@click.option("--out", default="out/compose", show_default=True, help="Output directory.")
@device_option
@json_option
def compose(checkpoint, model, seed, state_file, swap_texture, swap_shape, from_seed, resample_texture,
            resample_shape, resample_seed, build_up, truncation, out, device, as_json):
    """Per-class shape/texture edits, depth maps and build-up of a SemanticStyleGAN model."""
    from ..edit.semantic_views import depth_image, label_image
    from ..methods.semantic import edits
    from ..methods.state import EditState
    from ..visual import image_grid

    from ..edit.state_checks import check_seed
    check_truncation(truncation)
    for value, flag in ((from_seed, "--from-seed"), (resample_seed, "--resample-seed")):
        if value is not None:
            check_seed(value, flag)
    if (swap_texture or swap_shape) and from_seed is None:
        raise UserError("--swap-texture / --swap-shape need --from-seed (the donor sample)")
    if from_seed is not None and not (swap_texture or swap_shape):
        raise UserError("--from-seed is only used with --swap-texture or --swap-shape")
    m, state = load_start(checkpoint, model, seed, state_file, device)
    if state is not None:
        truncation, noise_mode = state.truncation, state.noise_mode
        ws = state.ws_tensor(m.device) if state.ws is not None else m.ws_from_seed(state.seed, truncation)
        base_seed = state.seed if state.seed is not None else 0
    else:
        base_seed, noise_mode = seed or 0, "const"
        ws = m.ws_from_seed(base_seed, truncation)
    method = edits.check_model(m)
    if ws.shape[1] != m.G.num_ws:
        raise UserError(f"the state's W+ has {ws.shape[1]} entries; this model needs {m.G.num_ws}")
    fresh = resample_seed if resample_seed is not None else 1000 + base_seed
    ops = [{"op": "set_code", "class": c, "part": part, "seed": from_seed}
           for part, names in (("texture", swap_texture), ("shape", swap_shape)) for c in names]
    ops += [{"op": "set_code", "class": c, "part": part, "seed": fresh}
            for part, names in (("texture", resample_texture), ("shape", resample_shape)) for c in names]
    for op in ops:                                   # names -> ids (and a clear error for unknown ones)
        op["class"] = method.class_index(op["class"])

    t0 = time.perf_counter()
    before = edits.render(m, ws, noise_mode)
    edited_ws = edits.apply_ops(ws, ops, m, truncation)
    after = edits.render(m, edited_ws, noise_mode) if ops else before
    ms = 1000 * (time.perf_counter() - t0)

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    R = m.resolution
    files = {"original": out_dir / "original.png", "labels": out_dir / "labels.png", "depth": out_dir / "depth.png",
             "state": out_dir / "state.json"}
    image_grid(before.image, nrow=1).resize((R * 4, R * 4), 0).save(files["original"])
    label_maps = [edits.labels(before)[0]] + ([edits.labels(after)[0]] if ops else [])
    strip = [label_image(lab) for lab in label_maps]
    canvas = strip[0] if len(strip) == 1 else _side_by_side(strip)
    canvas.save(files["labels"])
    depth_image(after.depths[0], method.classes).save(files["depth"])
    if ops:
        files["edited"] = out_dir / "edited.png"
        image_grid(after.image, nrow=1).resize((R * 4, R * 4), 0).save(files["edited"])
    if build_up:
        images, order = edits.build_up(m, edited_ws, noise_mode=noise_mode)
        files["build_up"] = out_dir / "build_up.png"
        image_grid(images, nrow=len(order)).resize((R * 2 * len(order), R * 2), 0).save(files["build_up"])
    state = EditState(checkpoint or model or m.source, ws=edited_ws[0].cpu().tolist(), truncation=truncation,
                      noise_mode=noise_mode).validate()
    tmp = files["state"].with_name("state.json.tmp")
    tmp.write_text(state.to_json())
    tmp.replace(files["state"])
    changed = (after.image - before.image).abs().mean().item()
    emit({"model": m.source, "classes": method.classes, "ops": ops, "ms": round(ms, 2),
          "mean_abs_change": round(changed, 5), "files": {k: str(v) for k, v in files.items()}}, as_json,
         [f"applied {len(ops)} class edit(s) in {ms:.1f} ms; wrote {', '.join(p.name for p in files.values())} "
          f"to {out_dir}"])


def _side_by_side(images):
    from PIL import Image
    w, h = images[0].size
    canvas = Image.new("RGB", (w * len(images) + 4 * (len(images) - 1), h), (255, 255, 255))
    for i, im in enumerate(images):
        canvas.paste(im, (i * (w + 4), 0))
    return canvas
