"""LinkGAN's tables and figures on our models (Zhu et al., ICCV 2023, Tab. 1-3, Fig. 3-5).

* Table 2 analogue: masked MSE inside / outside the link's region when its axes are resampled,
  and their ratio outside / inside, for the LinkGAN model and for the baseline with the same axes.
* Table 3 analogue (``--sweep-axes``): short fine-tunes from a baseline run, one per number of
  linked axes, each reporting both leakages (MSE_i: the region changes when the other axes move;
  MSE_o: the outside changes when the link's axes move), their sum and the edit itself (inside).
* Table 1 analogue (``--fd-n``): fd_effnet of the baseline and of the LinkGAN model.
* Difference heat-maps (``--figures``): per model and link, original / link resampled / its
  change / the rest of w resampled / its change, for a few seeds and averaged over 64.

    python bench/link_table.py --model linkgan --baseline rooms-stylegan2 --n 1000 --fd-n 1000 \
        --figures linkgan --json bench/results/link_table.json
    python bench/link_table.py --model linkgan --baseline rooms-stylegan2 --n 500 \
        --sweep-axes 8,16,32,64 --minutes 5 --init-from rooms-stylegan2 --data data/rooms64 \
        --sweep-dir runs/link-sweep --json bench/results/link_sweep.json

Figures (``bench/results/link_heatmaps_<name>.png``, one block per link): any model with links, e.g. the class and the
four-quadrant fine-tunes of the README (``--figures linkgan,runs/link-floor,runs/link-quadrants``).
MSEs are on images scaled to [0, 1]; the tables print them x1e-3 like the paper.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import torch
from PIL import Image

from steergan.edit.difference import change_map, heat_image
from steergan.errors import UserError
from steergan.methods.link.edits import link_spec, resample_seeds, resample_ws
from steergan.metrics.link_locality import LinkRegion, link_locality
from steergan.models import load_model
from steergan.visual import image_grid

sys.path.insert(0, str(Path(__file__).parent))
from _timing import report  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def links_of(model) -> dict:
    """The LinkGAN model's links in the method-options form (to give the baseline the same axes)."""
    o = model.method.options()
    return {"layout": o["layout"]} if o.get("layout") else {"links": o["links"]}


def table2(model, baseline, n: int, truncation: float) -> list[dict]:
    rows = []
    links = links_of(model)
    for k in range(len(link_spec(model))):
        for name, m, spec in (("linkgan", model, None), ("baseline", baseline, links)):
            r = link_locality(m, spec, link=k, n=n, truncation=truncation)
            rows.append({"model": name, "source": m.source, **r})
            print(f"  link {k} {name:9s} inside {r['inside'] * 1e3:6.2f}  outside {r['outside'] * 1e3:6.2f}  "
                  f"ratio {r['ratio']:.3f}", file=sys.stderr)
    return rows


