"""Reproduce a table or figure of the docs: one name, the commands that made it.

    python bench/run.py --list               # every entry: its page, what it needs, what it writes
    python bench/run.py drag-rooms           # run it (from the repository root)
    python bench/run.py drag-rooms --dry-run # print the commands only

Each entry lists shell commands (run in order from the repository root, with the package's
virtual environment first on PATH), the result files they write and what must exist first
(datasets from ``steergan data make``, training runs). Every file under ``bench/results/`` is
written by an entry here or listed in ``LEGACY`` with the reason it cannot be remade as is
(``tests/test_docs.py`` checks both), so no result is merged by hand without saying so.

After an entry runs, every JSON file it writes that lacks a ``provenance`` record (``steergan
eval --json`` output, for one) gets one: commit, torch, threads, machine and the manifest
command that made it (``_timing.stamp``).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import stamp  # noqa: E402
ROOMS = "data/rooms64 (steergan data make rooms --out data/rooms64 -n 20000)"
HOLDOUTS = "data/rooms64-holdout, data/creatures64-holdout (--seed 1 -n 2000)"
CREATURES = "data/creatures64 (steergan data make creatures --out data/creatures64 -n 2000)"


def unseen_train(data: str, run: str, flags: str, minutes: int = 20, discriminator: str = "projected") -> str:
    """The projected-D training command of the unseen-data checks (one thread, CPU clock)."""
    marks = ",".join(str(m) for m in (10, 20, 40) if m <= minutes)
    return (f"env OMP_NUM_THREADS=1 steergan train --data {data} --out runs/validate/{run} --discriminator {discriminator} "
            f"--clock cpu --minutes {minutes} --kimg 100000 --milestones {marks} --seed 0 {flags}")


def blocks_check(run: str, name: str, effnet: bool = False) -> str:
    return (f"python bench/unseen_check.py --run runs/validate/{run} --data data/blocks64"
            f"{'' if effnet else ' --no-effnet'} --json bench/results/{name}.json --figure bench/results/{name}.png")


def emoji_check(run: str, name: str, minutes: str = "10,20") -> str:
    return (f"python bench/time_to_quality.py --run runs/validate/{run} --minutes {minutes} --metrics fd_judge --pr "
            "--data data/emoji-faces-random --holdout data/emoji-faces-random --n 500 --grids runs/validate/grids "
            f"--json bench/results/{name}.json --figure bench/results/{name}.png")


# the emoji encoder readings: the 100 Twitter faces (a vendor no model or encoder was trained on)
TWITTER = "data/emoji-faces-twitter/images"


def twitter_invert(encoder: str, rows: str, name: str) -> str:
    return (f"env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images {TWITTER} --n 100 --rows {rows} "
            f"--encoder runs/encoders/{encoder}.safetensors --save-every 20 --json bench/results/{name}.json")


def rooms_encoder_reading(encoder: str, seed: int) -> str:
    """One encoder alone on 200 held-out rooms of render seed ``seed``."""
    return (f"env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 200 --seed {seed} --rows enc "
            f"--encoder runs/encoders/rooms-{encoder}.safetensors "
            f"--json bench/results/invert_rooms_n200_seed{seed}_encoder_{encoder}.json")


def emoji_encoder_training(init: str, extra: str, minutes: int, seed: int, out: str, latent: float = 0.1) -> str:
    """Go on training an emoji encoder ``init`` on the three vendors' faces (``extra``: more flags)."""
    return ("env OMP_NUM_THREADS=1 steergan train-encoder emoji --data data/emoji-faces-3v --max-images 12000 "
            f"--latent-weight {latent:g} --domain-weight 1 --init-from runs/encoders/{init}.safetensors {extra}"
            f"--minutes {minutes} --seed {seed} --out runs/encoders/{out}.safetensors")


def twitter_encoder_reading(encoder: str, name: str, n: int = 100, rows: str = "enc", threads: int = 1,
                            extra: str = "", images: str = TWITTER) -> str:
    """An emoji encoder on the first ``n`` Twitter faces, or of ``images`` (``extra``: more flags)."""
    return (f"env OMP_NUM_THREADS={threads} python bench/invert_table.py --model emoji --images {images} --n {n} "
            f"--rows {rows} --encoder runs/encoders/{encoder}.safetensors{extra} --json bench/results/{name}.json")


def twitter_pivot(encoder: str, name: str) -> str:
    return (f"env OMP_NUM_THREADS=1 python bench/encoder_pivot.py --model emoji --images {TWITTER} --n 10 "
            f"--encoder runs/encoders/{encoder}.safetensors --json bench/results/{name}.json")


# the separate entries: the follow recipe of the bundled rooms plus the separation term
def separate_options(follow: float = 1.0, separate: float = 1.0, d_planes: str = "") -> str:
    planes = f', "d_planes": "{d_planes}"' if d_planes else ""
    return ('{"sampling": "multi", "sel": "indoor_norm", "align": "segmenter", "align_interval": 2, '
            f'"paired": true, "n_objects": 4, "follow": {follow}, "separate": {separate}{planes}}}')


SEPARATE_PLANES = {"sep-planes": 1.0, "sep03-planes": 0.3}    # run name: separate weight, with d_planes objects
# the drag-rooms-coarse rows: result name -> drag_table.py flags
DRAG_COARSE = {"coarse3": " --coarse-steps 3", "alpha13": " --coarse-alpha 1.3",
               "alpha13_coarse3": " --coarse-alpha 1.3 --coarse-steps 3"}


SEPARATE_MODELS = {"bundled": "rooms", "separate20": "runs/s13/separate/milestones/minutes-20",
                   "separate40": "runs/s13/separate/milestones/minutes-40",
                   "sepfollow3": "runs/s13/sep-follow3/milestones/minutes-20"}


def separate_evals(name: str, model: str) -> list[str]:
    """Co-move at n = 2000 by both segmenters and (not for the bundled model) the judge, for ``model``."""
    target = f"--model {model}" if model == "rooms" else model
    cmds = [f"env OMP_NUM_THREADS=1 steergan eval {target} --metric comove --n 2000{extra} "
            f"--json > bench/results/separate_comove{suffix}_{name}.json"
            for suffix, extra in (("", ""), ("_evalseg", " --segmenter bench/results/eval_segmenter_rooms.safetensors"))]
    if name != "bundled":                  # its judge distance is dplanes_judge_bundled.json
        cmds.append(f"env OMP_NUM_THREADS=1 steergan eval {target} --metric fd_judge --n 1000 --data data/rooms64 "
                    f"--json > bench/results/separate_judge_{name}.json")
    return cmds


def separate_writes(name: str) -> list[str]:
    return [f"separate_comove_{name}.json", f"separate_comove_evalseg_{name}.json"] + (
        [f"separate_judge_{name}.json"] if name != "bundled" else [])


