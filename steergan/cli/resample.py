"""``steergan resample``: give one link's latent axes new values (LinkGAN partial resampling).

Writes ``original.png``, ``sample_XX.png`` (one per new value), ``grid.png`` (original first),
``difference.png`` (mean per-pixel change over the samples, the link's region outlined) and one
edit state per image (``state_original.json``, ``state_XX.json``: explicit W+, reloadable by the
editor and the API's ``render_state``).
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import UserError
from .common import check_truncation, device_option, emit, json_option, model_option


def parse_links_option(text):
    """``--links`` JSON: a list of links or {"links": [...]} / {"layout": "quadrants"}."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f"--links is not valid JSON ({e})") from None
    if not isinstance(value, (list, dict)):
        raise UserError("--links must be a JSON list of links or an object with 'links' or 'layout'")
    return value


@click.command()
@click.argument("checkpoint", required=False)
@model_option
@click.option("--seed", type=int, default=0, show_default=True, help="The image to edit.")
@click.option("--link", "link", type=int, default=0, show_default=True, help="Which link's axes to resample.")
@click.option("--n", type=int, default=8, show_default=True, help="How many new values.")
@click.option("--links", "links_json", default=None,
              help='Links for a model without its own (e.g. the baseline): JSON as in --method-options, '
                   'e.g. \'[{"region": {"class": "floor"}, "axes": 32}]\'.')
@click.option("--segmenter", default=None, help="Segmenter file for class regions (default: bundled rooms).")
@click.option("--truncation", "-t", default=1.0, show_default=True)
@click.option("--out", default="out/resample", show_default=True, help="Output directory.")
@device_option
@json_option
def resample(checkpoint, model, seed, link, n, links_json, segmenter, truncation, out, device, as_json):
    """Resample the axes of link K of an image: the region should change, nothing else."""
    import torch

    from ..edit.difference import change_map, heat_image
    from ..methods.link.edits import link_spec, resample_states
    from ..methods.state import render_state
    from ..metrics.link_locality import LinkRegion
    from ..metrics.locality import locality
    from ..models import load_model
    from ..visual import image_grid

    if checkpoint and model:
        raise UserError("give a CHECKPOINT or --model, not both")
    if not 1 <= n <= 256:
        raise UserError(f"--n must be between 1 and 256, got {n}")
    if seed < 0 or seed >= 2 ** 32:
        raise UserError("--seed must be between 0 and 2^32-1")
    check_truncation(truncation)
    m = load_model(checkpoint or model, device=device)
    links = parse_links_option(links_json)
    start, states = resample_states(m, seed, link, n, truncation, links, model_id=checkpoint or model or m.source)
    spec = link_spec(m, links)[link]
    with torch.no_grad():
        x = render_state(m, start)
        edited = torch.cat([render_state(m, s) for s in states])
        mask = LinkRegion(m, spec, segmenter)(x.expand_as(edited), edited)

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    image_grid(x).save(out_dir / "original.png")
    for i, img in enumerate(edited):
        image_grid(img[None]).save(out_dir / f"sample_{i:02d}.png")
        (out_dir / f"state_{i:02d}.json").write_text(states[i].to_json())
    (out_dir / "state_original.json").write_text(start.to_json())
    image_grid(torch.cat([x, edited]), nrow=min(n + 1, 9)).save(out_dir / "grid.png")
    region = mask.max(0).values[0] if mask.shape[0] > 1 else mask[0, 0]
    heat_image(change_map(x, edited), region=region).save(out_dir / "difference.png")
    loc = locality(x.expand_as(edited), edited, mask)
    emit({"out": str(out_dir), "seed": seed, "link": link, "n": n, "spec": spec.to_dict(),
          "inside": loc["inside"], "outside": loc["outside"], "ratio": loc["ratio"]}, as_json,
         [f"wrote {n} resamples of link {link} (axes {spec.axes[0]}..{spec.axes[1] - 1}) to {out_dir}",
          f"masked MSE inside {loc['inside'] * 1e3:.2f}e-3, outside {loc['outside'] * 1e3:.2f}e-3, "
          f"ratio {loc['ratio']:.3f}"])
