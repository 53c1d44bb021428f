"""Recipe ablation for the projected discriminator: one change per row, the same CPU budget each.

Every row trains the `tiny` generator from scratch on the same data for ``--minutes`` of
*process CPU time* (``--clock cpu``, one thread), so two rows trained side by side on two cores
get the same work whatever else the machine does. Rows run ``--parallel`` at a time. Then
``time_to_quality.py`` scores each row's last milestone: the evaluation-only judge's Fréchet
distance (the quality figure: no training loss reads it; ``--metrics fd_judge,fd_effnet`` adds
the projected D's own network, slow on a CPU), the judge's precision and recall (collapse shows
as low recall), and a 32-sample grid. The same command resumes.

    steergan data make rooms --out data/rooms64 -n 20000
    steergan data make rooms --out data/rooms64-holdout -n 2000 --seed 1
    python bench/recipe_ablation.py --data data/rooms64 --holdout data/rooms64-holdout \
        --json bench/results/recipe_ablation.json --figure bench/results/recipe_ablation.png
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _timing import report

# One change from the recipe as it stood (batch 32, the default before this ablation made 16 the
# projected D's default) per row: flags of `steergan train`, added after BASE (the last wins).
BASE = ["--discriminator", "projected", "--batch", "32", "--init-from", "none"]
ROWS = {
    "defaults": [],
    "wide 32/64 px layers": ["--arch", '{"channel_base": 2048}'],
    "lr 0.001": ["--glr", "0.001", "--dlr", "0.001"],
    "batch 16": ["--batch", "16"],
    "EMA half-life 2 kimg": ["--ema-kimg", "2"],
    "augment translation only": ["--augment", "translation"],
    "fine-tune from rooms-projected": ["--init-from", "rooms-projected"],
    "minibatch-stddev in the D heads": ["--arch", '{"projected_mbstd": true}'],
}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def train(name: str, args) -> Path:
    run = Path(args.runs) / slug(name)
    cmd = [sys.executable, "-m", "steergan.cli.main", "train", "--data", args.data, "--out", str(run),
           *BASE, "--clock", "cpu", "--minutes", str(args.minutes), "--kimg", "100000",
           "--milestones", f"{args.minutes / 2:g},{args.minutes:g}", "--seed", "0", *args.extra.split(), *ROWS[name]]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    print("$", " ".join(cmd), flush=True)
    with open(run.parent / f"{run.name}.log", "a") as log:
        subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--holdout", required=True)
    ap.add_argument("--rows", default=",".join(ROWS), help="comma-separated row names (default: all)")
    ap.add_argument("--minutes", type=float, default=20.0, help="CPU minutes per row")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--runs", default="runs/ablation")
    ap.add_argument("--extra", default="", help="flags added to every row (e.g. a method)")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--metrics", default="fd_judge", help="time_to_quality.py metrics (fd_effnet is slow on CPU "
                    "and reads the projected D's own network)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--figure", default=None)
    args = ap.parse_args()
    names = [r for r in args.rows.split(",") if r]
    unknown = [r for r in names if r not in ROWS]
    if unknown:
        raise SystemExit(f"error: unknown rows {unknown}; choose from {list(ROWS)}")
    Path(args.runs).mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(args.parallel) as pool:
        runs = list(pool.map(lambda n: train(n, args), names))
    # scored after all trainings, so no evaluation shares the cores with a training
    scores = Path(args.runs) / "scores.json"
    subprocess.run([sys.executable, str(Path(__file__).with_name("time_to_quality.py")),
                    "--run", ",".join(map(str, runs)), "--labels", ",".join(names), "--minutes", f"{args.minutes:g}",
                    "--metrics", args.metrics, "--pr", "--data", args.data, "--holdout", args.holdout,
                    "--n", str(args.n), "--grids", str(Path(args.runs) / "grids"), "--json", str(scores)]
                   + (["--figure", args.figure] if args.figure else []), check=True)
    res = json.loads(scores.read_text())
    res.pop("provenance", None)
    for row in res["rows"]:
        row["flags"] = ROWS[row["label"]]
    res.update(cpu_minutes_per_row=args.minutes, threads_per_row=1, rows_in_parallel=args.parallel)
    report(res, args.json)

if __name__ == "__main__":
    main()
