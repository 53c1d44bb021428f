"""Old (left) and new (right) bundled models, 32 seeds each, one row per model.

    python bench/old_vs_new_figure.py --before 97525a7 --out bench/results/quality_grids/old_vs_new.png
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from grids_figure import model_grid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default="97525a7", help="commit whose steergan/assets hold the old models")
    ap.add_argument("--models", default="rooms,creatures,semantic")
    ap.add_argument("--out", default="bench/results/quality_grids/old_vs_new.png")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.models.split(","):
            old = Path(tmp) / f"{name}.safetensors"
            old.write_bytes(subprocess.run(["git", "show", f"{a.before}:steergan/assets/{name}.safetensors"],
                                           capture_output=True, check=True).stdout)
            grids = [model_grid(src) for src in (str(old), name)]
            rows.append((name, grids))
    w, h = rows[0][1][0].size
    out = Image.new("RGB", (90 + 2 * w + 12, len(rows) * (h + 6)), "white")
    for i, (name, (old, new)) in enumerate(rows):
        y = i * (h + 6)
        ImageDraw.Draw(out).text((6, y + h // 2 - 12), f"{name}\nold | new", fill="black")
        out.paste(old, (90, y))
        out.paste(new, (90 + w + 12, y))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    out.save(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