def fd_effnet(model: str, n: int, data: str | None) -> float:
    """The CLI's own fd_effnet (same sampling, seeds and cache as ``steergan eval``)."""
    cmd = [sys.executable, "-m", "steergan.cli.main", "eval", "--model", model, "--metric", "fd_effnet",
           "--n", str(n), "--json"] + (["--data", data] if data else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["value"]


def sweep(args) -> list[dict]:
    """One fine-tune per number of linked axes (same region, minutes and seed), then Table 3."""
    from steergan.data import ImageDataset
    from steergan.nn import ArchConfig
    from steergan.train import Trainer, TrainOptions
    from steergan.checkpoint import read_generator_file, read_training_checkpoint
    from steergan.models import resolve_model

    # a run directory (G and D), or a generator file / bundled name (G only: D warms up first)
    init = resolve_model(args.init_from)[0]
    cfg = read_generator_file(init)[0] if init.is_file() else read_training_checkpoint(init)[0]
    arch = ArchConfig.from_dict(cfg["arch"])
    dataset = ImageDataset(args.data, resolution=arch.resolution, max_images=args.max_images)
    region = json.loads(args.region)
    extra = json.loads(args.method_options)
    rows = []
    for n_axes in [int(a) for a in args.sweep_axes.split(",")]:
        out = Path(args.sweep_dir) / f"axes-{n_axes}"
        opts = TrainOptions(data=args.data, out=str(out), preset="tiny", method="link",
                            method_options={"links": [{"region": region, "axes": n_axes}], **extra},
                            minutes=args.minutes, kimg=1e6, batch=args.batch, augment="", seed=0,
                            init_from=str(init), tick_kimg=4.0, keep_last=1)
        t0 = time.time()
        trainer = Trainer(opts, dataset, arch=arch, progress=False)
        trainer.run()                                   # resumes (or does nothing) if already done
        model = load_model(str(out))
        r = link_locality(model, n=args.n, truncation=args.truncation)
        row = {"axes": n_axes, "leak_in": r["leak_in"], "leak_out": r["leak_out"],
               "sum": r["leak_in"] + r["leak_out"], "inside": r["inside"], "ratio": r["ratio"],
               "kimg": trainer.images_seen / 1000, "minutes": trainer.train_seconds / 60,
               "wall_seconds": round(time.time() - t0, 1)}
        if args.fd_n:
            row["fd_effnet"] = fd_effnet(str(out), args.fd_n, args.data)
        rows.append(row)
        print(f"  {n_axes:4d} axes: MSE_i {row['leak_in'] * 1e3:6.2f}  MSE_o {row['leak_out'] * 1e3:6.2f}  "
              f"sum {row['sum'] * 1e3:6.2f}  inside {row['inside'] * 1e3:6.2f}", file=sys.stderr)
    return rows


@torch.no_grad()
def heatmap_figure(model, name: str, seeds: int = 3, average_over: int = 64, scale: int = 3) -> Path:
    """One block per link: rows = seeds (+ a row of means over ``average_over`` seeds), columns =
    original, link's axes resampled, its change, the other axes resampled, its change. One colour
    scale per block, the link's region outlined in cyan."""
    size = model.resolution * scale
    blank = Image.new("RGB", (size, size), "white")
    rows = []
    for k, spec in enumerate(link_spec(model)):
        region = LinkRegion(model, spec)
        ids = list(range(average_over))
        ws = torch.cat([model.ws_from_seed(s) for s in ids])
        donors = torch.cat([model.ws_from_seed(resample_seeds(s, k, 1)[0]) for s in ids])
        x = model.synthesize(ws)
        x1 = model.synthesize(resample_ws(ws, spec, donors))
        x2 = model.synthesize(resample_ws(donors, spec, ws))
        maps = [(change_map(x[i], x1[i:i + 1]), change_map(x[i], x2[i:i + 1])) for i in range(seeds)]
        vmax = max(float(torch.stack([m for pair in maps for m in pair]).max()), 1e-6)
        for i in range(seeds):
            m = region(x[i:i + 1], x[i:i + 1])[0, 0]
            tiles = [image_grid(x[i:i + 1]), image_grid(x1[i:i + 1]), heat_image(maps[i][0], vmax, m, 1),
                     image_grid(x2[i:i + 1]), heat_image(maps[i][1], vmax, m, 1)]
            rows.append([t.resize((size, size), Image.NEAREST) for t in tiles])
        mean1, mean2 = change_map(x, x1), change_map(x, x2)
        vmean = max(float(mean1.max()), float(mean2.max()), 1e-6)
        m = region(x, x).mean(0)[0]
        rows.append([blank, blank, heat_image(mean1, vmean, m, scale), blank, heat_image(mean2, vmean, m, scale)])
    gap = 2
    fig = Image.new("RGB", (5 * size + 4 * gap, len(rows) * (size + gap)), "white")
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            fig.paste(tile, (c * (size + gap), r * (size + gap)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"link_heatmaps_{name}.png"
    fig.save(path)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="linkgan", help="LinkGAN model (bundled name or path)")
    ap.add_argument("--baseline", default="rooms-stylegan2", help="baseline with the same architecture")
    ap.add_argument("--n", type=int, default=1000, help="samples per measurement")
    ap.add_argument("--truncation", type=float, default=1.0)
    ap.add_argument("--fd-n", type=int, default=0, help="also fd_effnet with this many samples (Table 1); 0 = skip")
    ap.add_argument("--data", default=None, help="real images for fd_effnet / the sweep's fine-tunes")
    ap.add_argument("--figures", default="", help="comma-separated models to draw difference heat-maps for")
    ap.add_argument("--sweep-axes", default="", help="e.g. 8,16,32,64: Table 3 fine-tunes (needs --init-from)")
    ap.add_argument("--minutes", type=float, default=5.0, help="training minutes of each sweep fine-tune")
    ap.add_argument("--init-from", default=None, help="baseline the sweep fine-tunes start from: a run directory, or a generator file or bundled name (D warms up first)")
    ap.add_argument("--sweep-dir", default="runs/link-sweep")
    ap.add_argument("--region", default='{"box": [0.0, 0.5, 0.5, 1.0]}', help="the sweep's region (JSON)")
    ap.add_argument("--method-options", default='{"interval": 4}', help="other link options of the sweep (JSON)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-images", type=int, default=None, help="use at most this many dataset images")
    ap.add_argument("--skip-table2", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    res: dict = {"n": args.n, "truncation": args.truncation, "units": "MSE on [0, 1] images"}
    try:
        if not args.skip_table2:
            model, baseline = load_model(args.model), load_model(args.baseline)
            res["table2"] = table2(model, baseline, args.n, args.truncation)
            if args.fd_n:
                res["table1"] = {name: fd_effnet(m, args.fd_n, args.data)
                                 for name, m in (("baseline", args.baseline), ("linkgan", args.model))}
        if args.sweep_axes:
            if not (args.init_from and args.data):
                raise UserError("--sweep-axes needs --init-from (a baseline run) and --data")
            res["table3"] = sweep(args)
            res["table3_default"] = min(res["table3"], key=lambda r: r["sum"])["axes"]
        figs = [f for f in args.figures.split(",") if f.strip()]
        res["figures"] = {f: str(heatmap_figure(load_model(f), Path(f).stem.replace(".", "_"))) for f in figs}
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report(res, args.json)
    bad = [r for r in res.get("table2", []) if not math.isfinite(r["ratio"])]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