MANIFEST: dict[str, dict] = {
    "quality": {
        "doc": "docs/quality.md", "needs": f"{ROOMS}, {CREATURES}, {HOLDOUTS}",
        "commands": ["bash bench/quality_refresh.sh"],
        "writes": ["quality_rooms.json", "quality_creatures.json", "quality_grids/"],
    },
    "quality-judge": {
        "doc": "docs/quality.md", "needs": f"{ROOMS}, {CREATURES}, {HOLDOUTS}",
        "commands": [
            "bash -c 'for m in rooms semantic creatures linkgan; do git show 97525a7:steergan/assets/$m.safetensors "
            "> /tmp/steergan-models-before/$m.safetensors; done'",
            "python bench/time_to_quality.py --models /tmp/steergan-models-before/rooms.safetensors,rooms,rooms-projected,"
            "rooms-stylegan2,/tmp/steergan-models-before/linkgan.safetensors,linkgan,"
            "/tmp/steergan-models-before/semantic.safetensors,semantic "
            "--data data/rooms64 --holdout data/rooms64-holdout --n 1000 --metrics fd_judge "
            "--json bench/results/quality_rooms_judge.json",
            "python bench/time_to_quality.py --models /tmp/steergan-models-before/creatures.safetensors,creatures "
            "--segmenter creatures --data data/creatures64 "
            "--holdout data/creatures64-holdout --n 1000 --metrics fd_judge "
            "--json bench/results/quality_creatures_judge.json"],
        "writes": ["quality_rooms_judge.json", "quality_creatures_judge.json"],
    },
    "recipe-ablation": {
        "doc": "docs/quality.md", "needs": f"{ROOMS}, {HOLDOUTS}",
        "commands": ["python bench/recipe_ablation.py --data data/rooms64 --holdout data/rooms64-holdout "
                     "--rows 'defaults,wide 32/64 px layers,lr 0.001,batch 16,EMA half-life 2 kimg,"
                     "augment translation only,fine-tune from rooms-projected,minibatch-stddev in the D heads' "
                     "--json bench/results/recipe_ablation.json --figure bench/results/recipe_ablation.png"],
        "writes": ["recipe_ablation.json", "recipe_ablation.png"],
    },
    "unseen-blocks": {
        "doc": "docs/quality.md", "needs": "data/blocks64 (steergan data make blocks --out data/blocks64 -n 4000)",
        "commands": [
            unseen_train("data/blocks64", run, f"--init-from none {flags}")
            for run, flags in (("blocks", "--batch 32 --arch '{\"projected_mbstd\": false}'"),
                               ("blocks-mbstd", "--batch 32 --arch '{\"projected_mbstd\": true}'"),
                               ("blocks-b16", "--batch 16"))] + [
            blocks_check("blocks-b16", "unseen_blocks_b16"),
            blocks_check("blocks", "unseen_blocks", effnet=True),
            blocks_check("blocks-mbstd", "unseen_blocks_mbstd", effnet=True)],
        "writes": ["unseen_blocks.json", "unseen_blocks.png", "unseen_blocks_mbstd.json", "unseen_blocks_mbstd.png",
                   "unseen_blocks_b16.json", "unseen_blocks_b16.png"],
    },
    "unseen-guards": {
        "doc": "docs/quality.md", "needs": "data/blocks64 and data/emoji-faces-random (the two entries above)",
        "commands": [
            unseen_train(data, run, f"--batch 16 {flags}", minutes)
            for data, kind in (("data/blocks64", "blocks"), ("data/emoji-faces-random", "emoji"))
            for run, flags, minutes in ((f"{kind}-ft", "--init-from rooms-projected", 40),
                                        (f"{kind}-ms", "--init-from none --mode-seeking 1", 20))] + [
            blocks_check(f"blocks-{g}", f"unseen_blocks_{g}") for g in ("ft", "ms")] + [
            emoji_check(f"emoji-{g}", f"unseen_emoji_{g}", minutes) for g, minutes in (("ft", "10,20,40"), ("ms", "10,20"))],
        "writes": [f"unseen_{k}_{g}.{e}" for k in ("blocks", "emoji") for g in ("ft", "ms") for e in ("json", "png")],
    },
    "unseen-blur-rollback": {
        "doc": "docs/quality.md", "needs": "data/blocks64 (the unseen-blocks entry)",
        "commands": [
            unseen_train("data/blocks64", run, f"--init-from none --batch 16 {flags}")
            for run, flags in (("blocks-blur", "--blur-sigma 2 --blur-kimg 10"), ("blocks-rollback", "--on-collapse rollback"))] + [
            blocks_check("blocks-blur", "unseen_blocks_blur"), blocks_check("blocks-rollback", "unseen_blocks_rollback")],
        "writes": ["unseen_blocks_blur.json", "unseen_blocks_blur.png", "unseen_blocks_rollback.json", "unseen_blocks_rollback.png"],
    },
    "unseen-ensemble": {
        "doc": "docs/quality.md", "needs": "data/blocks64 and data/emoji-faces-random (the unseen entries above)",
        "commands": [unseen_train("data/blocks64", "blocks-ensemble", "--init-from none --batch 16", discriminator="ensemble"),
                     blocks_check("blocks-ensemble", "unseen_blocks_ensemble"),
                     unseen_train("data/emoji-faces-random", "emoji-ensemble", "--init-from none --batch 16",
                                  discriminator="ensemble"),
                     emoji_check("emoji-ensemble", "unseen_emoji_ensemble")],
        "writes": ["unseen_blocks_ensemble.json", "unseen_blocks_ensemble.png",
                   "unseen_emoji_ensemble.json", "unseen_emoji_ensemble.png"],
    },
    "unseen-emoji": {
        "doc": "docs/quality.md", "needs": "data/emoji-faces-random (docs/quality.md: steergan data emoji ... --placement random)",
        "commands": [unseen_train("data/emoji-faces-random", "emoji-b16", "--batch 16 --init-from none"),
                     emoji_check("emoji-b16", "unseen_emoji_b16")],
        "writes": ["unseen_emoji_b16.json", "unseen_emoji_b16.png"],
    },
    "comove-breakdown": {
        "doc": "docs/spatialgan.md", "needs": "bench/results/eval_segmenter_rooms.safetensors (the eval-segmenter entry)",
        "commands": [c for suffix, seg in (("", ""), ("_evalseg", " --segmenter bench/results/eval_segmenter_rooms.safetensors"))
                     for c in (f"mkdir -p runs/comove && env OMP_NUM_THREADS=1 python bench/comove.py --model rooms --n 2000 "
                               f"--per-sample{seg} --json runs/comove/rooms_n2000{suffix}.json",
                               f"python bench/comove_breakdown.py runs/comove/rooms_n2000{suffix}.json "
                               f"--json bench/results/comove_breakdown_rooms{suffix}.json")],
        "writes": ["comove_breakdown_rooms.json", "comove_breakdown_rooms_evalseg.json"],
    },
    "comove-shared-floor": {
        "doc": "docs/spatialgan.md", "needs": "data/rooms64-holdout (--seed 1 -n 2000)",
        "commands": ["python bench/comove_shared_floor.py --data data/rooms64-holdout --n 1000 "
                     "--json bench/results/comove_shared_floor.json"],
        "writes": ["comove_shared_floor.json"],
    },
    "judge": {
        "doc": "docs/metrics.md", "needs": "nothing (renders its own scenes)",
        "commands": ["python bench/train_judge.py --minutes 60 --renders 6000 --out steergan/assets/judge.safetensors "
                     "--json bench/results/judge.json"],
        "writes": ["judge.json"],
    },
    "judge-check": {
        "doc": "docs/quality.md", "needs": "nothing (renders its own scenes)",
        "commands": ["python bench/judge_check.py --metric fd_judge --kind rooms --n 300 "
                     "--models rooms,rooms-projected,rooms-stylegan2,linkgan --json bench/results/judge_check_rooms.json",
                     "bash -c 'git show c427eb5:steergan/assets/judge.safetensors > /tmp/judge_18min.safetensors'",
                     "python bench/judge_check.py --metric fd_judge --judge /tmp/judge_18min.safetensors --kind rooms --n 300 "
                     "--models rooms,rooms-projected,rooms-stylegan2 --json bench/results/judge_check_rooms_18min_judge.json"],
        "writes": ["judge_check_rooms.json", "judge_check_rooms_18min_judge.json"],
    },
    "composition": {
        "doc": "docs/quality.md", "needs": "the bundled models",
        "commands": ["python bench/composition.py --kind rooms --models rooms,rooms-projected,rooms-stylegan2,linkgan "
                     "--n 500 --json bench/results/composition_rooms.json"],
        "writes": ["composition_rooms.json"],
    },
    "comove": {
        "doc": "docs/quality.md", "needs": "the bundled models",
        "commands": ["steergan eval --model rooms --metric comove --n 1000 --json > bench/results/comove_rooms.json",
                     "steergan eval --model creatures --metric comove --n 1000 --json "
                     "> bench/results/comove_creatures.json"],
        "writes": ["comove_rooms.json", "comove_creatures.json"],
    },
    "eval-segmenters": {
        "doc": "docs/metrics.md", "needs": "the bundled rooms and creatures models",
        "commands": [f"env OMP_NUM_THREADS=1 python bench/train_eval_segmenter.py --kind {k} --minutes {m} "
                     f"--out bench/results/eval_segmenter_{k}.safetensors --json bench/results/eval_segmenter_{k}.json"
                     for k, m in (("rooms", 10), ("creatures", 12))] + [
            "env OMP_NUM_THREADS=1 steergan eval --model rooms --metric comove --n 1000 "
            "--segmenter bench/results/eval_segmenter_rooms.safetensors --json > bench/results/comove_rooms_evalseg.json",
            "env OMP_NUM_THREADS=1 steergan eval --model creatures --metric comove --n 1000 "
            "--segmenter bench/results/eval_segmenter_creatures.safetensors --json "
            "> bench/results/comove_creatures_evalseg.json",
            "env OMP_NUM_THREADS=1 steergan eval --model creatures --metric comove --level 1 --n 1000 "
            "--segmenter bench/results/eval_segmenter_creatures.safetensors --json "
            "> bench/results/part_comove_creatures_evalseg.json",
            "env OMP_NUM_THREADS=1 steergan eval --model semantic --metric miou --n 500 "
            "--segmenter bench/results/eval_segmenter_rooms.safetensors --json > bench/results/semantic_miou_evalseg.json"],
        "writes": [f"eval_segmenter_{k}.{x}" for k in ("rooms", "creatures") for x in ("safetensors", "json")] + [
            "comove_rooms_evalseg.json", "comove_creatures_evalseg.json", "part_comove_creatures_evalseg.json",
            "semantic_miou_evalseg.json"],
    },
    "part-comove": {
        "doc": "docs/spatialgan.md", "needs": "the bundled creatures model (and git history for the one before)",
        "commands": ["steergan eval --model creatures --metric comove --level 1 --n 1000 --json "
                     "> bench/results/part_comove_creatures.json",
                     "steergan eval --model creatures --metric comove --level 2 --n 500 --json "
                     "> bench/results/part_comove_creatures_level2.json",
                     "steergan eval --model creatures --metric comove --n 1000 --json "
                     "> bench/results/comove_creatures_parts.json",
                     "bash -c 'git show 9332e97:steergan/assets/creatures.safetensors > /tmp/creatures_before.safetensors'",
                     "steergan eval /tmp/creatures_before.safetensors --metric comove --level 1 --n 1000 --segmenter creatures "
                     "--json > bench/results/part_comove_creatures_before.json",
                     "python bench/time_to_quality.py --models creatures --segmenter creatures --metrics fd_judge,fd_seg,"
                     "fd_effnet --data data/creatures64 --holdout data/creatures64-holdout --n 1000 "
                     "--json bench/results/quality_creatures_parts.json",
                     "python bench/parts_figure.py --model creatures --out bench/results/parts_moves.png"],
        "writes": ["part_comove_creatures.json", "part_comove_creatures_level2.json", "comove_creatures_parts.json",
                   "part_comove_creatures_before.json", "quality_creatures_parts.json", "parts_moves.png"],
    },
    "emoji": {
        "doc": "docs/quality.md", "needs": "data/emoji-faces-random (steergan data emoji --category 'Smileys & Emotion' "
                                          "--subcategory face- --placement random --copies 30 --scale 0.5,0.85)",
        "commands": ["steergan eval --model emoji --metric comove --n 1000 --segmenter foreground --json "
                     "> bench/results/comove_emoji.json",
                     "steergan eval --model emoji --metric fd_effnet --n 1000 --data data/emoji-faces-random --json "
                     "> bench/results/fd_emoji.json",
                     "steergan generate --model emoji --seeds 0-31 --out bench/results/emoji_grid.png"],
        "writes": ["comove_emoji.json", "fd_emoji.json", "emoji_grid.png"],
    },
    "drag-rooms": {
        "doc": "docs/drag.md", "needs": "the bundled rooms model",
        "commands": ["python bench/drag_table.py --model rooms --baseline rooms-projected --n 50 --modes drag,hybrid "
                     "--json bench/results/drag_table_rooms_n50.json",
                     "python bench/drag_table.py --model rooms --baseline '' --n 50 --modes hybrid --tolerance 0.5 "
                     "--json bench/results/drag_table_rooms_tolerance05.json",
                     "python bench/drag_table.py --model rooms --baseline '' --n 50 --modes hybrid "
                     "--json bench/results/drag_table_rooms_subpixel.json",
                     "env OMP_NUM_THREADS=1 python bench/drag_table.py --model rooms --baseline '' --n 50 --modes drag,hybrid "
                     "--track-res 64 --json bench/results/drag_table_rooms_track64.json"],
        "writes": ["drag_table_rooms_n50.json", "drag_table_rooms_tolerance05.json", "drag_table_rooms_subpixel.json",
                   "drag_table_rooms_track64.json"],
    },
    "drag-creatures": {
        "doc": "docs/drag.md", "needs": "the bundled creatures model",
        "commands": ["python bench/drag_table.py --model creatures --baseline '' --n 50 --modes drag,hybrid "
                     "--json bench/results/drag_table_creatures_n50.json",
                     "python bench/drag_table.py --model creatures --baseline '' --n 50 --modes hybrid "
                     "--json bench/results/drag_table_creatures_subpixel.json"],
        "writes": ["drag_table_creatures_n50.json", "drag_table_creatures_subpixel.json"],
    },
    "drag-figure": {
        "doc": "docs/drag.md", "needs": "the bundled rooms and creatures models",
        "commands": ["python bench/drag_figure.py --models rooms,creatures --n 8 --out bench/results/drag_figure.png "
                     "--json bench/results/drag_figure.json"],
        "writes": ["drag_figure.png", "drag_figure.json"],
    },
    "drag-sweep": {
        "doc": "docs/drag-baseline.md", "needs": "the bundled rooms and creatures models",
        "commands": [
            "python bench/drag_sweep.py --model rooms --n 12 --settings base 'lr=0.01,max_steps=300' "
            "'lr=0.003,max_steps=300' feature_res=64 feature_res=16 n_ws=4 r2=3 mask=10 "
            "--json bench/results/drag_sweep_rooms.json",
            "python bench/drag_sweep.py --model rooms --n 12 --settings 'lr=0.01,feature_res=64,max_steps=300' "
            "--json bench/results/drag_sweep_rooms.json --append",
            "python bench/drag_sweep.py --model creatures --n 12 --settings base 'lr=0.01,max_steps=300' "
            "feature_res=64 r2=3 mask=10 --json bench/results/drag_sweep_creatures.json",
            "python bench/drag_sweep.py --model rooms --n 12 --settings base subpixel=1 r1=1.5 truncation=0.7 "
            "--json bench/results/drag_sweep_rooms_new.json"],
        "writes": ["drag_sweep_rooms.json", "drag_sweep_creatures.json", "drag_sweep_rooms_new.json"],
    },
    "locality": {
        "doc": "docs/metrics.md", "needs": "the bundled models",
        "commands": ["python bench/locality_table.py --n 500 --json bench/results/locality_table.json"],
        "writes": ["locality_table.json"],
    },
    "link": {
        "doc": "docs/linkgan.md", "needs": ROOMS,
        "commands": ["python bench/link_table.py --model linkgan --baseline rooms-stylegan2 --n 1000 --fd-n 1000 "
                     "--data data/rooms64 --figures linkgan --json bench/results/link_table.json"],
        "writes": ["link_table.json", "link_heatmaps_linkgan.png"],
    },
    "linkgan-retrain": {
        "doc": "docs/linkgan.md", "needs": f"{ROOMS}, {HOLDOUTS}; the bundled linkgan",
        "commands": ["steergan eval --model linkgan --metric link --n 1000 --json > bench/results/link_linkgan.json",
                     "python bench/time_to_quality.py --models linkgan --metrics fd_seg,fd_effnet --data data/rooms64 "
                     "--holdout data/rooms64-holdout --n 1000 --json bench/results/quality_linkgan.json"],
        "writes": ["link_linkgan.json", "quality_linkgan.json"],
    },
    "link-sweep": {
        "doc": "docs/linkgan.md", "needs": f"{ROOMS}; trains four 5-minute runs",
        "commands": ["python bench/link_table.py --skip-table2 --n 500 --sweep-axes 8,16,32,64 --minutes 5 "
                     "--init-from rooms-stylegan2 --data data/rooms64 --sweep-dir runs/link-sweep "
                     "--json bench/results/link_sweep.json"],
        "writes": ["link_sweep.json"],
    },
    "invert": {
        "doc": "docs/invert.md", "needs": "the bundled rooms model; runs/encoders/rooms.safetensors "
                                          "(steergan train-encoder rooms --out runs/encoders/rooms.safetensors --minutes 15)",
        "commands": ["python bench/invert_table.py --model rooms --n 10 --encoder runs/encoders/rooms.safetensors "
                     "--json bench/results/invert_rooms.json"],
        "writes": ["invert_rooms.json", "invert_rooms.png"],
    },
    "invert-figure": {
        "doc": "README.md", "needs": "data/emoji-faces-random (the emoji entry's import)",
        "commands": ["python bench/invert_figure.py --out bench/results/invert_edits.png"],
        "writes": ["invert_edits.png"],
    },
    "invert-edits": {
        "doc": "docs/invert.md", "needs": "the bundled rooms model",
        "commands": ["python bench/invert_edits.py --model rooms --n 20 --spaces w+,w "
                     "--json bench/results/invert_edits_rooms.json"] + [
            f"python bench/invert_edits.py --model {m} --n 20 --spaces {spaces} --json bench/results/invert_edits_{m}.json"
            for m, spaces in (("semantic", "w+"), ("linkgan", "w+,w"))] + [
            "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model linkgan --n 20 --spaces z "
            "--json bench/results/invert_edits_linkgan_z.json",
            "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model linkgan --n 20 --spaces w+ --targets samples "
            "--json bench/results/invert_edits_linkgan_samples.json",
            "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 20 --spaces w+ --pti-steps 100 "
            "--pti-locality 1,0.1 --json bench/results/invert_edits_rooms_pti.json",
            "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model linkgan --n 20 --spaces w+ --pti-steps 100 "
            "--pti-locality 0.1 --json bench/results/invert_edits_linkgan_pti.json"],
        "writes": ["invert_edits_rooms.json", "invert_edits_semantic.json", "invert_edits_linkgan.json",
                   "invert_edits_linkgan_z.json", "invert_edits_linkgan_samples.json", "invert_edits_rooms_pti.json",
                   "invert_edits_linkgan_pti.json"],
    },
    "invert-fast": {
        "doc": "docs/invert.md", "needs": "the bundled rooms, creatures and emoji models; data/creatures64; "
                                          "data/emoji-faces-twitter (the invert-more entry)",
        "commands": [
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 10 --steps 50 --pti-steps 100 "
            "--locality 0.1 --perceptual 0 --pti-perceptual 0 --json bench/results/invert_rooms_pixel.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 10 --steps 50 --pti-steps 100 "
            "--locality 0.1 --pti-perceptual 0 --json bench/results/invert_rooms_wperceptual.json",
            "env OMP_NUM_THREADS=1 python bench/pti_locality.py --model creatures --kind creatures --n 4 "
            "--weights 0,0.1,1 --json bench/results/pti_locality.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model creatures --kind creatures --n 200 "
            "--json bench/results/invert_creatures_n200.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 20 --json bench/results/invert_emoji_twitter_fast.json",
            "env OMP_NUM_THREADS=1 steergan train-encoder creatures --data data/creatures64 "
            "--out runs/encoders/creatures-real30.safetensors --minutes 30",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model creatures --kind creatures --n 10 "
            "--encoder runs/encoders/creatures-real30.safetensors --json bench/results/invert_creatures_encoder.json"] + [
            f"env OMP_NUM_THREADS={t} python bench/invert_table.py --model creatures --kind creatures --n 10 "
            f"--encoder runs/encoders/creatures-real30.safetensors --json bench/results/invert_creatures_idle_threads{t}.json"
            for t in (1, 2)] + [
            f"env OMP_NUM_THREADS={t} python bench/invert_table.py --model rooms --n 5 "
            f"--json bench/results/invert_rooms_idle_threads{t}.json" for t in (1, 2)],
        "writes": ["invert_rooms_pixel.json", "invert_rooms_wperceptual.json", "pti_locality.json", "invert_creatures_n200.json",
                   "invert_emoji_twitter_fast.json", "invert_creatures_encoder.json"] + [
            f"invert_{m}_idle_threads{t}.json" for m in ("creatures", "rooms") for t in (1, 2)],
    },
    "invert-more": {
        "doc": "docs/invert.md", "needs": "the bundled creatures and emoji models; the Twitter emoji package "
                                          "(npm pack emoji-datasource-twitter)",
        "commands": [
            "steergan data emoji --vendor twitter --category 'Smileys & Emotion' --subcategory face- "
            "--source emoji-datasource-twitter-16.0.0.tgz --placement random --copies 1 --scale 0.5,0.85 --seed 7 "
            "--out data/emoji-faces-twitter",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model creatures --kind creatures --n 20 "
            "--json bench/results/invert_creatures.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 20 --json bench/results/invert_emoji_twitter.json"] + [
            f"env OMP_NUM_THREADS={t} python bench/invert_table.py --model rooms --n 5 "
            f"--json bench/results/invert_rooms_threads{t}.json" for t in (1, 2)] + [
            "env OMP_NUM_THREADS=2 steergan train-encoder rooms --out runs/encoders/rooms-30min.safetensors --minutes 30",
            "env OMP_NUM_THREADS=2 python bench/invert_table.py --model rooms --n 10 --steps 0 --pti-steps 0 "
            "--encoder runs/encoders/rooms-30min.safetensors --json bench/results/invert_rooms_encoder30.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 100 --pti-steps 0 --json bench/results/invert_emoji_twitter_n100_wplus.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model creatures --kind creatures --n 100 --pti-steps 0 "
            "--json bench/results/invert_creatures_n100_wplus.json"],
        "writes": ["invert_creatures.json", "invert_emoji_twitter.json", "invert_rooms_threads1.json",
                   "invert_rooms_threads2.json", "invert_rooms_encoder30.json", "invert_emoji_twitter_n100_wplus.json",
                   "invert_creatures_n100_wplus.json"],
    },
    "semantic-aids": {
        "doc": "docs/semanticstylegan.md", "needs": f"{ROOMS}, {HOLDOUTS}, bench/results/eval_segmenter_rooms.safetensors "
                                                    "(entry eval-segmenters)",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/semantic2/proj-cons-ts --method semantic "
            "--discriminator projected --init-from semantic --mix 0.3 --clock cpu --minutes 80 --kimg 100000 "
            "--milestones 20,40,60,80 --method-options '{\"consistency\": 1.0, \"texture_seeking\": 1.0}'",
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/semantic2/dual-cons --method semantic "
            "--discriminator stylegan2 --init-from semantic --mix 0.3 --clock cpu --minutes 40 --kimg 100000 "
            "--milestones 20,40 --method-options '{\"consistency\": 1.0}'",
            "env OMP_NUM_THREADS=1 python bench/semantic_table.py --models semantic,"
            "runs/semantic2/proj-cons-ts/milestones/minutes-60,runs/semantic2/dual-cons/milestones/minutes-40 "
            "--n 500 --json bench/results/semantic_aids.json",
            "env OMP_NUM_THREADS=1 python bench/semantic_table.py --models runs/semantic2/proj-cons-ts/milestones/minutes-80 "
            "--n 500 --grid bench/results/semantic_aids_grid_80.png --json bench/results/semantic_aids_80.json",
            "env OMP_NUM_THREADS=1 python bench/time_to_quality.py --run runs/semantic2/proj-cons-ts,runs/semantic2/dual-cons "
            "--minutes 20,40,60 --models rooms-projected,semantic --data data/rooms64 --holdout data/rooms64-holdout "
            "--n 1000 --metrics fd_judge --grids runs/semantic2/grids --json bench/results/semantic_aids_judge.json",
            "env OMP_NUM_THREADS=1 python bench/time_to_quality.py --run runs/semantic2/proj-cons-ts --minutes 80 "
            "--data data/rooms64 --holdout data/rooms64-holdout --n 1000 --metrics fd_judge,fd_seg,fd_effnet "
            "--grids runs/semantic2/grids --json bench/results/semantic_aids_judge_80.json"],
        "writes": ["semantic_aids.json", "semantic_aids_grid.png", "semantic_aids_judge.json",
                   "semantic_aids_80.json", "semantic_aids_grid_80.png", "semantic_aids_judge_80.json"],
    },
    "semantic-consistency-weight": {
        "doc": "docs/semanticstylegan.md", "needs": f"{ROOMS}, {HOLDOUTS}, the bundled semantic model (the 80-minute "
                                                    "model of entry semantic-aids)",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/semantic2/cont-cons{w} --method semantic "
            "--discriminator projected --init-from semantic --mix 0.3 --clock cpu --minutes 25 --kimg 100000 "
            "--milestones 25 --method-options '{{\"consistency\": {w}.0, \"texture_seeking\": 1.0}}'".format(w=w)
            for w in (1, 3)] + [
            "env OMP_NUM_THREADS=1 python bench/semantic_table.py --models "
            "runs/semantic2/cont-cons1/milestones/minutes-25,runs/semantic2/cont-cons3/milestones/minutes-25 "
            "--n 500 --grid bench/results/semantic_consistency_weight_grid.png "
            "--json bench/results/semantic_consistency_weight.json",
            "env OMP_NUM_THREADS=1 python bench/time_to_quality.py --run runs/semantic2/cont-cons1,runs/semantic2/cont-cons3 "
            "--minutes 25 --data data/rooms64 --holdout data/rooms64-holdout --n 1000 --metrics fd_judge "
            "--grids runs/semantic2/grids --json bench/results/semantic_consistency_weight_judge.json"],
        "writes": ["semantic_consistency_weight.json", "semantic_consistency_weight_grid.png",
                   "semantic_consistency_weight_judge.json"],
    },
    "semantic-class-balance": {
        "doc": "docs/semanticstylegan.md", "needs": f"{ROOMS}, {HOLDOUTS}, runs/semantic2/cont-cons3 (entry "
                                                    "semantic-consistency-weight, resumed to 40 minutes)",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/semantic2/cont-cons3 --method semantic "
            "--discriminator projected --init-from semantic --mix 0.3 --clock cpu --minutes 60 --kimg 100000 "
            "--milestones 25,40,60 --method-options '{\"consistency\": 3.0, \"texture_seeking\": 1.0}'",
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/semantic2/cb --method semantic "
            "--discriminator projected --init-from runs/semantic2/cont-cons3/milestones/minutes-40 --mix 0.3 --clock cpu "
            "--minutes 30 --kimg 100000 --milestones 10,20,30 --method-options '{\"consistency\": 3.0, "
            "\"texture_seeking\": 1.0, \"class_balance\": 1.0}'",
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/semantic2/cbs --method semantic "
            "--discriminator projected --init-from runs/semantic2/cb/milestones/minutes-10 --mix 0.3 --clock cpu "
            "--minutes 45 --kimg 100000 --milestones 10,20,30,45 --method-options '{\"consistency\": 3.0, "
            "\"texture_seeking\": 1.0, \"class_balance\": 1.0}'",
            "env OMP_NUM_THREADS=1 python bench/semantic_table.py --models runs/semantic2/cont-cons3/milestones/minutes-40,"
            "runs/semantic2/cb/milestones/minutes-10,runs/semantic2/cbs/milestones/minutes-30,"
            "runs/semantic2/cbs/milestones/minutes-45 --n 500 --grid bench/results/semantic_class_balance_grid.png "
            "--json bench/results/semantic_class_balance.json",
            "env OMP_NUM_THREADS=1 python bench/time_to_quality.py --run runs/semantic2/cbs --minutes 10,20,30 "
            "--data data/rooms64 --holdout data/rooms64-holdout --n 1000 --metrics fd_judge --grids runs/semantic2/grids "
            "--json bench/results/semantic_class_balance_judge.json",
            "env OMP_NUM_THREADS=1 python bench/time_to_quality.py --run runs/semantic2/cbs --minutes 30 "
            "--data data/rooms64 --holdout data/rooms64-holdout --n 1000 --metrics fd_judge,fd_seg,fd_effnet "
            "--grids runs/semantic2/grids --json bench/results/semantic_class_balance_judge_30.json"],
        "writes": ["semantic_class_balance.json", "semantic_class_balance_grid.png", "semantic_class_balance_judge.json",
                   "semantic_class_balance_judge_30.json"],
    },
    "rooms-follow": {
        "doc": "docs/spatialgan.md", "needs": f"{ROOMS}, {HOLDOUTS}, bench/results/eval_segmenter_rooms.safetensors "
                                              "(entry eval-segmenters), the rooms model bundled before it (git: 3e4bb98)",
        "commands": [
            "bash -c 'git show 3e4bb98:steergan/assets/rooms.safetensors > /tmp/rooms_before_follow.safetensors'",
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/follow/w1 --method spatial "
            "--discriminator projected --batch 32 --init-from /tmp/rooms_before_follow.safetensors --clock cpu "
            "--minutes 70 --kimg 100000 --milestones 10,20,40,70 --method-options '{\"sampling\": \"multi\", "
            "\"sel\": \"indoor_norm\", \"align\": \"segmenter\", \"align_interval\": 2, \"paired\": true, "
            "\"n_objects\": 4, \"follow\": 1.0}'"] + [
            f"env OMP_NUM_THREADS=1 steergan eval runs/follow/w1/milestones/minutes-{m} --metric comove --n 1000 --json "
            f"> bench/results/comove_rooms_follow{m}.json" for m in (40, 70)] + [
            "env OMP_NUM_THREADS=1 steergan eval runs/follow/w1/milestones/minutes-40 --metric comove --n 1000 "
            "--segmenter bench/results/eval_segmenter_rooms.safetensors --json "
            "> bench/results/comove_rooms_follow40_evalseg.json",
            "env OMP_NUM_THREADS=1 steergan eval /tmp/rooms_before_follow.safetensors --metric comove --n 1000 --json "
            "> bench/results/comove_rooms_before_follow.json",
            "env OMP_NUM_THREADS=1 python bench/time_to_quality.py --run runs/follow/w1 --models "
            "/tmp/rooms_before_follow.safetensors --minutes 10,20,40 --data data/rooms64 --holdout data/rooms64-holdout "
            "--n 1000 --metrics fd_judge,fd_seg,fd_effnet --grids runs/follow/grids --json bench/results/follow_judge.json",
            "env OMP_NUM_THREADS=1 python bench/time_to_quality.py --run runs/follow/w1 --minutes 70 --data data/rooms64 "
            "--holdout data/rooms64-holdout --n 1000 --metrics fd_judge,fd_seg,fd_effnet --grids runs/follow/grids "
            "--json bench/results/follow_judge_70.json",
            "env OMP_NUM_THREADS=1 python bench/follow_figure.py --models runs/follow/w1/milestones/minutes-40,"
            "/tmp/rooms_before_follow.safetensors --labels 'follow,rooms before' --seeds 3,12,21,30,41 "
            "--out bench/results/follow_moves.png"],
        "writes": ["comove_rooms_follow40.json", "comove_rooms_follow70.json", "comove_rooms_follow40_evalseg.json",
                   "comove_rooms_before_follow.json", "follow_judge.json", "follow_judge_70.json", "follow_moves.png"],
    },
    "encoder-real": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train-encoder rooms --data data/rooms64 --minutes 45 "
            "--out runs/encoders/rooms-real45.safetensors",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 10 "
            "--encoder runs/encoders/rooms-real45.safetensors --json bench/results/invert_rooms_encoder_real.json"],
        "writes": ["invert_rooms_encoder_real.json"],
    },
    "invert-full-size": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}; data/creatures64; data/emoji-faces-random and "
                                          "data/emoji-faces-twitter (the unseen-emoji and invert-more entries); "
                                          "runs/encoders/rooms-real45.safetensors and creatures-real30.safetensors "
                                          "(the encoder-real and invert-fast entries)",
        "commands": [
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 100 --json bench/results/invert_emoji_twitter_n100.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 200 "
            "--json bench/results/invert_rooms_n200.json"] + [
            "env OMP_NUM_THREADS=1 steergan train-encoder rooms --data data/rooms64 --init-from "
            f"runs/encoders/rooms-real45.safetensors --latent-weight {lw} --steps 1500 --minutes 90 "
            f"--out runs/encoders/rooms-cont-lw{lw}.safetensors" for lw in ("1", "0.1")] + [
            f"env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 50 --rows enc "
            f"--encoder runs/encoders/rooms-{e}.safetensors --json bench/results/invert_rooms_encoder_{e}.json"
            for e in ("real45", "cont-lw1", "cont-lw0.1")] + [
            "env OMP_NUM_THREADS=1 steergan train-encoder emoji --data data/emoji-faces-random --latent-weight 0.1 "
            "--minutes 30 --out runs/encoders/emoji-real30.safetensors",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 100 --rows enc,encpti --encoder runs/encoders/emoji-real30.safetensors --save-every 20 "
            "--json bench/results/invert_emoji_twitter_n100_encoder.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 20 --rows enc,encpti "
            "--encoder runs/encoders/rooms-cont-lw0.1.safetensors --json bench/results/invert_rooms_encoder_lw01.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model creatures --kind creatures --n 200 "
            "--rows enc,encpti --save-every 25 --encoder runs/encoders/creatures-real30.safetensors "
            "--json bench/results/invert_creatures_n200_encoder.json",
            "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 50 --spaces w+ "
            "--json bench/results/invert_edits_rooms_n50.json"],
        "writes": ["invert_emoji_twitter_n100.json", "invert_rooms_n200.json", "invert_edits_rooms_n50.json"] + [
            f"invert_rooms_encoder_{e}.json" for e in ("real45", "cont-lw1", "cont-lw0.1")] + [
            "invert_emoji_twitter_n100_encoder.json", "invert_creatures_n200_encoder.json",
            "invert_rooms_encoder_lw01.json"],
    },
    "pti-ablation": {
        "doc": "docs/invert.md", "needs": "the bundled rooms and creatures models",
        "commands": [
            "env OMP_NUM_THREADS=1 python bench/pti_ablation.py --model rooms --n 5 --variants "
            "'before:tune_from=4,rampdown=0.25;lr 0.01:tune_from=4,rampdown=0.25,lr=0.01;"
            "from 16 px:tune_from=16,rampdown=0.25;from 32 px:tune_from=32,rampdown=0.25;"
            "constant lr:tune_from=4,rampdown=0;now:;now, no locality:locality=0' "
            "--json bench/results/pti_ablation_rooms.json",
            "env OMP_NUM_THREADS=1 python bench/pti_ablation.py --model creatures --kind creatures --n 5 "
            "--variants 'before:tune_from=4,rampdown=0.25;now:' --json bench/results/pti_ablation_creatures.json"],
        "writes": ["pti_ablation_rooms.json", "pti_ablation_creatures.json"],
    },
    "invert-style-head": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}; runs/encoders/rooms-cont-lw0.1.safetensors (invert-full-size)",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train-encoder rooms --data data/rooms64 --init-from "
            f"runs/encoders/rooms-cont-lw0.1.safetensors --latent-weight 0.1 --minutes 75 {flag}"
            f"--out runs/encoders/rooms-{e}.safetensors"
            for e, flag in (("cont2-lw0.1", "--no-style-head "), ("style-lw0.1", ""))] + [
            f"env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 50 --rows enc "
            f"--encoder runs/encoders/rooms-{e}.safetensors --json bench/results/invert_rooms_encoder_{e}.json"
            for e in ("cont2-lw0.1", "style-lw0.1")] + [
            "env OMP_NUM_THREADS=1 python bench/style_codes_check.py --encoder runs/encoders/rooms-cont-lw0.1.safetensors "
            "--n 6 --json bench/results/invert_style_codes.json"],
        "writes": ["invert_rooms_encoder_cont2-lw0.1.json", "invert_rooms_encoder_style-lw0.1.json",
                   "invert_style_codes.json"],
    },
    "invert-pti16": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}; data/creatures64; runs/encoders/rooms-style-lw0.1.safetensors "
                                          "(invert-style-head); data/emoji-faces-twitter and "
                                          "runs/encoders/emoji-real30.safetensors (invert-full-size)",
        "commands": [
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 200 --rows w,pti --save-every 25 "
            "--json bench/results/invert_rooms_n200_pti16.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 50 --rows enc,encpti --save-every 10 "
            "--encoder runs/encoders/rooms-style-lw0.1.safetensors --json bench/results/invert_rooms_n50_encoder_pti16.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model creatures --kind creatures --n 50 --rows w,pti "
            "--save-every 10 --json bench/results/invert_creatures_n50_pti16.json"] + [
            f"env OMP_NUM_THREADS={t} python bench/invert_table.py --model rooms --n 10 --rows w,pti,enc,encpti "
            f"--encoder runs/encoders/rooms-style-lw0.1.safetensors --json bench/results/invert_rooms_idle_pti16_threads{t}.json"
            for t in (1, 2)] + [
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 30 --rows w,pti --json bench/results/invert_emoji_twitter_n30_pti16.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 30 --rows enc,encpti --encoder runs/encoders/emoji-real30.safetensors "
            "--json bench/results/invert_emoji_twitter_n30_encoder_pti16.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 100 --rows enc,encpti --encoder runs/encoders/emoji-real30.safetensors --save-every 20 "
            "--json bench/results/invert_emoji_twitter_n100_encoder_pti16.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 100 --rows w,pti --save-every 20 --json bench/results/invert_emoji_twitter_n100_pti16.json"],
        "writes": ["invert_rooms_n200_pti16.json", "invert_rooms_n50_encoder_pti16.json", "invert_creatures_n50_pti16.json",
                   "invert_rooms_idle_pti16_threads1.json", "invert_rooms_idle_pti16_threads2.json",
                   "invert_emoji_twitter_n30_pti16.json", "invert_emoji_twitter_n30_encoder_pti16.json",
                   "invert_emoji_twitter_n100_encoder_pti16.json", "invert_emoji_twitter_n100_pti16.json"],
    },
    "pti-lr": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}; data/creatures64; runs/encoders/rooms-style-lw0.1.safetensors "
                                          "(invert-style-head); data/emoji-faces-twitter and "
                                          "runs/encoders/emoji-real30.safetensors (invert-full-size)",
        "commands": [
            "env OMP_NUM_THREADS=1 python bench/pti_ablation.py --n 8 --steps 100 "
            f"--encoder runs/encoders/rooms-style-lw0.1.safetensors --variants '{v}' --json bench/results/{out}.json"
            for v, out in (("now:;lr7.5e-3:lr=0.0075;lr1e-2:lr=0.01;pivot3e-3:pivot_lr=0.003;pivot1e-2:pivot_lr=0.01;"
                            "pivot3e-2:pivot_lr=0.03", "pti_ablation_rooms_encoder"),
                           ("lr1e-2:lr=0.01;lr1.5e-2:lr=0.015;lr2e-2:lr=0.02;lr1e-2ramp:lr=0.01,rampdown=0.25;"
                            "lr1.5e-2ramp:lr=0.015,rampdown=0.25;lr1e-2pivot1e-2:lr=0.01,pivot_lr=0.01;"
                            "lr1e-2pivot3e-2:lr=0.01,pivot_lr=0.03", "pti_ablation_rooms_encoder_lr"),
                           ("lr1e-2:lr=0.01;every2:lr=0.01,locality_every=2,locality=0.2;"
                            "every2w01:lr=0.01,locality_every=2", "pti_ablation_rooms_encoder_locality"))] + [
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 50 --rows enc,encpti --save-every 10 "
            "--encoder runs/encoders/rooms-style-lw0.1.safetensors --json bench/results/invert_rooms_n50_encoder_ptiguess.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 100 --rows enc,encpti --encoder runs/encoders/emoji-real30.safetensors --save-every 20 "
            "--json bench/results/invert_emoji_twitter_n100_encoder_ptiguess.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 200 --rows enc,encpti --save-every 25 "
            "--encoder runs/encoders/rooms-style-lw0.1.safetensors --json bench/results/invert_rooms_n200_encoder_ptiguess.json",
            "env OMP_NUM_THREADS=1 steergan train-encoder emoji --data data/emoji-faces-random --init-from "
            "runs/encoders/emoji-real30.safetensors --latent-weight 0.1 --minutes 60 --out runs/encoders/emoji-cont60.safetensors",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 100 --rows enc,encpti --encoder runs/encoders/emoji-cont60.safetensors --save-every 20 "
            "--json bench/results/invert_emoji_twitter_n100_encoder60.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 10 --rows enc,encpti "
            "--encoder runs/encoders/rooms-style-lw0.1.safetensors --json bench/results/invert_rooms_idle_ptiguess_threads1.json",
            "env OMP_NUM_THREADS=2 python bench/invert_table.py --model rooms --n 10 --rows enc,encpti "
            "--encoder runs/encoders/rooms-style-lw0.1.safetensors --json bench/results/invert_rooms_idle_ptiguess_threads2.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 10 --rows enc,encpti "
            "--encoder runs/encoders/rooms-style-lw0.1.safetensors "
            "--json bench/results/invert_rooms_idle_ptiguess_threads1_rerun.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 10 --rows w,pti,enc,encpti --encoder runs/encoders/emoji-real30.safetensors "
            "--json bench/results/invert_emoji_idle_threads1.json",
            "env OMP_NUM_THREADS=1 python bench/pti_ablation.py --model rooms --n 5 --variants 'now:;lr1e-2:lr=0.01' "
            "--json bench/results/pti_ablation_rooms_lr.json",
            "env OMP_NUM_THREADS=1 python bench/pti_ablation.py --model creatures --kind creatures --n 5 "
            "--variants 'now:;lr1e-2:lr=0.01' --json bench/results/pti_ablation_creatures_lr.json"],
        "writes": ["pti_ablation_rooms_encoder.json", "pti_ablation_rooms_encoder_lr.json",
                   "pti_ablation_rooms_encoder_locality.json", "pti_ablation_rooms_lr.json", "pti_ablation_creatures_lr.json",
                   "invert_rooms_n50_encoder_ptiguess.json", "invert_emoji_twitter_n100_encoder_ptiguess.json",
                   "invert_emoji_twitter_n100_encoder60.json", "invert_rooms_idle_ptiguess_threads1.json",
                   "invert_emoji_idle_threads1.json", "invert_rooms_n200_encoder_ptiguess.json",
                   "invert_rooms_idle_ptiguess_threads2.json", "invert_rooms_idle_ptiguess_threads1_rerun.json"],
    },
    "pti150": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}; data/emoji-faces-twitter (invert-more); the encoder its "
                                          "train-encoder command writes",
        "commands": [
            f"env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 50 --spaces w+ --pti-steps {s} "
            f"--pti-locality 0.1 --json bench/results/invert_edits_rooms_n50_pti{s}.json" for s in (100, 150)] + [
            f"env OMP_NUM_THREADS=1 python bench/pti_ablation.py --model rooms --n 8 --steps {s} --variants 'now:' "
            f"--json bench/results/pti_ablation_rooms_steps{s}.json" for s in (100, 150, 200)] + [
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 200 --rows w,pti --save-every 25 "
            "--json bench/results/invert_rooms_n200_pti150.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
            "--n 100 --rows w,pti --save-every 20 --json bench/results/invert_emoji_twitter_n100_pti150.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model creatures --kind creatures --n 200 --rows w,pti "
            "--save-every 25 --json bench/results/invert_creatures_n200_pti150.json",
            "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model linkgan --n 20 --spaces w+ --pti-steps 150 "
            "--pti-locality 0.1 --json bench/results/invert_edits_linkgan_pti150.json",
            # a rooms encoder from scratch (110 min, one thread beside the runs above), then the encoder rows
            "env OMP_NUM_THREADS=1 steergan train-encoder rooms --data data/rooms64 --latent-weight 0.1 --minutes 110 "
            "--out runs/encoders/rooms-fresh110.safetensors"] + [
            f"env OMP_NUM_THREADS={t} python bench/invert_table.py {what} --json bench/results/invert_{name}_idle_pti150_threads{t}.json"
            for t in (1, 2) for name, what in (
                ("rooms", "--model rooms --n 10 --rows w,pti,enc,encpti --encoder runs/encoders/rooms-fresh110.safetensors"),
                ("emoji", "--model emoji --images data/emoji-faces-twitter/images --n 10 --rows w,pti"),
                ("creatures", "--model creatures --kind creatures --n 10 --rows w,pti"))] + [
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 200 --rows enc,encpti "
            "--encoder runs/encoders/rooms-fresh110.safetensors --save-every 25 "
            "--json bench/results/invert_rooms_n200_encoder_pti150.json",
            "env OMP_NUM_THREADS=1 python bench/pti_step_speed.py --json bench/results/pti_step_speed.json",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 10 --rows w,pti --pti-steps 100 "
            "--json bench/results/invert_rooms_pti100_this_machine.json"],
        "writes": ["invert_edits_rooms_n50_pti100.json", "invert_edits_rooms_n50_pti150.json"] + [
            f"pti_ablation_rooms_steps{s}.json" for s in (100, 150, 200)] + [
            "invert_rooms_n200_pti150.json", "invert_emoji_twitter_n100_pti150.json", "invert_creatures_n200_pti150.json",
            "invert_edits_linkgan_pti150.json", "invert_rooms_n200_encoder_pti150.json", "pti_step_speed.json",
            "invert_rooms_pti100_this_machine.json"] + [
            f"invert_{m}_idle_pti150_threads{t}.json" for m in ("rooms", "emoji", "creatures") for t in (1, 2)],
    },
    "drag-rooms-seeds": {
        "doc": "docs/drag.md", "needs": "the bundled rooms model",
        "commands": [f"env OMP_NUM_THREADS=1 python bench/drag_table.py --model rooms --baseline '' --n 50 "
                     f"--modes {modes} --seed {seed}{extra} --json bench/results/drag_rooms_{name}_seed{seed}.json"
                     for name, modes, extra in (("heatmap_hybrid", "heatmap,hybrid", ""),
                                                ("tolerance2", "hybrid", " --tolerance 2"))
                     for seed in (0, 1)],
        "writes": [f"drag_rooms_{name}_seed{seed}.json" for name in ("heatmap_hybrid", "tolerance2") for seed in (0, 1)],
    },
    "drag-rooms-coarse": {
        "doc": "docs/drag.md", "needs": "the bundled rooms model",
        "commands": [f"env OMP_NUM_THREADS=1 python bench/drag_table.py --model rooms --baseline '' --n 50 "
                     f"--modes heatmap,hybrid --seed {seed}{extra} --json bench/results/drag_rooms_{name}_seed{seed}.json"
                     for name, extra in DRAG_COARSE.items() for seed in (0, 1)],
        "writes": [f"drag_rooms_{name}_seed{seed}.json" for name in DRAG_COARSE for seed in (0, 1)],
    },
    "separate-planes": {
        "doc": "docs/spatialgan.md", "needs": f"{ROOMS}",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/s18/" + name + " --method spatial "
            "--discriminator projected --batch 32 --init-from rooms --clock cpu --minutes 40 --kimg 100000 "
            f"--milestones 20,40 --method-options '{separate_options(separate=w, d_planes='objects')}'"
            for name, w in SEPARATE_PLANES.items()] + [
            f"env OMP_NUM_THREADS=1 steergan eval runs/s18/{name}/milestones/minutes-{m} --metric comove --n 2000 "
            f"--json > bench/results/sepplanes_comove_{name}_{m}.json" for name in SEPARATE_PLANES for m in (20, 40)] + [
            "python bench/grids_figure.py --models rooms,"
            + ",".join(f"runs/s18/{name}/milestones/minutes-40" for name in SEPARATE_PLANES)
            + " --labels 'rooms (bundled),"
            + ",".join(f"separate {w:g} + d_planes 40 min" for w in SEPARATE_PLANES.values())
            + "' --out bench/results/sepplanes_grids.png"],
        "writes": [f"sepplanes_comove_{name}_{m}.json" for name in SEPARATE_PLANES for m in (20, 40)] + [
            "sepplanes_grids.png"],
    },
    "pti-freeze": {
        "doc": "docs/invert.md", "needs": "the bundled rooms model",
        "commands": ["env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 50 --spaces w+ --pti-steps 150 "
                     "--pti-locality 0.1 --pti-freeze ,noise,adapters,noise+adapters "
                     "--json bench/results/invert_edits_rooms_n50_pti_freeze.json",
                     "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 50 --spaces w+ --pti-steps 200 "
                     "--pti-locality 0.1 --pti-freeze ,adapters --json bench/results/invert_edits_rooms_n50_pti200_freeze.json"],
        "writes": ["invert_edits_rooms_n50_pti_freeze.json", "invert_edits_rooms_n50_pti200_freeze.json"],
    },
    "encoders-s12": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}; {CREATURES}; runs/encoders/rooms-fresh110.safetensors (pti150)",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train-encoder rooms --data data/rooms64 --max-images 20000 --latent-weight 0.1 "
            "--lr 3e-4 --init-from runs/encoders/rooms-fresh110.safetensors --minutes 95 "
            "--out runs/encoders/rooms-cont95.safetensors",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 200 --rows enc,encpti "
            "--encoder runs/encoders/rooms-cont95.safetensors --save-every 25 "
            "--json bench/results/invert_rooms_n200_encoder_cont95.json",
            "env OMP_NUM_THREADS=1 steergan train-encoder rooms --data data/rooms64 --max-images 20000 --latent-weight 0.1 "
            "--lr 1e-4 --init-from runs/encoders/rooms-cont95.safetensors --minutes 25 "
            "--out runs/encoders/rooms-cont120.safetensors",
            "env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 200 --rows enc "
            "--encoder runs/encoders/rooms-cont120.safetensors --json bench/results/invert_rooms_n200_encoder_cont120.json"] + [
            f"env OMP_NUM_THREADS=1 python bench/invert_table.py --model rooms --n 200 --seed 6 --rows enc "
            f"--encoder runs/encoders/rooms-{e}.safetensors --json bench/results/invert_rooms_n200_seed6_encoder_{e}.json"
            for e in ("fresh110", "cont95", "cont120")] + [
            "env OMP_NUM_THREADS=1 steergan train-encoder creatures --data data/creatures64 "
            "--out runs/encoders/creatures-real30.safetensors --minutes 30"] + [
            f"env OMP_NUM_THREADS={t} python bench/invert_table.py --model creatures --kind creatures --n 10 "
            f"--rows w,pti,enc,encpti --encoder runs/encoders/creatures-real30.safetensors "
            f"--json bench/results/invert_creatures_idle_pti150_encoder_threads{t}.json" for t in (1, 2)],
        "writes": ["invert_rooms_n200_encoder_cont95.json", "invert_rooms_n200_encoder_cont120.json"] + [
            f"invert_rooms_n200_seed6_encoder_{e}.json" for e in ("fresh110", "cont95", "cont120")] + [
            f"invert_creatures_idle_pti150_encoder_threads{t}.json" for t in (1, 2)],
    },
    "encoder-rooms-cont190": {
        "doc": "docs/invert.md", "needs": "runs/encoders/rooms-cont120.safetensors (the encoders-s12 entry)",
        "commands": ["env OMP_NUM_THREADS=1 steergan train-encoder rooms --data data/rooms64 --max-images 20000 "
                     "--latent-weight 0.1 --lr 1e-4 --init-from runs/encoders/rooms-cont120.safetensors --minutes 70 "
                     "--seed 3 --out runs/encoders/rooms-cont190.safetensors"],
        "writes": [],
    },
    "encoder-rooms-cont250": {
        "doc": "docs/invert.md", "needs": "runs/encoders/rooms-cont190.safetensors (encoder-rooms-cont190)",
        "commands": ["env OMP_NUM_THREADS=1 steergan train-encoder rooms --data data/rooms64 --max-images 20000 "
                     "--latent-weight 0.1 --lr 5e-5 --init-from runs/encoders/rooms-cont190.safetensors --minutes 60 "
                     "--seed 4 --out runs/encoders/rooms-cont250.safetensors"],
        "writes": [],
    },
    "encoder-rooms-refine": {
        "doc": "docs/invert.md", "needs": "runs/encoders/rooms-cont250.safetensors (encoder-rooms-cont250)",
        "commands": ["env OMP_NUM_THREADS=1 steergan train-encoder rooms --data data/rooms64 --max-images 20000 "
                     "--latent-weight 0.1 --lr 2e-4 --init-from runs/encoders/rooms-cont250.safetensors --refine 2 --minutes 55 "
                     "--seed 5 --out runs/encoders/rooms-refine55.safetensors"],
        "writes": [],
    },
    "encoders-rooms-refine": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}; runs/encoders/rooms-refine55.safetensors (encoder-rooms-refine)",
        "commands": [rooms_encoder_reading("refine55", seed) for seed in (5, 6, 7)],
        "writes": [f"invert_rooms_n200_seed{seed}_encoder_refine55.json" for seed in (5, 6, 7)],
    },
    "encoders-s14": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}; runs/encoders/rooms-cont250.safetensors (encoder-rooms-cont250)",
        "commands": [rooms_encoder_reading("cont250", seed) for seed in (5, 6, 7)],
        "writes": [f"invert_rooms_n200_seed{seed}_encoder_cont250.json" for seed in (5, 6, 7)],
    },
    "encoders-s13": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}; runs/encoders/rooms-cont{{120,190}}.safetensors (the entries above)",
        "commands": [rooms_encoder_reading(e, seed)
                     for e, seed in (("cont190", 5), ("cont190", 6), ("cont190", 7), ("cont120", 7))],
        "writes": [f"invert_rooms_n200_seed{seed}_encoder_{e}.json"
                   for e, seed in (("cont190", 5), ("cont190", 6), ("cont190", 7), ("cont120", 7))],
    },
    "encoder-emoji-3v": {
        "doc": "docs/invert.md",
        "needs": "data/emoji-faces-{random,apple,facebook}: steergan data emoji --vendor V --category 'Smileys & Emotion' "
                 "--subcategory face- --placement random --copies 30 --scale 0.5,0.85 (seed 0 for google -> "
                 "emoji-faces-random, 11 for the others), hard-linked into data/emoji-faces-3v/{random,apple,facebook}",
        "commands": ["env OMP_NUM_THREADS=1 steergan train-encoder emoji --data data/emoji-faces-3v --max-images 12000 "
                     "--latent-weight 0.1 --minutes 60 --out runs/encoders/emoji-3v60.safetensors"],
        "writes": [],
    },
    "encoders-emoji-s13": {
        "doc": "docs/invert.md", "needs": "data/emoji-faces-twitter; runs/encoders/emoji-3v60.safetensors (above)",
        "commands": ["env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images data/emoji-faces-twitter/images "
                     "--n 100 --rows enc --encoder runs/encoders/emoji-3v60.safetensors "
                     "--json bench/results/invert_emoji_twitter_n100_encoder_3v60.json"],
        "writes": ["invert_emoji_twitter_n100_encoder_3v60.json"],
    },
    "encoders-emoji-s14": {
        "doc": "docs/invert.md", "needs": "data/emoji-faces-twitter; runs/encoders/emoji-3v60.safetensors (encoder-emoji-3v)",
        "commands": [twitter_invert("emoji-3v60", "encpti", "invert_emoji_twitter_n100_encoder_pti_3v60")],
        "writes": ["invert_emoji_twitter_n100_encoder_pti_3v60.json"],
    },
    "encoder-pivot-emoji": {
        "doc": "docs/invert.md", "needs": "data/emoji-faces-twitter; runs/encoders/emoji-3v60.safetensors (encoder-emoji-3v)",
        "commands": [twitter_pivot("emoji-3v60", "encoder_pivot_emoji")],
        "writes": ["encoder_pivot_emoji.json"],
    },
    "encoder-pti-settings": {
        "doc": "docs/invert.md", "needs": "data/emoji-faces-twitter; runs/encoders/emoji-3v60.safetensors (encoder-emoji-3v)",
        "commands": [f"env OMP_NUM_THREADS=1 python bench/invert_table.py --model emoji --images {TWITTER} --n 10 --rows encpti "
                     f"{flags} --encoder runs/encoders/emoji-3v60.safetensors --json bench/results/{name}.json"
                     for flags, name in (("--pti-lr 0.005", "invert_emoji_twitter_n10_encpti_lr005"),
                                         ("--pti-tune-from 4", "invert_emoji_twitter_n10_encpti_tunefrom4"))],
        "writes": ["invert_emoji_twitter_n10_encpti_lr005.json", "invert_emoji_twitter_n10_encpti_tunefrom4.json"],
    },
    "encoder-emoji-domain": {
        "doc": "docs/invert.md", "needs": "runs/encoders/emoji-3v60.safetensors (encoder-emoji-3v) and its data",
        "commands": [emoji_encoder_training("emoji-3v60", "", 40, 3, "emoji-3v-domain40")],
        "writes": [],
    },
    "encoder-emoji-refine": {
        "doc": "docs/invert.md", "needs": "runs/encoders/emoji-3v-domain40.safetensors (encoder-emoji-domain) and its data",
        "commands": [emoji_encoder_training("emoji-3v-domain40", "--refine 2 ", 60, 4, "emoji-3v-refine60")],
        "writes": [],
    },
    "encoders-emoji-refine": {
        "doc": "docs/invert.md", "needs": "data/emoji-faces-twitter; runs/encoders/emoji-3v-refine60.safetensors (encoder-emoji-refine)",
        "commands": [twitter_invert("emoji-3v-refine60", "enc,encpti", "invert_emoji_twitter_n100_encoder_refine60")],
        "writes": ["invert_emoji_twitter_n100_encoder_refine60.json"],
    },
    "encoder-emoji-refine145": {
        "doc": "docs/invert.md", "needs": "runs/encoders/emoji-3v-refine60.safetensors (encoder-emoji-refine) and its data",
        "commands": [emoji_encoder_training("emoji-3v-refine60", "--refine 2 --lr 3e-4 ", 85, 5, "emoji-3v-refine145")],
        "writes": [],
    },
    "encoders-emoji-refine145": {
        "doc": "docs/invert.md", "needs": "data/emoji-faces-twitter; runs/encoders/emoji-3v-refine145.safetensors "
                                          "(encoder-emoji-refine145); the last two on an idle machine",
        "commands": [twitter_encoder_reading("emoji-3v-refine145", f"invert_emoji_twitter_n100_encoder_refine145{name}",
                                             extra=extra) for extra, name in (("", ""), (" --refine-passes 3", "_passes3"))] + [
                     twitter_encoder_reading("emoji-3v-refine145", f"invert_emoji_idle_refine145_threads{t}", n=10,
                                             rows="enc,encpti", threads=t) for t in (1, 2)],
        "writes": ["invert_emoji_twitter_n100_encoder_refine145.json", "invert_emoji_twitter_n100_encoder_refine145_passes3.json",
                   "invert_emoji_idle_refine145_threads1.json", "invert_emoji_idle_refine145_threads2.json"],
    },
    "encoder-emoji-polish": {
        "doc": "docs/invert.md", "needs": "runs/encoders/emoji-3v-refine145.safetensors (encoder-emoji-refine145) and its data; "
                                          "the first two side by side, the third after the first",
        "commands": [emoji_encoder_training("emoji-3v-refine145", "--polish 1 --refiner-width 64 --lr 3e-4 ", 95, 6,
                                            "emoji-3v-polish95"),
                     emoji_encoder_training("emoji-3v-refine145", "--polish 1 --refiner-width 64 --lr 3e-4 ", 75, 7,
                                            "emoji-3v-polish-img75", latent=0),
                     emoji_encoder_training("emoji-3v-polish95", "--polish 1 --lr 3e-4 ", 48, 8, "emoji-3v-polish145",
                                            latent=0)],
        "writes": [],
    },
    "encoders-emoji-polish": {
        "doc": "docs/invert.md", "needs": "data/emoji-faces-{twitter,apple,facebook}; the encoders of encoder-emoji-polish; "
                                          "the last two on an idle machine",
        "commands": [twitter_encoder_reading(e, f"invert_emoji_twitter_n100_encoder_{e.removeprefix('emoji-3v-')}")
                     for e in ("emoji-3v-polish95", "emoji-3v-polish-img75", "emoji-3v-polish145")] + [
                     twitter_encoder_reading("emoji-3v-refine145", f"invert_emoji_{v}_n100_encoder_refine145",
                                             images=f"data/emoji-faces-{v}/images") for v in ("apple", "facebook")] + [
                     twitter_encoder_reading("emoji-3v-polish145", f"invert_emoji_idle_polish145_threads{t}", n=10,
                                             rows="enc,encpti", threads=t) for t in (1, 2)] + [
                     "python bench/encoder_sheet.py --model emoji --images data/emoji-faces-twitter/images "
                     "--out bench/results/encoder_polish_sheet.png runs/encoders/emoji-3v-refine145.safetensors "
                     "runs/encoders/emoji-3v-polish145.safetensors"],
        "writes": ["invert_emoji_twitter_n100_encoder_polish95.json", "invert_emoji_twitter_n100_encoder_polish-img75.json",
                   "invert_emoji_twitter_n100_encoder_polish145.json", "invert_emoji_apple_n100_encoder_refine145.json",
                   "invert_emoji_facebook_n100_encoder_refine145.json", "invert_emoji_idle_polish145_threads1.json",
                   "invert_emoji_idle_polish145_threads2.json", "encoder_polish_sheet.png"],
    },
    "encoder-emoji-refine190": {
        "doc": "docs/invert.md", "needs": "runs/encoders/emoji-3v-refine145.safetensors (encoder-emoji-refine145) and its data",
        "commands": [emoji_encoder_training("emoji-3v-refine145", "--refine 2 --lr 1e-4 ", 45, 6, "emoji-3v-refine190"),
                     twitter_encoder_reading("emoji-3v-refine190", "invert_emoji_twitter_n100_encoder_refine190")],
        "writes": ["invert_emoji_twitter_n100_encoder_refine190.json"],
    },
    "encoders-refine-idle": {
        "doc": "docs/invert.md", "needs": "an idle machine; the two refined encoders (encoder-emoji-refine, encoder-rooms-refine)",
        "commands": [f"env OMP_NUM_THREADS=1 python bench/invert_table.py {what} --rows enc,encpti "
                     f"--json bench/results/invert_{name}_idle_refine_threads1.json" for name, what in (
                         ("emoji", f"--model emoji --images {TWITTER} --n 10 --encoder runs/encoders/emoji-3v-refine60.safetensors"),
                         ("rooms", "--model rooms --n 10 --encoder runs/encoders/rooms-refine55.safetensors"))],
        "writes": ["invert_emoji_idle_refine_threads1.json", "invert_rooms_idle_refine_threads1.json"],
    },
    "encoders-emoji-domain": {
        "doc": "docs/invert.md", "needs": "data/emoji-faces-twitter; runs/encoders/emoji-3v-domain40.safetensors (encoder-emoji-domain)",
        "commands": [twitter_invert("emoji-3v-domain40", "enc,encpti", "invert_emoji_twitter_n100_encoder_domain40"),
                     twitter_pivot("emoji-3v-domain40", "encoder_pivot_emoji_domain40")],
        "writes": ["invert_emoji_twitter_n100_encoder_domain40.json", "encoder_pivot_emoji_domain40.json"],
    },
    "pti-follow": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}",
        "commands": ["env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 50 --spaces w+ --pti-steps 150 "
                     "--pti-locality 0.1 --pti-follow 0,0.03,0.1 "
                     "--json bench/results/invert_edits_rooms_n50_pti_follow.json"],
        "writes": ["invert_edits_rooms_n50_pti_follow.json"],
    },
    "invert-follow": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}",
        "commands": ["env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 200 --spaces w+ --follow 0,0.1,0.3 "
                     "--json bench/results/invert_edits_rooms_n200_follow.json",
                     "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 200 --spaces w+ "
                     "--segmenter bench/results/eval_segmenter_rooms.safetensors "
                     "--json bench/results/invert_edits_rooms_n200_evalseg.json",
                     "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 200 --spaces w+ --pti-steps 150 "
                     "--pti-locality 0.1 --json bench/results/invert_edits_rooms_n200_pti150.json"],
        "writes": ["invert_edits_rooms_n200_follow.json", "invert_edits_rooms_n200_evalseg.json",
                   "invert_edits_rooms_n200_pti150.json"],
    },
    "invert-fit-centres": {
        "doc": "docs/invert.md", "needs": f"{ROOMS}",
        "commands": ["env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 200 --spaces w+ --fit-centres 1 "
                     "--json bench/results/invert_edits_rooms_n200_fitcentres.json",
                     "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 200 --spaces w+ --coarse-w 2,4 "
                     "--json bench/results/invert_edits_rooms_n200_coarsew.json",
                     "env OMP_NUM_THREADS=1 python bench/invert_edits.py --model rooms --n 400 --spaces w+ "
                     "--json bench/results/invert_edits_rooms_n400.json"],
        "writes": ["invert_edits_rooms_n200_fitcentres.json", "invert_edits_rooms_n200_coarsew.json",
                   "invert_edits_rooms_n400.json"],
    },
    "d-planes": {
        "doc": "docs/spatialgan.md", "needs": f"{ROOMS}",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/s12/objplanes --method spatial "
            "--discriminator projected --batch 32 --init-from rooms --clock cpu --minutes 60 --kimg 100000 "
            "--milestones 20,40,60 --method-options '{\"sampling\": \"multi\", \"sel\": \"indoor_norm\", "
            "\"align\": \"segmenter\", \"align_interval\": 2, \"paired\": true, \"n_objects\": 4, "
            "\"follow\": 1.0, \"d_planes\": \"objects\"}'"] + [
            f"env OMP_NUM_THREADS=1 steergan eval runs/s12/objplanes/milestones/minutes-{m} --metric {metric} "
            f"--n 1000{data} --json > bench/results/dplanes_{short}_{m}.json"
            for m in (20, 40) for metric, short, data in (("comove", "comove", ""),
                                                          ("fd_judge", "judge", " --data data/rooms64"))] + [
            "env OMP_NUM_THREADS=1 steergan eval --model rooms --metric fd_judge --n 1000 --data data/rooms64 --json "
            "> bench/results/dplanes_judge_bundled.json",
            "python bench/grids_figure.py --models rooms,runs/s12/objplanes/milestones/minutes-20,"
            "runs/s12/objplanes/milestones/minutes-40 --labels 'rooms (bundled),d_planes=objects 20 min,"
            "d_planes=objects 40 min' --out bench/results/dplanes_grids.png"],
        "writes": [f"dplanes_{k}_{m}.json" for k in ("comove", "judge") for m in (20, 40)] + [
            "dplanes_judge_bundled.json", "dplanes_grids.png"],
    },
    "separate": {
        "doc": "docs/spatialgan.md", "needs": f"{ROOMS}; the evaluation-only segmenter (the comove-evalseg entry)",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/s13/separate --method spatial "
            "--discriminator projected --batch 32 --init-from rooms --clock cpu --minutes 40 --kimg 100000 "
            f"--milestones 10,20,40 --method-options '{separate_options()}'",
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/s13/sep-follow3 --method spatial "
            "--discriminator projected --batch 32 --init-from runs/s13/separate/milestones/minutes-40 --clock cpu "
            f"--minutes 20 --kimg 100000 --milestones 10,20 --method-options '{separate_options(follow=3.0)}'"] + [
            cmd for name, model in SEPARATE_MODELS.items() for cmd in separate_evals(name, model)] + [
            f"python bench/grids_figure.py --models {','.join(SEPARATE_MODELS.values())} "
            f"--labels '{','.join(SEPARATE_MODELS)}' --out bench/results/separate_grids.png",
            f"env OMP_NUM_THREADS=1 python bench/separation_floor.py --models {','.join(SEPARATE_MODELS.values())} "
            "--data data/rooms64-holdout --n 1000 --json bench/results/separation_floor.json"],
        "writes": [w for name in SEPARATE_MODELS for w in separate_writes(name)] + [
            "separate_grids.png", "separation_floor.json"],
    },
    "separate-light": {
        "doc": "docs/spatialgan.md", "needs": f"{ROOMS}; the evaluation-only segmenter (the comove-evalseg entry)",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/s13/separate03 --method spatial "
            "--discriminator projected --batch 32 --init-from rooms --clock cpu --minutes 20 --kimg 100000 "
            f"--milestones 10,20 --method-options '{separate_options(separate=0.3)}'"] + separate_evals(
            "separate03", "runs/s13/separate03/milestones/minutes-20") + [
            "env OMP_NUM_THREADS=1 python bench/separation_floor.py --models runs/s13/separate03/milestones/minutes-20 "
            "--data data/rooms64-holdout --n 1000 --json bench/results/separation_floor_separate03.json"],
        "writes": separate_writes("separate03") + ["separation_floor_separate03.json"],
    },
    "separate-drag": {
        "doc": "docs/spatialgan.md", "needs": "the separate entry's runs",
        "commands": [f"env OMP_NUM_THREADS=1 python bench/drag_table.py --model {SEPARATE_MODELS[name]} --baseline '' "
                     f"--n 50 --modes heatmap,hybrid --seed {seed} --json bench/results/drag_{name}_seed{seed}.json"
                     for name in ("separate20", "sepfollow3") for seed in (0, 1)],
        "writes": [f"drag_{name}_seed{seed}.json" for name in ("separate20", "sepfollow3") for seed in (0, 1)],
    },
    "semantic-cost": {
        "doc": "docs/semanticstylegan.md", "needs": "nothing",
        "commands": ["python bench/semantic_cost.py --preset tiny --batch 32 --classes 4,8,16 --steps 5 "
                     "--json bench/results/semantic_cost.json"],
        "writes": ["semantic_cost.json"],
    },
    "semantic-metrics": {
        "doc": "docs/semanticstylegan.md", "needs": "the bundled semantic model",
        "commands": ["steergan eval --model semantic --metric locality --n 500 --json "
                     "> bench/results/semantic_locality.json",
                     "steergan eval --model semantic --metric miou --n 500 --json > bench/results/semantic_miou.json"],
        "writes": ["semantic_locality.json", "semantic_miou.json"],
    },
    "spatial-table1": {
        "doc": "docs/spatialgan.md", "needs": f"{ROOMS}; trains one run per row",
        "commands": ["python bench/spatial_table1.py --data data/rooms64 --runs runs/table1 --kimg 10 --n 2000 "
                     "--json bench/results/spatial_table1.json"],
        "writes": ["spatial_table1.json"],
    },
    "spatial-table3": {
        "doc": "docs/spatialgan.md", "needs": f"{CREATURES}, data/emoji-faces; trains two runs per dataset",
        "commands": ["python bench/spatial_table3.py --runs runs/table3 --kimg 40 --datasets creatures=data/creatures64 "
                     "--json bench/results/spatial_table3.json",
                     "python bench/spatial_table3.py --runs runs/table3 --kimg 30 --datasets emoji=data/emoji-faces "
                     "--json bench/results/spatial_table3.json"],
        "writes": ["spatial_table3.json"],
    },
    "spatial-figures": {
        "doc": "docs/spatialgan.md", "needs": "the bundled models (and runs/table3/emoji-spatial for emoji)",
        "commands": ["python bench/spatial_figures.py --model rooms --layout bench/results/rooms_layout.png",
                     "python bench/spatial_figures.py --model creatures --hier",
                     "python bench/spatial_figures.py --model runs/table3/emoji-spatial "
                     "--layout bench/results/emoji_layout.png"],
        "writes": ["rooms_layout.png", "rooms_edits.png", "creatures_layout.png", "creatures_edits.png",
                   "creatures_moves.png", "emoji_layout.png", "emoji_edits.png", "attention_rooms.png"],
    },
    "speed": {
        "doc": "docs/benchmarks.md", "needs": "an idle machine (timings)",
        "commands": ["python bench/generate_speed.py --model rooms", "python bench/edit_speed.py --model rooms",
                     "python bench/train_speed.py --presets ref64,tiny --batch 16 --json bench/results/train_speed_b16.json",
                     "python bench/train_speed.py --presets tiny,ref64,paper256 --batch 4 "
                     "--json bench/results/train_speed_b4.json",
                     "python bench/train_speed.py --presets tiny,tiny+projected --batch 32 "
                     "--json bench/results/train_speed_projected.json",
                     "python bench/train_speed.py --presets tiny,tiny+spatial-multi,tiny+spatial-steer --batch 32 "
                     "--json bench/results/train_speed_steer.json"],
        "writes": ["generate_speed.json", "edit_speed.json", "train_speed_b16.json", "train_speed_b4.json",
                   "train_speed_projected.json", "train_speed_steer.json"],
    },
    "time-to-quality": {
        "doc": "docs/benchmarks.md", "needs": f"{ROOMS}, {HOLDOUTS}, runs/rooms-baseline, runs/rooms-projected, "
                                              "runs/creatures-stylegan2, runs/creatures-projected (their milestones)",
        "commands": [
            "python bench/time_to_quality.py --run runs/rooms-baseline --data data/rooms64 "
            "--holdout data/rooms64-holdout --n 1000 --json bench/results/time_to_quality.json",
            "python bench/time_to_quality.py --run runs/rooms-projected --models rooms-stylegan2 --data data/rooms64 "
            "--holdout data/rooms64-holdout --n 1000 --metrics fd_effnet,fd_seg --minutes 10,20,30,40,60 "
            "--json bench/results/time_to_quality_projected.json --figure bench/results/time_to_quality_projected.png",
            "python bench/time_to_quality.py --run runs/creatures-stylegan2,runs/creatures-projected "
            "--data data/creatures64 --holdout data/creatures64-holdout --n 1000 --metrics fd_effnet,fd_seg "
            "--segmenter creatures --minutes 10,20,40 --json bench/results/time_to_quality_creatures.json "
            "--figure bench/results/time_to_quality_creatures.png"],
        "writes": ["time_to_quality.json", "time_to_quality.png", "time_to_quality_projected.json",
                   "time_to_quality_projected.png", "time_to_quality_creatures.json",
                   "time_to_quality_creatures.png"],
    },
    "time-to-quality-judge": {
        "doc": "docs/quality.md", "needs": f"{ROOMS}, {CREATURES}, {HOLDOUTS}, runs/rooms-steer-proj and "
                                          "runs/creatures-proj (the projected-D fine-tunes, their milestones)",
        "commands": [
            "python bench/time_to_quality.py --run runs/rooms-steer-proj --metrics fd_judge --data data/rooms64 "
            "--holdout data/rooms64-holdout --n 1000 --minutes 10,20,40,60,80,110 "
            "--json bench/results/time_to_quality_judge_rooms.json",
            "python bench/time_to_quality.py --run runs/creatures-proj --metrics fd_judge --segmenter creatures "
            "--data data/creatures64 --holdout data/creatures64-holdout --n 1000 --minutes 10,20,40,60 "
            "--json bench/results/time_to_quality_judge_creatures.json"],
        "writes": ["time_to_quality_judge_rooms.json", "time_to_quality_judge_creatures.json"],
    },
    "time-to-quality-old-recipe": {
        "doc": "docs/quality.md", "needs": f"{ROOMS}, {CREATURES}, {HOLDOUTS}",
        "commands": [
            "env OMP_NUM_THREADS=1 steergan train --data data/rooms64 --out runs/old-recipe/rooms --method spatial "
            "--init-from rooms-stylegan2 --method-options '{\"sampling\": \"multi\", \"sel\": \"indoor_norm\", "
            "\"align\": \"segmenter\", \"align_interval\": 2, \"paired\": true, \"n_objects\": 4}' --clock cpu "
            "--minutes 60 --kimg 100000 --milestones 10,20,40,60 --diversity-n 0",
            "env OMP_NUM_THREADS=1 steergan train --data data/creatures64 --out runs/old-recipe/creatures --method spatial "
            "--init-from rooms-stylegan2 --method-options '{\"paired\": true, \"align\": \"segmenter\", "
            "\"segmenter\": \"creatures\", \"align_interval\": 2}' --clock cpu --minutes 60 --kimg 90 "
            "--milestones 10,20,40,60 --diversity-n 0",
            "python bench/time_to_quality.py --run runs/old-recipe/rooms --metrics fd_judge --data data/rooms64 "
            "--holdout data/rooms64-holdout --n 1000 --minutes 10,20,40,60 --grids runs/old-recipe/grids "
            "--json bench/results/time_to_quality_judge_old_rooms.json "
            "--figure bench/results/time_to_quality_judge_old_rooms.png",
            "python bench/time_to_quality.py --run runs/old-recipe/creatures --metrics fd_judge --segmenter creatures "
            "--data data/creatures64 --holdout data/creatures64-holdout --n 1000 --minutes 10,20,40,60 "
            "--grids runs/old-recipe/grids --json bench/results/time_to_quality_judge_old_creatures.json "
            "--figure bench/results/time_to_quality_judge_old_creatures.png"],
        "writes": ["time_to_quality_judge_old_rooms.json", "time_to_quality_judge_old_rooms.png",
                   "time_to_quality_judge_old_creatures.json", "time_to_quality_judge_old_creatures.png"],
    },
    "old-vs-new": {
        "doc": "docs/quality.md", "needs": "the bundled models and git history (commit 97525a7)",
        "commands": ["python bench/old_vs_new_figure.py"],
        "writes": ["quality_grids/"],
    },
    "editor-latency": {
        "doc": "docs/editor.md", "needs": "an idle machine, Chromium",
        "commands": ["python bench/ui_latency.py --model rooms --moves 200 --clients 4 --browser "
                     "--json bench/results/ui_latency.json --screenshot bench/results/editor.png"],
        "writes": ["ui_latency.json", "editor.png"],
    },
}

