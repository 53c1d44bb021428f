"""The three methods side by side on `rooms`: how local is each one's region edit?

    python bench/locality_table.py --n 500 --json bench/results/locality_table.json

* SpatialGAN (`rooms`): restyle one object (new style code for one sub-heatmap); region = the
  object's heatmap footprint (H_i >= 0.1 of its peak);
* LinkGAN (`linkgan`): resample the link's axes; region = the link's box;
* SemanticStyleGAN (`semantic`): swap one present class's texture code; region = that class's
  generated mask before or after.
Masked MSE on images in [0, 1] (``steergan.metrics.locality``); ratio = outside / inside.
"""
from __future__ import annotations

import argparse
import json

from steergan.metrics.link_locality import link_locality
from steergan.metrics.restyle_locality import restyle_locality
from steergan.metrics.semantic import texture_swap_locality
from steergan.models import bundled_models, load_model

from _timing import provenance


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--spatial", default="rooms")
    ap.add_argument("--link", default="linkgan")
    ap.add_argument("--semantic", default="semantic")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    rows = {}
    have = bundled_models()
    if a.spatial in have or "/" in a.spatial:
        rows["SpatialGAN restyle one object"] = restyle_locality(load_model(a.spatial), n=a.n)
    if a.link in have or "/" in a.link:
        r = link_locality(load_model(a.link), n=a.n)
        rows["LinkGAN resample linked axes"] = {k: r[k] for k in ("inside", "outside", "ratio")}
    if a.semantic in have or "/" in a.semantic:
        r = texture_swap_locality(load_model(a.semantic), n=a.n)
        rows["SemanticStyleGAN texture swap"] = {k: r[k] for k in ("inside", "outside", "ratio")}
    for name, r in rows.items():
        print(f"{name:34s} inside {r['inside']:.4f}  outside {r['outside']:.4f}  ratio {r['ratio']:.3f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"n": a.n, "rows": rows, "provenance": provenance()}, f, indent=2)


if __name__ == "__main__":
    main()
