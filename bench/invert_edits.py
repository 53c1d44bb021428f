"""Do edits of inverted images behave like edits of samples? (issue 19)

    python bench/invert_edits.py --model rooms --n 20 --spaces w+,w --json bench/results/invert_edits_rooms.json

Held-out rooms renders (seed 5; the bundled models trained on seed 0) are inverted with
``edit.invert.project`` (heatmaps from the model's segmenter, 100 steps) in each latent space,
then edited the way the metrics edit samples. SpatialGAN models: the Co-move Ratio (move one
heatmap centre that lies on an object, find the object with the segmenter) and the restyle
locality (new style code for one object, masked change outside / inside its footprint).
SemanticStyleGAN: the texture swap locality (one class takes another seed's texture code; change
outside / inside the class). LinkGAN: the link resample locality (the link's axes from a donor;
change outside / inside the linked region). The same figures on the model's own samples (n seeds)
make the reference row.

    python bench/invert_edits.py --model semantic --n 20 --spaces w+ --json bench/results/invert_edits_semantic.json
    python bench/invert_edits.py --model linkgan --n 20 --spaces w+ --json bench/results/invert_edits_linkgan.json

``--pti-steps N --pti-locality 1.0,0.1`` adds, per space, one row per PTI locality weight: every
image's W+ pivot is tuned (``edit.invert.pivotal_tune``) and its edits are measured on its own
tuned generator, one image at a time (sample ``i`` draws its move from seed ``i``), next to the
same per-image figures on the untuned pivots; so a PTI row says what tuning does to the edits.

``--targets samples`` inverts the model's own samples (seeds 10000..) instead of held-out renders:
when their edits behave like the seeds' own, what differs on held-out renders is the images,
not the inversion.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from _timing import report
from steergan.cli.invert import segmenter_instances
from steergan.data.scenes import render
from steergan.edit.invert import initial_heatmaps, inversion_state, pivotal_tune, project, psnr, tuned_model
from steergan.metrics.comove import co_move_ratio
from steergan.metrics.link_locality import link_locality
from steergan.metrics.restyle_locality import restyle_locality
from steergan.metrics.segmenter import load_segmenter
from steergan.metrics.semantic import texture_swap_locality
from steergan.models import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="rooms")
    ap.add_argument("--kind", default="rooms", help="scene kind of the held-out renders")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--spaces", default="w+,w")
    ap.add_argument("--targets", choices=("holdout", "samples"), default="holdout",
                    help="what to invert: held-out renders (seed 5) or the model's own samples (seeds 10000..)")
    ap.add_argument("--pti-steps", type=int, default=0, help="also tune each pivot for this many steps (0: no PTI rows)")
    ap.add_argument("--pti-locality", default="1.0", help="PTI locality weights, one row each (with --pti-steps)")
    ap.add_argument("--pti-follow", default="0", help="PTI follow weights, one row each per locality weight")
    ap.add_argument("--pti-freeze", default="", help="PTI rows: '+'-joined parts left as trained "
                    "(steergan.edit.invert.PTI_FREEZABLE), one row each per comma item; '' = tune them all")
    ap.add_argument("--follow", default="0", help="weights of the follow term in the W+ projection (SpatialGAN), "
                    "one row each per space")
    ap.add_argument("--fit-centres", default="0", help="comma list of 0/1: also fit the heatmap centres and sigmas "
                    "in the projection (one row each)")
    ap.add_argument("--coarse-w", default="0", help="comma list: in W+, the first this many rows share one w "
                    "(one row each)")
    ap.add_argument("--segmenter", default=None,
                    help="the segmenter that reads the Co-move Ratio (a file, e.g. the evaluation-only one in "
                         "bench/results/; default: the model's own); the heatmaps always start from the model's")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    m = load_model(a.model)
    caps = m.capabilities
    spatial = m.method.has_heatmaps
    if not spatial and any(float(f) for f in a.follow.split(",")):
        ap.error("--follow needs a model with movable heatmaps (SpatialGAN)")
    fits = [bool(int(f)) for f in a.fit_centres.split(",")]
    if not spatial and any(fits):
        ap.error("--fit-centres needs a model with heatmaps (SpatialGAN)")
    seg = load_segmenter(a.segmenter or m.method.options().get("segmenter") or a.kind) if spatial else None
    if a.targets == "samples":
        from steergan.methods.state import render_state, start_state
        from steergan.models import to_uint8
        with torch.no_grad():
            targets = [to_uint8(render_state(m, start_state(m, 10_000 + i)))[0] for i in range(a.n)]
    else:
        targets = [torch.from_numpy(render(a.kind, i, m.resolution, 5).image.transpose(2, 0, 1).copy())
                   for i in range(a.n)]

    def measure(states=None, ws=None) -> dict:
        """The method's edit figures on seeds (no arguments) or on the given states / W+."""
        out = {}
        if spatial:
            cm = co_move_ratio(m, a.n, seg, start_states=states)
            out.update(co_move_mean=cm["mean"], co_move_median=cm["median"], co_move_valid=cm["n_valid"],
                       co_move_content_mean=cm["content_mean"], move_rest_change=cm["rest_change_mean"],
                       move_vacated_residue=cm["vacated_residue_mean"])
            if "heatmap_style" in caps:
                out["restyle_ratio"] = restyle_locality(m, n=a.n, start_states=states)["ratio"]
        elif m.method.name == "semantic":
            out["texture_swap_ratio"] = texture_swap_locality(m, n=a.n, start_ws=ws)["ratio"]
        elif m.method.name == "link":
            out["link_ratio"] = link_locality(m, n=a.n, start_ws=ws)["ratio"]
        return out

    def measure_each(models, states) -> dict:
        """The edit figures image by image, each on its own generator (seed i for image i)."""
        ratios, contents, rests, residues, ins, outs = [], [], [], [], [], []
        for i, (mi, st) in enumerate(zip(models, states)):
            if spatial:
                cm = co_move_ratio(mi, 1, seg, seed=i, start_states=[st], per_sample=True)
                valid = [r for r in cm["per_sample"] if r["skipped"] is None]
                ratios += [r["ratio"] for r in valid]
                contents += [r["content_ratio"] for r in valid]
                rests += [r["rest_change"] for r in valid if not math.isnan(r["rest_change"])]
                residues += [r["vacated_residue"] for r in valid if not math.isnan(r["vacated_residue"])]
                if "heatmap_style" in caps:
                    r = restyle_locality(mi, seed=i, start_states=[st])
                    if r["n_paired"]:
                        ins.append(r["inside"])
                        outs.append(r["outside"])
            elif m.method.name in ("semantic", "link"):
                figure = texture_swap_locality if m.method.name == "semantic" else link_locality
                r = figure(mi, n=1, seed=i, start_ws=st.ws_tensor(m.device))
                ins.append(r["inside"])
                outs.append(r["outside"])
        out = {}
        if ratios:
            out.update(co_move_mean=statistics.fmean(ratios), co_move_median=statistics.median(ratios),
                       co_move_valid=len(ratios), co_move_content_mean=statistics.fmean(contents),
                       move_rest_change=statistics.fmean(rests) if rests else None,
                       move_vacated_residue=statistics.fmean(residues) if residues else None)
        if ins:
            key = {"semantic": "texture_swap_ratio", "link": "link_ratio"}.get(m.method.name, "restyle_ratio")
            out[key] = statistics.fmean(outs) / statistics.fmean(ins)
        return out

    rows = {"samples (reference)": {"psnr_mean": None, **measure()}}
    for space, w_follow, fit, coarse in [(s, float(f), c, int(k)) for s in a.spaces.split(",")
                                         for f in a.follow.split(",") for c in fits for k in a.coarse_w.split(",")]:
        states, scores, t0 = [], [], time.perf_counter()
        for target in targets:
            hm = initial_heatmaps(m, segmenter_instances(m, target)) if spatial else None
            p = project(m, target, steps=a.steps, heatmaps=hm, space=space, follow=w_follow,
                        fit_centres=fit, coarse_w=coarse)
            scores.append(psnr(p.image, target.float()[None] / 127.5 - 1))
            states.append(inversion_state(m.source, p.ws, p.control))
        secs = (time.perf_counter() - t0) / len(targets)
        ws = torch.cat([torch.tensor(st.ws)[None] for st in states])
        space = space + (f", follow {w_follow:g}" if w_follow else "") + (", centres fitted" if fit else "") + (
            f", first {coarse} rows one w" if coarse else "")
        rows[f"inverted, {space}"] = {"psnr_mean": round(statistics.fmean(scores), 2),
                                      "seconds_per_image": round(secs, 2), **measure(states, ws)}
        print(space, rows[f"inverted, {space}"], flush=True)
        if a.pti_steps:
            rows[f"inverted, {space}, image by image (untuned pivots)"] = measure_each([m] * len(states), states)
            combos = [(float(x), float(f), tuple(p for p in z.split("+") if p)) for x in a.pti_locality.split(",")
                      for f in a.pti_follow.split(",") for z in a.pti_freeze.split(",")]
            for weight, follow, freeze in combos:
                tuned, scores, t0 = [], [], time.perf_counter()
                for target, st in zip(targets, states):
                    ctrl = st.heatmaps.to(m.device) if spatial else None
                    ws = st.ws_tensor(m.device)
                    G = pivotal_tune(m, ws, ctrl, target, steps=a.pti_steps, locality=weight, follow=follow,
                                     freeze=freeze)
                    with torch.no_grad():
                        scores.append(psnr(G.synthesis(ws, ctrl, noise_mode="const"), target.float()[None] / 127.5 - 1))
                    tuned.append(tuned_model(m, G, f"{m.source} + PTI"))
                secs = (time.perf_counter() - t0) / len(targets)
                key = f"inverted, {space}, PTI {a.pti_steps} steps, locality {weight:g}" + (
                    f", follow {follow:g}" if follow else "") + (f", {'+'.join(freeze)} frozen" if freeze else "")
                rows[key] = {"psnr_mean": round(statistics.fmean(scores), 2), "pti_seconds_per_image": round(secs, 2),
                             **measure_each(tuned, states)}
                print(key, rows[key], flush=True)
    report({"model": m.source, "n": a.n, "steps": a.steps, "targets": a.targets, "pti_steps": a.pti_steps,
            "follow": a.follow, "pti_freeze": a.pti_freeze, "fit_centres": a.fit_centres, "coarse_w": a.coarse_w,
            "comove_segmenter": a.segmenter or "the model's",
            **({"holdout_seed": 5} if a.targets == "holdout" else {"sample_seeds": [10_000, 10_000 + a.n - 1]}),
            "rows": rows}, a.json)


if __name__ == "__main__":
    main()