# Result files that no single command remakes as they are, and why.
LEGACY = {
    "drag_table_rooms_new.json": "n = 10, before quarter-pixel tracking; superseded by drag_table_rooms_n50.json "
                                 "(docs/drag.md keeps its command)",
    "drag_table_creatures_new.json": "n = 10, before quarter-pixel tracking; superseded by "
                                     "drag_table_creatures_n50.json (docs/drag.md keeps its command)",
    "drag_table.json": "merged by hand from drag_table_coarse4.json and _coarse1.json (old models; docs/drag.md says so)",
    "drag_table_creatures.json": "merged by hand from the creatures _coarse4/_coarse1 files (old models)",
    "drag_table_coarse1.json": "old rooms model (before issue 14); command in docs/drag.md",
    "drag_table_coarse4.json": "old rooms model (before issue 14); command in docs/drag.md",
    "drag_table_creatures_coarse1.json": "old creatures model; command in docs/drag.md",
    "drag_table_creatures_coarse4.json": "old creatures model; command in docs/drag.md",
    "drag_table_patience50.json": "a one-off setting of the old rooms model (docs/drag.md)",
    "drag_example.gif": "written by the old drag_table command (--gif)",
    "baseline20_fd.json": "fd of training runs deleted since (docs/benchmarks.md history)",
    "baseline30_fd.json": "fd of training runs deleted since (docs/benchmarks.md history)",
    "semantic_fd.json": "fd of the semantic model's training run (deleted since)",
    "link_class_quadrants.json": "two LinkGAN fine-tunes run side by side (docs/linkgan.md gives the commands)",
    "link_heatmaps_link-floor30.png": "figure of the class-link fine-tune (docs/linkgan.md)",
    "link_heatmaps_link-quad30.png": "figure of the quadrants fine-tune (docs/linkgan.md)",
    "invert_rooms_pti50.json": "invert_table.py with --pti-steps 50 (docs/invert.md)",
    "locality_table_before.json": "locality before the paired-samples fix (issue 16), kept for comparison",
    "train_speed_hier_steer.json": "train_speed.py rows of docs/spatialgan.md (command there)",
    "train_speed_methods_b32.json": "train_speed.py rows of docs/benchmarks.md (command there)",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("name", nargs="?", help="an entry of the manifest")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    if a.list or not a.name:
        for name, e in MANIFEST.items():
            print(f"{name:18s} {e['doc']:26s} writes {', '.join(e['writes'])}\n{'':18s} needs {e['needs']}")
        return 0
    if a.name not in MANIFEST:
        print(f"error: unknown entry {a.name!r}; see --list", file=sys.stderr)
        return 2
    env = dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    for cmd in MANIFEST[a.name]["commands"]:
        print(f"$ {cmd}", flush=True)
        if a.dry_run:
            continue
        before = _mtimes()
        if subprocess.run(cmd, shell=True, cwd=ROOT, env=env).returncode != 0:
            print(f"error: command failed: {cmd}", file=sys.stderr)
            return 1
        for path, mtime in _mtimes().items():       # what this command wrote, stamped with it
            if before.get(path) != mtime:
                stamp(path, cmd, threads=_threads(cmd))
    return 0


def _mtimes() -> dict:
    return {p: p.stat().st_mtime_ns for p in (ROOT / "bench" / "results").glob("*.json")}


def _threads(cmd: str):
    """The thread count a command ran with, if it set OMP_NUM_THREADS (else torch's default)."""
    found = re.search(r"OMP_NUM_THREADS=(\d+)", cmd)
    return int(found.group(1)) if found else None


if __name__ == "__main__":
    sys.exit(main())
