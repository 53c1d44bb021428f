"""GPU check: paper256 training with bf16 autocast (one process, then torchrun on every local
GPU), generation and one drag, with img/s and milliseconds. On a machine without CUDA it
says so and exits 0.

    python bench/gpu_check.py [--iters 300] [--json bench/results/gpu_check.json]

Data: 512 procedural rooms rendered at 256 px into a temporary folder (nothing downloaded).
Training throughput is read from the run's own ``stats.jsonl`` (img/s of the last tick).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from _timing import percentile_ms, report


def train(data: Path, out: Path, iters: int, batch: int, nproc: int) -> dict:
    kimg = iters * batch / 1000
    args = ["train", "--data", str(data), "--out", str(out), "--preset", "paper256", "--amp",
            "--batch", str(batch), "--kimg", f"{kimg:g}", "--tick-kimg", f"{kimg / 3:g}", "--diversity-n", "0",
            "--augment", ""]
    if nproc > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "-m",
               "steergan.cli.main", *args]
    else:
        cmd = [sys.executable, "-m", "steergan.cli.main", *args]
    t0 = time.time()
    subprocess.run(cmd, check=True)
    rows = [json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines()]
    ticks = [r for r in rows if "img_per_s" in r]
    return {"processes": nproc, "batch": batch, "iterations": iters, "wall_s": round(time.time() - t0, 1),
            "img_per_s_last_tick": round(ticks[-1]["img_per_s"], 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU on this machine; nothing measured (exit 0)")
        return
    from steergan.data.scenes import make_dataset
    from steergan.edit.drag import DragOptions, DragSession, initial_state
    from steergan.models import load_model
    work = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    try:
        data = make_dataset("rooms", work / "rooms256", n=512, resolution=256, workers=os.cpu_count() or 2,
                            progress=False)
        n_gpu = torch.cuda.device_count()
        res = {"gpus": [torch.cuda.get_device_name(i) for i in range(n_gpu)]}
        res["train_1proc"] = train(data, work / "run1", a.iters, a.batch, 1)
        if n_gpu > 1:
            res[f"train_torchrun_{n_gpu}"] = train(data, work / "runN", a.iters, a.batch * n_gpu, n_gpu)
        m = load_model(str(work / "run1"), device="cuda")
        times = []
        for i in range(12):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            m.generate(list(range(i * 16, i * 16 + 16)))
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        res["generate_batch16_ms"] = {"p50": percentile_ms(times[2:], 0.5), "p95": percentile_ms(times[2:], 0.95)}
        s = DragSession(m, initial_state(m, 0), [[128, 128]], [[150, 128]], options=DragOptions(mode="drag"))
        torch.cuda.synchronize()
        summary = s.run()
        res["drag"] = {k: summary[k] for k in ("steps", "seconds", "distance")}
        report(res, a.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
