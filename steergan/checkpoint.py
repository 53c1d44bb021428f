"""Checkpoint format: safetensors tensors + a JSON config. Never pickle.

Two kinds share one config schema (``format``, ``version``, ``kind``, ``arch``, ``method``):

* a *training checkpoint* is a directory ``step-XXXXXXXX/`` holding ``model.safetensors``
  (G, D, G_ema), ``train_state.safetensors`` (optimiser moments, RNG states) and
  ``config.json``. It is written into a temporary directory and renamed into place, so a
  crash at any moment leaves either the old set of checkpoints or the new one, never a
  half-written one.
* a *generator file* ``NAME.safetensors`` holds only the EMA generator (optionally fp16)
  with the config in the safetensors metadata: what ships inside the package.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import UserError

FORMAT = "steergan"
VERSION = 1
STEP_DIR = re.compile(r"^step-(\d{8})$")


def base_config(kind: str, arch: dict, method: dict, **extra) -> dict:
    return {"format": FORMAT, "version": VERSION, "kind": kind, "arch": arch, "method": method, **extra}


def check_config(cfg: dict, where: str, kinds: tuple[str, ...] = ("training", "generator")) -> dict:
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise UserError(f"{where} is not a steergan checkpoint")
    version = cfg.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise UserError(f"{where} has a malformed config (version {version!r} is not an integer)")
    for key in ("arch", "method"):
        if not isinstance(cfg.get(key), dict):
            raise UserError(f"{where} has a malformed config ({key!r} is missing or not an object)")
    method = cfg["method"]
    if not isinstance(method.get("name"), str) or not isinstance(method.get("options", {}), dict):
        raise UserError(f"{where} has a malformed config (method needs a name and an options object)")
    if version > VERSION:
        raise UserError(f"{where} was written by a newer steergan (format version {cfg['version']} > {VERSION})")
    if cfg.get("kind") not in kinds:
        raise UserError(f"{where} is a {cfg.get('kind')!r} checkpoint; expected {' or '.join(kinds)}")
    return cfg


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: Optional[dict] = None) -> None:
    """Write and fsync one safetensors file; a failed write (disk full: safetensors raises
    ``SafetensorError``, not ``OSError``) removes what it wrote before the error goes on."""
    clean = {k: v.detach().contiguous().cpu().clone() for k, v in tensors.items()}
    try:
        save_file(clean, str(path), metadata=metadata)
        with open(path, "rb+") as f:
            os.fsync(f.fileno())
    except BaseException:
        _unlink_quietly(path)
        raise


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_json(obj: dict, path: Path) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.flush()
        os.fsync(f.fileno())


# ----------------------------------------------------------------------------- tagged network files

def save_tagged(path, tensors: dict[str, torch.Tensor], key: str, meta: dict) -> Path:
    """A network that is not a generator (judge, encoder, segmenter): safetensors with its JSON
    metadata under ``key``; written beside the target and renamed, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    _save_tensors(tensors, tmp, {key: json.dumps(meta)})
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def read_tagged(path, key: str, fmt: str, version: int, what: str) -> tuple[dict, dict[str, torch.Tensor]]:
    """(metadata, float tensors) of a ``save_tagged`` file whose metadata has ``format`` = ``fmt``
    and ``version`` = ``version``; one-line ``UserError`` for anything else (``what`` names it)."""
    from safetensors import SafetensorError, safe_open
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{what} {p} does not exist")
    try:
        with safe_open(str(p), "pt") as f:
            meta = json.loads((f.metadata() or {})[key])
            tensors = {k: f.get_tensor(k).float() for k in f.keys()}
    except (SafetensorError, KeyError, ValueError, OSError, json.JSONDecodeError) as e:
        raise UserError(f"{p} is not a steergan {what} file ({type(e).__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt or meta.get("version") != version:
        raise UserError(f"{p} is not a steergan {what} file of version {version}")
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise UserError(f"{p}: {what} weights are not finite")
    return meta, tensors


# ----------------------------------------------------------------------------- training checkpoints

def save_training_checkpoint(ckpt_root: Path, step: int, config: dict,
                             model_tensors: dict[str, torch.Tensor],
                             state_tensors: dict[str, torch.Tensor], keep_last: int = 3) -> Path:
    """Atomically write ``ckpt_root/step-XXXXXXXX`` and prune older ones beyond ``keep_last``."""
    ckpt_root.mkdir(parents=True, exist_ok=True)
    for t in model_tensors.values():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise RuntimeError("refusing to write a checkpoint with non-finite weights")
    final = ckpt_root / f"step-{step:08d}"
    tmp = ckpt_root / f".step-{step:08d}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        _save_tensors(model_tensors, tmp / "model.safetensors")
        _save_tensors(state_tensors, tmp / "train_state.safetensors")
        _write_json(config, tmp / "config.json")   # written last: a dir with config.json is complete
        _fsync_dir(tmp)
    except BaseException:        # disk full, killed...: the older checkpoints stay, the half one goes
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():  # same step written twice (e.g. final save right after a tick)
        _discard(final)
    os.rename(tmp, final)
    _fsync_dir(ckpt_root)
    if keep_last > 0:
        for old in list_checkpoints(ckpt_root)[:-keep_last]:
            _discard(old)
    return final


def copy_checkpoint(ckpt: Path, dest: Path) -> Path:
    """Copy a complete checkpoint directory to ``dest`` atomically (a temporary copy renamed into
    place, replacing what was there): milestones and the best-recall snapshot."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(ckpt, tmp)
    if dest.exists():
        _discard(dest)
    os.rename(tmp, dest)
    return dest


def _discard(ckpt: Path) -> None:
    """Remove a checkpoint atomically: rename it out of sight first, so a kill in the middle of
    the deletion never leaves a half-deleted directory that still looks complete."""
    trash = ckpt.with_name(f".{ckpt.name}.del-{os.getpid()}")
    os.rename(ckpt, trash)
    shutil.rmtree(trash, ignore_errors=True)


def list_checkpoints(ckpt_root: Path) -> list[Path]:
    """Complete checkpoints, oldest first (temporary directories are ignored)."""
    if not ckpt_root.is_dir():
        return []
    found = [p for p in ckpt_root.iterdir()
             if p.is_dir() and STEP_DIR.match(p.name) and (p / "config.json").is_file()]
    return sorted(found)


def remove_stale_temporaries(ckpt_root: Path) -> int:
    """Delete our own half-written (``.step-*.tmp-*``) or half-deleted (``.step-*.del-*``)
    directories left by a killed run."""
    n = 0
    if ckpt_root.is_dir():
        for p in ckpt_root.iterdir():
            if p.is_dir() and p.name.startswith(".step-") and (".tmp-" in p.name or ".del-" in p.name):
                shutil.rmtree(p, ignore_errors=True)
                n += 1
    return n


def read_training_checkpoint(path: Path) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    cfg = read_config(path / "config.json")
    check_config(cfg, str(path), ("training",))
    try:
        model = load_file(str(path / "model.safetensors"))
        state = load_file(str(path / "train_state.safetensors"))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"checkpoint {path} is unreadable ({e})") from None
    return cfg, model, state


def read_config(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"{path} does not exist") from None
    except (OSError, json.JSONDecodeError) as e:
        raise UserError(f"{path} is not a readable JSON config ({e})") from None


# ----------------------------------------------------------------------------- generator files

def save_generator_file(path: Path, config: dict, tensors: dict[str, torch.Tensor], fp16: bool = True) -> Path:
    """One self-describing safetensors file; written to a temp name then renamed."""
    path = Path(path)
    if path.is_dir():    # checked first: the temp name below would land beside the directory
        raise UserError(f"{path} is a directory; give the file to write, e.g. {path / 'model.safetensors'}")
    if path.name in ("", ".", ".."):
        raise UserError(f"{path} is not a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fp16:
        tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in tensors.items()}
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    try:
        _save_tensors(tensors, tmp, metadata={"steergan": json.dumps(config)})
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # a model file is for sharing: ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return path


def read_generator_config(path: Path) -> dict:
    """The config a generator file carries in its metadata (no tensors are read)."""
    try:
        from safetensors import safe_open
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path} is not a readable safetensors file ({e})") from None
    if "steergan" not in meta:
        raise UserError(f"{path} has no steergan config in its metadata: not a steergan model")
    try:
        cfg = json.loads(meta["steergan"])
    except json.JSONDecodeError:
        raise UserError(f"{path} has a corrupt steergan config") from None
    check_config(cfg, str(path))
    return cfg


def read_generator_file(path: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    cfg = read_generator_config(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{path} is not a readable safetensors file ({e})") from None
    return cfg, {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}


def resolve_checkpoint_path(path: str | Path) -> Path:
    """Accept a generator file, a checkpoint dir, or a run dir (-> its latest checkpoint)."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"checkpoint {p} does not exist")
    if p.is_file():
        return p
    if (p / "config.json").is_file():
        return p
    ckpts = list_checkpoints(p / "checkpoints")
    if ckpts:
        return ckpts[-1]
    raise UserError(f"{p} holds no steergan checkpoint (no config.json, no checkpoints/step-*)")
