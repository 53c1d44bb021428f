"""Small helpers shared by the bench scripts: percentiles, provenance and writing results."""
from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import subprocess
import sys


def percentile_ms(times: list[float], q: float) -> float:
    """The q-quantile (0..1) of durations in seconds, in milliseconds."""
    s = sorted(times)
    return round(1000 * (statistics.median(s) if q == 0.5 else s[max(0, int(q * len(s)) - 1)]), 2)


def provenance() -> dict:
    """What made a result: commit (and whether the tree had changes), torch, threads, machine,
    the exact command line."""
    import torch
    here = os.path.dirname(os.path.abspath(__file__))

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    cpu = platform.processor() or platform.machine()
    # Machines sold under one name ("AMD EPYC") differ 2-3x in speed here: the family/model and the
    # vector unit torch uses tell them apart.
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    cpu = info.get("model name", cpu)
    cpu_id = f"family {info['cpu family']} model {info['model']}" if "cpu family" in info and "model" in info else ""
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": cpu, "cpu_id": cpu_id,
            "cpu_vector": torch.backends.cpu.get_cpu_capability(),
            "cores": os.cpu_count(), "python": platform.python_version(),
            "command": " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0])] + sys.argv[1:])}


def stamp(path, command: str, threads: int | None = None) -> bool:
    """Add a ``provenance`` record to a JSON result that has none (``command``: what made it, e.g.
    a ``steergan eval`` line; ``threads``: what it ran with, when not this process's default).
    Returns whether it wrote."""
    with open(path) as f:
        res = json.load(f)
    if not isinstance(res, dict) or "provenance" in res:
        return False
    res["provenance"] = {**provenance(), "command": command, **({} if threads is None else {"threads": threads})}
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    return True


def report(res: dict, path: str | None) -> None:
    res = {**res, "provenance": provenance()}
    print(json.dumps(res, indent=2))
    if path:
        with open(path, "w") as f:
            json.dump(res, f, indent=2)
