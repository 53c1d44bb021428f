"""Issue 16's figure: start | DragGAN alone | hybrid, for n drags per model, the requested arrow drawn.

    python bench/drag_figure.py --models rooms,creatures --n 8 --out bench/results/drag_figure.png \
        --json bench/results/drag_figure.json

The drags are ``drag_table.sample_drags``'s (seed 0, a 1/4-image move from a heatmap centre
that lies on an object), so the figure shows the first drags of the table. Under each result:
the content's progress as the independent measure reads it (``metrics.drag_content``: where
the start image's patch around the handle went, by normalised cross-correlation), and the
tracker's own end distance, labelled as such. The arrow is the request (red handle -> blue
target); a green cross marks where the content was found.
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import torch
from PIL import Image, ImageDraw

from _timing import report
from drag_table import sample_drags
from steergan.edit.drag import DragOptions, DragSession, initial_state
from steergan.metrics.drag_content import drag_content
from steergan.metrics.segmenter import load_segmenter
from steergan.models import load_model

SCALE, LABEL = 4, 26


def panel(img: torch.Tensor, handle, target, found, text: str) -> Image.Image:
    """One uint8 [3, R, R] image at SCALE x with the arrow, the found content and a caption."""
    R = img.shape[-1]
    im = Image.fromarray(img.permute(1, 2, 0).numpy()).resize((R * SCALE, R * SCALE), Image.NEAREST)
    out = Image.new("RGB", (im.width, im.height + LABEL), "white")
    out.paste(im, (0, 0))
    d = ImageDraw.Draw(out)
    px = lambda p: ((p[0] + 0.5) * SCALE, (p[1] + 0.5) * SCALE)              # noqa: E731
    d.line([px(handle), px(target)], fill=(255, 212, 0), width=2)
    for p, colour in ((handle, (225, 29, 72)), (target, (37, 99, 235))):
        x, y = px(p)
        d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour, outline="white")
    if found is not None:
        x, y = px(found)
        d.line([x - 5, y - 5, x + 5, y + 5], fill=(0, 200, 0), width=2)
        d.line([x - 5, y + 5, x + 5, y - 5], fill=(0, 200, 0), width=2)
    for i, line in enumerate(text.split("\n")):
        d.text((3, im.height + 1 + 12 * i), line, fill="black")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="rooms,creatures")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--fraction", type=float, default=0.25)
    ap.add_argument("--max-steps", type=int, default=200)
    ap.add_argument("--out", default="bench/results/drag_figure.png")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    rows, res = [], {"n": a.n, "fraction": a.fraction, "max_steps": a.max_steps, "drags": []}
    for name in a.models.split(","):
        m = load_model(name)
        seg = load_segmenter(m.method.options().get("segmenter"))
        drags, _ = sample_drags(m, seg, a.n, [a.fraction], 0)
        for seed, handle, targets in drags:
            target = targets[a.fraction]
            tiles, rec = [], {"model": name, "seed": seed, "handle": handle, "target": target}
            start = m.generate([seed])[0]
            tiles.append(panel(start, handle, target, None, f"{name} seed {seed}\nstart"))
            for mode in ("drag", "hybrid"):
                s = DragSession(m, initial_state(m, seed), [handle], [target],
                                options=replace(DragOptions(), mode=mode, max_steps=a.max_steps))
                summary = s.run()
                after = s.image()
                c = drag_content(start, after, handle, target)
                tracker_px = summary["distance"] * m.resolution
                label = "DragGAN alone" if mode == "drag" else "hybrid"
                tiles.append(panel(after, handle, target, c["content_end"],
                                   f"{label}: content {c['content_progress']:.2f} of the way\n"
                                   f"tracker says {tracker_px:.1f} px, {summary['steps']} steps"))
                rec[mode] = {"content_progress": round(c["content_progress"], 3),
                             "content_end_px": round(c["content_end_distance"], 2),
                             "tracker_px": round(tracker_px, 2), "steps": summary["steps"],
                             "lost": summary["lost"]}
            rows.append(tiles)
            res["drags"].append(rec)
    w, h = rows[0][0].size
    sheet = Image.new("RGB", (3 * w + 8, len(rows) * (h + 4) + 4), (240, 240, 240))
    for r, tiles in enumerate(rows):
        for c, t in enumerate(tiles):
            sheet.paste(t, (2 + c * (w + 2), 2 + r * (h + 4)))
    sheet.save(a.out)
    report(res, a.json)


if __name__ == "__main__":
    main()
