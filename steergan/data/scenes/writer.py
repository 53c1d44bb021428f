"""Write a scene dataset to disk: images, semantic and instance masks, object JSON.

Layout (the trainer reads ``images/``; metrics and segmenters read the rest)::

    out/images/00000000.png   out/semantic/00000000.png   out/instances/00000000.png
    out/objects.jsonl         out/dataset.json   (written last: its presence marks a complete set)
"""
from __future__ import annotations

import json
import os
from multiprocessing import Pool
from pathlib import Path

from PIL import Image

from ...errors import UserError

GENERATOR = "steergan.data.scenes"
SUBDIRS = ("images", "semantic", "instances")
MAX_IMAGES = 10_000_000
MAX_WORKERS = 256


def _render_and_save(args) -> dict:
    kind, index, resolution, seed, out = args
    from . import render
    s = render(kind, index, resolution, seed)
    name = f"{index:08d}.png"
    Image.fromarray(s.image).save(os.path.join(out, "images", name))
    Image.fromarray(s.semantic).save(os.path.join(out, "semantic", name))
    Image.fromarray(s.instances).save(os.path.join(out, "instances", name))
    return {"index": index, "file": f"images/{name}", "objects": s.objects}


def _check_target(out: Path) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise UserError(f"{out} exists and is not a directory")
    entries = [p.name for p in out.iterdir()]
    if not entries:
        return
    meta = out / "dataset.json"
    ours = set(entries) <= set(SUBDIRS) | {"objects.jsonl", "dataset.json", "objects.jsonl.tmp", "dataset.json.tmp"}
    if meta.is_file():
        try:
            recorded = json.loads(meta.read_text())
            ours = ours and isinstance(recorded, dict) and recorded.get("generator") == GENERATOR
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            ours = False
    if not ours:
        raise UserError(f"{out} is not empty and is not a steergan scene dataset; choose a new --out "
                        f"(nothing was changed)")


def make_dataset(kind: str, out_dir, n: int, resolution: int = 64, seed: int = 0, workers: int = 2,
                 progress: bool = True) -> Path:
    from . import SCENE_KINDS, classes
    if kind not in SCENE_KINDS:
        raise UserError(f"unknown scene kind {kind!r}; choose one of {', '.join(SCENE_KINDS)}")
    if resolution < 16 or resolution > 1024 or resolution & (resolution - 1):
        raise UserError(f"resolution must be a power of two in 16..1024, got {resolution}")
    if not 1 <= n <= MAX_IMAGES:
        raise UserError(f"n must be between 1 and {MAX_IMAGES:,}, got {n}")
    if not 0 <= seed < 2 ** 63:
        raise UserError(f"seed must be between 0 and 2^63-1, got {seed}")
    if not 1 <= workers <= MAX_WORKERS:     # a typo of 10**6 workers would fork 10**6 processes
        raise UserError(f"workers must be between 1 and {MAX_WORKERS}, got {workers}")
    out = Path(out_dir)
    _check_target(out)
    stale = out / "dataset.json"
    if stale.exists():
        stale.unlink()          # the set is being rewritten: incomplete until the new one lands
    for d in SUBDIRS:
        (out / d).mkdir(parents=True, exist_ok=True)
    jobs = [(kind, i, resolution, seed, str(out)) for i in range(n)]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=n, unit="img", desc=f"rendering {kind}")
    records = [None] * n
    if workers > 1 and n >= 64:
        with Pool(workers) as pool:
            for rec in pool.imap_unordered(_render_and_save, jobs, chunksize=32):
                records[rec["index"]] = rec
                if bar is not None:
                    bar.update(1)
    else:
        for job in jobs:
            rec = _render_and_save(job)
            records[rec["index"]] = rec
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    tmp = out / "objects.jsonl.tmp"
    with open(tmp, "w") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")
    os.replace(tmp, out / "objects.jsonl")
    meta = {"kind": kind, "resolution": resolution, "n": n, "seed": seed, "classes": classes(kind),
            "generator": GENERATOR, "version": 1}
    tmp = out / "dataset.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, out / "dataset.json")
    return out
