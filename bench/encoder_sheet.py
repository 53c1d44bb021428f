"""A sheet to look at: real faces (first column) and what each encoder draws of them alone (no
optimisation, no tuning), one column per encoder file, in the order given.

    python bench/encoder_sheet.py --model emoji --images data/emoji-faces-twitter/images \\
        --out bench/results/encoder_polish_sheet.png E1.safetensors E2.safetensors ...
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from steergan.cli.invert import read_square, segmenter_instances  # noqa: E402
from steergan.data.folder import EXTENSIONS  # noqa: E402
from steergan.edit.encoder import encode_start, load_encoder  # noqa: E402
from steergan.edit.invert import initial_heatmaps  # noqa: E402
from steergan.models import load_model  # noqa: E402
from steergan.visual import image_grid  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("encoders", nargs="+")
    ap.add_argument("--model", default="emoji")
    ap.add_argument("--images", required=True, help="a folder; every --every-th image, sorted by name")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--every", type=int, default=12)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    m = load_model(a.model)
    encs = [load_encoder(p, m) for p in a.encoders]
    files = sorted(p for p in Path(a.images).iterdir() if p.suffix.lower() in EXTENSIONS)
    tiles = []                                   # row by row: the face, then each encoder's render
    for path in files[::a.every][:a.n]:
        img = read_square(path, m.resolution)
        control = initial_heatmaps(m, segmenter_instances(m, img)) if m.method.has_heatmaps else None
        tiles.append(img.float() / 127.5 - 1)
        for enc in encs:
            with torch.no_grad():
                ws, ctrl = encode_start(enc, img, control, G=m.G)
                tiles.append(m.G.synthesis(ws, ctrl, noise_mode="const")[0])
    grid = image_grid(torch.stack(tiles), nrow=1 + len(encs))
    grid.resize((grid.width * 2, grid.height * 2), Image.NEAREST).save(a.out)
    print(a.out)


if __name__ == "__main__":
    main()
