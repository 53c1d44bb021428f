"""``steergan drag``: move points of a generated image (DragGAN, and SpatialGAN's drag pipeline).

Points are pixels of the output image, ``x,y`` with x right and y down; each pair is
``handle>target`` and pairs are separated by ``;``, e.g. ``--points "20,30>28,30;40,12>40,20"``.
"""
from __future__ import annotations

import math
from pathlib import Path

import click

from ..errors import UserError
from .common import check_truncation, device_option, emit, json_option, load_start, model_option


def parse_points(text: str) -> tuple[list[list[float]], list[list[float]]]:
    """'x1,y1>x2,y2;...' -> (handles, targets)."""
    handles, targets = [], []
    for pair in text.split(";"):
        if not pair.strip():
            continue
        try:
            a, b = pair.split(">")
            p, t = [[float(v) for v in s.split(",")] for s in (a, b)]
            if len(p) != 2 or len(t) != 2 or not all(math.isfinite(v) for v in p + t):
                raise ValueError
        except ValueError:
            raise UserError(f"cannot read --points pair {pair.strip()!r}: expected x1,y1>x2,y2 "
                            f"(pairs separated by ';')") from None
        handles.append(p)
        targets.append(t)
    if not handles:
        raise UserError("--points gives no handle>target pair")
    return handles, targets


def read_mask(path: str, resolution: int):
    """A PNG, white (>127) where content may move -> bool [R, R]."""
    import numpy as np
    import torch
    from ..data.imageio import UNREADABLE, open_image
    try:
        with open_image(path) as im:
            arr = np.asarray(im.convert("L"))
    except FileNotFoundError:
        raise UserError(f"mask {path} does not exist") from None
    except UNREADABLE as e:
        raise UserError(f"mask {path} is not a readable image ({e})") from None
    if arr.shape != (resolution, resolution):
        raise UserError(f"mask {path} is {arr.shape[1]}x{arr.shape[0]}, the model's images are "
                        f"{resolution}x{resolution}")
    return torch.from_numpy(arr > 127)


@click.command()
@click.argument("checkpoint", required=False)
@model_option
@click.option("--seed", type=int, default=None, help="Start from this seed (default 0 unless --state).")
@click.option("--state", "state_file", default=None, help="Start from a saved edit state JSON.")
@click.option("--points", required=True, metavar="X,Y>X,Y;...", help="Handle>target pixel pairs.")
@click.option("--mask", "mask_file", default=None, metavar="PNG", help="White where content may move.")
@click.option("--mode", type=click.Choice(["drag", "joint", "hybrid", "heatmap"]), default=None,
              help="drag = DragGAN alone; joint = latent + heatmap centres; hybrid = Eq. 6 coarse move, "
                   "then joint; heatmap = the coarse move only. Default: hybrid, or drag without heatmaps.")
@click.option("--max-steps", default=200, show_default=True)
@click.option("--tolerance", default=1.0, show_default=True, help="Pixels; stop when every handle is this close.")
@click.option("--lr", default=None, type=float, help="Adam step on W+ (default: DragOptions.lr).")
@click.option("--r1", default=None, type=float, help="Motion supervision radius, pixels.")
@click.option("--r2", default=None, type=float, help="Point tracking window half-size, pixels.")
@click.option("--patience", default=None, type=int,
              help="Stop a drag that made no progress for this many steps (default: DragOptions.patience; 0 = never).")
@click.option("--coarse-steps", default=None, type=int,
              help="Eq. 6 coarse moves of hybrid/heatmap mode (default: DragOptions.coarse_steps); more than "
                   "one repeats it from the tracked handle while each closes 20% of the remaining distance.")
@click.option("--truncation", "-t", default=1.0, show_default=True)
@click.option("--out", default="out/drag", show_default=True, help="Output directory.")
@click.option("--gif", is_flag=True, help="Also write drag.gif, one frame per step.")
@device_option
@json_option
def drag(checkpoint, model, seed, state_file, points, mask_file, mode, max_steps, tolerance, lr, r1, r2,
         patience, coarse_steps, truncation, out, gif, device, as_json):
    """Drag handle points of an image to targets; writes final.png, state.json (and drag.gif)."""
    from dataclasses import replace

    from ..edit.animation import drag_frame, save_gif
    from ..edit.drag import DragOptions, DragSession, initial_state
    from ..models import default_model_name

    handles, targets = parse_points(points)
    check_truncation(truncation)
    m, state = load_start(checkpoint, model, seed, state_file, device)
    if state is None:
        state = initial_state(m, seed or 0, truncation, model_id=checkpoint or model or default_model_name())
    mask = read_mask(mask_file, m.resolution) if mask_file else None
    if mode is None:
        mode = "hybrid" if state.heatmaps is not None else "drag"
    opts = replace(DragOptions(), mode=mode, max_steps=max_steps, tolerance=tolerance)
    for name, value in (("lr", lr), ("r1", r1), ("r2", r2), ("coarse_steps", coarse_steps), ("patience", patience)):
        if value is not None:
            opts = replace(opts, **{name: value})

    import torch
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])   # one-off import (~2 s), not part of the drag's time
    session = DragSession(m, state, handles, targets, mask, opts)
    start = session.image()
    frames = [drag_frame(start, session.handles, session.targets)] if gif else []
    summary = session.run((lambda info: frames.append(drag_frame(session.image(), info["handles"], targets)))
                          if gif else None)

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    R = m.resolution
    to_pil = lambda u8: drag_frame(u8, [], [], scale=4)  # noqa: E731
    to_pil(start).save(out_dir / "start.png")
    to_pil(session.image()).save(out_dir / "final.png")
    drag_frame(session.image(), session.handles, session.targets).save(out_dir / "final_points.png")
    tmp = out_dir / "state.json.tmp"
    tmp.write_text(session.state().to_json())
    tmp.replace(out_dir / "state.json")
    files = ["start.png", "final.png", "final_points.png", "state.json"]
    if gif:
        save_gif(frames, out_dir / "drag.gif")
        files.append("drag.gif")
    result = {"model": m.source, "mode": mode, "steps": summary["steps"],
              "optimisation_steps": summary["optimisation_steps"], "seconds": round(summary["seconds"], 3),
              "distance": round(summary["distance"], 5), "reached": summary["reached"],
              "lost": summary["lost"],
              "handles": summary["handles"], "targets": summary["targets"], "resolution": R,
              "out": str(out_dir), "files": files}
    lost = " (stopped: tracking lost the content)" if summary["lost"] else ""
    emit(result, as_json, [f"{mode}: {summary['steps']} steps in {summary['seconds']:.2f} s, final distance "
                           f"{summary['distance']:.4f} of the image size{lost}; wrote {out_dir}/final.png, "
                           f"state.json"])
