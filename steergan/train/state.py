"""Optimiser moments and RNG streams as flat named tensors (so they fit in safetensors)."""
from __future__ import annotations

import json

import torch

from ..errors import UserError


def _optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    sd = opt.state_dict()
    out = {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            t = value if torch.is_tensor(value) else torch.tensor(value)
            out[f"{prefix}.state.{idx}.{key}"] = t
    groups = [{k: v for k, v in g.items()} for g in sd["param_groups"]]
    out[f"{prefix}.param_groups"] = torch.frombuffer(bytearray(json.dumps(groups).encode()), dtype=torch.uint8)
    return out


def _restore_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    key = f"{prefix}.param_groups"
    if key not in tensors:
        raise UserError(f"checkpoint has no optimiser state for {prefix}")
    groups = json.loads(bytes(tensors[key].tolist()).decode())
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    state: dict[int, dict] = {}
    for name, t in tensors.items():
        if name.startswith(prefix + ".state."):
            idx, field = name[len(prefix) + 7:].split(".", 1)
            state.setdefault(int(idx), {})[field] = t
    opt.load_state_dict({"state": state, "param_groups": groups})


def training_state_tensors(trainer) -> dict[str, torch.Tensor]:
    out = {}
    out.update(_optimizer_tensors("G_opt", trainer.G_opt))
    out.update(_optimizer_tensors("D_opt", trainer.D_opt))
    out["rng.torch"] = torch.get_rng_state()
    if trainer.device.type == "cuda":
        out["rng.cuda"] = torch.cuda.get_rng_state(trainer.device)
    out["pl_mean"] = trainer.pl_mean.detach().cpu().reshape(1)
    return out


def restore_optimizers(trainer, tensors: dict[str, torch.Tensor]) -> None:
    _restore_optimizer("G_opt", trainer.G_opt, tensors)
    _restore_optimizer("D_opt", trainer.D_opt, tensors)


def restore_training_state(trainer, tensors: dict[str, torch.Tensor]) -> None:
    restore_optimizers(trainer, tensors)
    # Only a single process restores its exact RNG stream; with several processes each
    # rank re-seeds deterministically from (seed, rank, step) instead.
    if trainer.dist.world_size == 1:
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and trainer.device.type == "cuda":
            torch.cuda.set_rng_state(tensors["rng.cuda"], trainer.device)
    else:
        torch.manual_seed(trainer.opts.seed * 1000003 + trainer.dist.rank * 7919 + trainer.step)
    trainer.pl_mean = tensors["pl_mean"].to(trainer.device).reshape(())
