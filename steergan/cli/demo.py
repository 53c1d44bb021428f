"""``steergan demo``: the quick start's main job, run on the bundled models offline."""
from __future__ import annotations

import html
import json
import time
from pathlib import Path

import click
import torch

from ..models import bundled_models, default_model_name, load_model


@click.command()
@click.option("--out", default="out/demo", show_default=True)
@click.option("--model", default=None, help="Bundled model name or checkpoint (default: every bundled model).")
@click.option("--seeds", default=32, show_default=True, help="Images per grid.")
def demo(out, model, seeds):
    """Sample grids (and a truncation sweep) from the bundled models, with an HTML page."""
    from ..visual import image_grid
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [model] if model else (list(bundled_models()) or [default_model_name()])
    sections, summary = [], {}
    for name in names:
        m = load_model(name)
        t0 = time.time()
        imgs = m.generate(range(seeds))
        dt = time.time() - t0
        slug = Path(str(name)).stem
        grid = out_dir / f"{slug}_grid.png"
        image_grid(imgs.float() / 127.5 - 1, nrow=8).resize((8 * 128, (seeds + 7) // 8 * 128), 0).save(grid)
        sweep_imgs = [m.generate([s], truncation=t) for s in range(4) for t in (0.0, 0.5, 0.7, 1.0)]
        sweep = out_dir / f"{slug}_truncation.png"
        image_grid(torch.cat(sweep_imgs).float() / 127.5 - 1, nrow=4).resize((4 * 128, 4 * 128), 0).save(sweep)
        summary[slug] = {"model": m.source, "method": m.method.name, "images": seeds,
                         "ms_per_image": round(1000 * dt / seeds, 2), "files": [grid.name, sweep.name]}
        sections.append(f"<h2>{html.escape(slug)} <small>({html.escape(m.method.name)})</small></h2>"
                        f"<p>{seeds} seeds, {1000 * dt / seeds:.1f} ms per image on {m.device}.</p>"
                        f"<img src='{grid.name}'><h3>Truncation 0, 0.5, 0.7, 1 (rows: seeds 0-3)</h3>"
                        f"<img src='{sweep.name}'>")
        if m.method.has_heatmaps:
            from ..edit.showcase import edit_rows
            from ..visual import sheet
            rows = edit_rows(m, range(6))
            edits = out_dir / f"{slug}_edits.png"
            sheet(rows).save(edits)
            titles = " | ".join(t for t, _ in rows[0][1])
            sections.append(f"<h3>Heatmap edits (columns: {html.escape(titles)})</h3><img src='{edits.name}'>")
            summary[slug]["files"].append(edits.name)
        for cap, what, make in (("link_resample", "LinkGAN: the link's axes resampled, and the mean change "
                                 "(the linked region outlined)", "link_rows"),
                                ("class_texture", "SemanticStyleGAN: labels, a texture swap and a shape "
                                 "resample of the largest class, the image built up class by class", "semantic_rows")):
            if cap in m.capabilities:
                from ..edit import method_showcase
                from ..visual import sheet
                rows = getattr(method_showcase, make)(m, range(4))
                path = out_dir / f"{slug}_edits.png"
                sheet(rows).save(path)
                titles = " | ".join(t for t, _ in rows[0][1])
                sections.append(f"<h3>{html.escape(what)} (columns: {html.escape(titles)})</h3><img src='{path.name}'>")
                summary[slug]["files"].append(path.name)
        click.echo(f"{slug}: wrote {grid} and {sweep} ({1000 * dt / seeds:.1f} ms/image)")
    page = out_dir / "index.html"
    page.write_text("<!doctype html><meta charset=utf-8><title>steergan demo</title>"
                    "<style>body{font-family:sans-serif;margin:2em;background:#fafafa}img{image-rendering:pixelated}"
                    "</style><h1>steergan demo</h1>" + "".join(sections))
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    click.echo(f"open {page}")
