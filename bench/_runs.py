"""Shared by the SpatialGAN table scripts: train one row (resumable) and measure it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

EXE = [sys.executable, "-m", "steergan.cli.main"]


def run(cmd: list[str], env: dict) -> str:
    print("  $", " ".join(cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-2000:])
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd)}")
    return p.stdout


def train_and_measure(run_dir: Path, data: str, method: str, opts: dict, init_from: str, kimg: float,
                      env: dict, comove_n: int = 0, fd_n: int = 0, segmenter: Optional[str] = None) -> dict:
    """Fine-tune ``run_dir`` to ``kimg`` (a run that is already there just stops), then its
    Co-move Ratio (heatmap models, ``comove_n`` samples) and fd_effnet (``fd_n``) against ``data``."""
    t0 = time.perf_counter()
    run(EXE + ["train", "--data", data, "--out", str(run_dir), "--method", method,
               "--method-options", json.dumps(opts), "--init-from", init_from,
               "--kimg", str(kimg), "--tick-kimg", "2"], env)
    row = {"method": method, "options": opts, "train_wall_seconds": round(time.perf_counter() - t0, 1)}
    stats = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines() if line.strip()]
    if stats:
        row["kimg"] = round(stats[-1].get("kimg", 0.0), 2)
        row["train_minutes"] = round(stats[-1].get("train_minutes", 0.0), 2)
    if method == "spatial" and comove_n:
        cmd = EXE + ["eval", str(run_dir), "--metric", "comove", "--n", str(comove_n), "--json"]
        res = json.loads(run(cmd + (["--segmenter", segmenter] if segmenter else []), env))
        row["comove"] = {k: res.get(k) for k in ("mean", "median", "n", "n_valid")}
    if fd_n:
        res = json.loads(run(EXE + ["eval", str(run_dir), "--metric", "fd_effnet", "--n", str(fd_n),
                                    "--data", data, "--json"], env))
        row["fd_effnet"] = res["value"]
    print(f"  -> {json.dumps({k: row.get(k) for k in ('kimg', 'comove', 'fd_effnet')})}", file=sys.stderr)
    return row


def write_json(path: Optional[str], out: dict) -> None:
    """The result file, with its provenance (commit, torch, threads, machine, command)."""
    if path:
        from _timing import provenance
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps({**out, "provenance": provenance()}, indent=2))


def thread_env(threads: int) -> dict:
    """The environment for child processes limited to ``threads`` CPU threads."""
    return dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))


def reject_unknown(what: str, given, known) -> bool:
    """Print one error line and return True when ``given`` names something not in ``known``."""
    unknown = [g for g in given if g not in known]
    if unknown:
        print(f"error: unknown {what} {unknown}; known: {', '.join(known)}", file=sys.stderr)
    return bool(unknown)


def earlier_rows(json_path: Optional[str], field: str, redo) -> list[dict]:
    """Rows an earlier call wrote to ``json_path``, except those whose ``field`` is in ``redo``."""
    prev = Path(json_path) if json_path else None
    if not (prev and prev.is_file()):
        return []
    return [r for r in json.loads(prev.read_text()).get("rows", []) if r[field] not in redo]
