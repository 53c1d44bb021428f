"""Loading generators for inference: bundled models by name, or any checkpoint path.

What a method can do is read from the checkpoint's config (``method.name`` and its
capabilities), never guessed from a file name.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import torch

from . import checkpoint as ckpt_io
from .errors import UserError
from .methods import Method, method_from_dict
from .nn import DEFAULT_DISCRIMINATOR, ArchConfig, Generator

ASSETS = Path(__file__).parent / "assets"
DEFAULT_MODEL = "rooms"          # falls back to the entry marked "default" in models.json


def bundled_models() -> dict[str, dict]:
    """name -> entry of ``assets/models.json`` (file, description, training figures)."""
    index = ASSETS / "models.json"
    if not index.is_file():
        return {}
    entries = json.loads(index.read_text())
    return {name: e for name, e in entries.items() if (ASSETS / e["file"]).is_file()}


def default_model_name() -> str:
    models = bundled_models()
    if DEFAULT_MODEL in models:
        return DEFAULT_MODEL
    marked = [n for n, e in models.items() if e.get("default")]
    return (marked or list(models) or [DEFAULT_MODEL])[0]


@dataclass
class SteerModel:
    """An EMA generator with its method and config, ready to sample and edit."""

    G: Generator
    method: Method
    config: dict
    source: str
    device: torch.device

    @property
    def resolution(self) -> int:
        return self.G.resolution

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(self.method.capabilities)

    def ws_from_seed(self, seed: int, truncation: float = 1.0) -> torch.Tensor:
        """W+ [1, num_ws, w_dim] for a seed; identical on every machine."""
        with torch.no_grad():
            return self.G.mapping_ws(self.G.z_from_seed(seed, self.device), truncation)

    @torch.no_grad()
    def control_from_seed(self, seed: int) -> Any:
        """The method's control state for a seed (None for the baseline); machine-independent."""
        g = torch.Generator().manual_seed(int(seed) + 1_000_003)
        return self.method.sample_control(1, self.G, self.device, generator=g)

    @torch.no_grad()
    def synthesize(self, ws: torch.Tensor, control: Any = None, noise_mode: str = "const") -> torch.Tensor:
        return self.G.synthesis(ws.to(self.device), control, noise_mode=noise_mode)

    @torch.no_grad()
    def generate(self, seeds: Iterable[int], truncation: float = 1.0, noise_mode: str = "const",
                 batch: int = 32) -> torch.Tensor:
        """uint8 images [N, 3, R, R], one per seed (deterministic)."""
        seeds = list(seeds)
        out = []
        for i in range(0, len(seeds), batch):
            chunk = seeds[i:i + batch]
            ws = torch.cat([self.ws_from_seed(s, truncation) for s in chunk])
            controls = [self.control_from_seed(s) for s in chunk]
            control = self.method.collate_control(controls) if controls[0] is not None else None
            out.append(to_uint8(self.synthesize(ws, control, noise_mode)))
        return torch.cat(out) if out else torch.empty(0, 3, self.resolution, self.resolution, dtype=torch.uint8)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()


D_PREFIX = "D."                  # generator files may also carry the discriminator (for GradCAM figures)


def _build(cfg: dict, tensors: dict[str, torch.Tensor], source: str, device) -> SteerModel:
    arch = ArchConfig.from_dict(cfg["arch"])
    method = method_from_dict(cfg["method"])
    tensors = {k: v for k, v in tensors.items() if not k.startswith(D_PREFIX)}
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise UserError(f"{source} holds non-finite weights ({', '.join(bad[:3])}); refusing to load it")
    G = method.build_generator(arch)
    try:
        missing, unexpected = G.load_state_dict(tensors, strict=False)
    except RuntimeError:              # a tensor of the wrong shape (e.g. another w_dim)
        raise UserError(f"{source} does not match its architecture (tensor shapes differ)") from None
    if missing or unexpected:
        raise UserError(f"{source} does not match its architecture "
                        f"(missing {len(missing)} tensors, unexpected {len(unexpected)})")
    G = G.to(device).eval().requires_grad_(False)
    return SteerModel(G, method, cfg, source, torch.device(device))


def load_model(name_or_path: Optional[str] = None, device: str | torch.device = "cpu") -> SteerModel:
    """A bundled model name, a generator ``.safetensors`` file, a checkpoint or run directory."""
    p, source = resolve_model(name_or_path)
    cfg, tensors = _read_generator(p)
    return _build(cfg, tensors, source, device)


def resolve_model(name_or_path: Optional[str]) -> tuple[Path, str]:
    """(file or checkpoint path, display name) of a bundled name or a path."""
    bundled = bundled_models()
    name = name_or_path or default_model_name()
    if name.startswith("bundled:") and name[len("bundled:"):] in bundled:   # a model's ``source``
        name = name[len("bundled:"):]                                       # (edit states store it)
    if name in bundled:
        return ASSETS / bundled[name]["file"], f"bundled:{name}"
    p = Path(name)
    if not p.exists():
        if name_or_path is None or "/" not in name and not name.endswith(".safetensors"):
            known = ", ".join(bundled) or "none installed"
            raise UserError(f"no bundled model or file named {name!r} (bundled models: {known})")
        raise UserError(f"checkpoint {p} does not exist")
    p = ckpt_io.resolve_checkpoint_path(p)
    return p, str(p)


def discriminator_kind(cfg: dict) -> str:
    """The D kind a config records: training checkpoints under ``train``, generator files
    exported with their D at the top level (files older than the projected D: StyleGAN2)."""
    return cfg.get("discriminator") or cfg.get("train", {}).get("discriminator") or DEFAULT_DISCRIMINATOR


def load_discriminator(name_or_path: Optional[str] = None, device: str | torch.device = "cpu"):
    """(D, method, config) of a training checkpoint / run dir, or of a generator file exported
    with its discriminator; for looking at D's attention (SpatialGAN Fig. 3/13)."""
    p, source = resolve_model(name_or_path)
    if p.is_file():
        cfg, tensors = ckpt_io.read_generator_file(p)
    else:
        cfg, tensors, _ = ckpt_io.read_training_checkpoint(p)
    d = {k[len(D_PREFIX):]: v for k, v in tensors.items() if k.startswith(D_PREFIX)}
    if not d:
        raise UserError(f"{source} carries no discriminator (pass a run directory, or export with "
                        "--with-discriminator)")
    kind = discriminator_kind(cfg)
    if kind != "stylegan2":
        raise UserError(f"{source} was trained with the {kind} discriminator; D attention needs "
                        "the StyleGAN2 discriminator (the default)")
    method = method_from_dict(cfg["method"])
    D = method.build_discriminator(ArchConfig.from_dict(cfg["arch"]), kind)
    missing, unexpected = D.load_state_dict(d, strict=False)
    if missing or unexpected:
        raise UserError(f"{source}: discriminator does not match its architecture")
    return D.to(device).eval().requires_grad_(False), method, cfg


def _read_generator(p: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """Config and EMA-generator tensors from a generator file or a training checkpoint."""
    if p.is_file():
        return ckpt_io.read_generator_file(p)
    cfg, model, _ = ckpt_io.read_training_checkpoint(p)
    return cfg, {k[len("G_ema."):]: v for k, v in model.items() if k.startswith("G_ema.")}


def export_generator(src: str, dest: str | Path, fp16: bool = True, extra: Optional[dict] = None,
                     with_discriminator: bool = False) -> Path:
    """Write a training checkpoint's EMA generator as one self-describing safetensors file
    (optionally with the discriminator, under ``D.``, for attention figures)."""
    path = ckpt_io.resolve_checkpoint_path(src)
    cfg, tensors = _read_generator(path)
    _build(cfg, tensors, str(path), "cpu")      # what we write must load: config, shapes, finite weights
    if with_discriminator:
        if path.is_file():
            raise UserError(f"{path} is a generator file; export the discriminator from a run directory")
        _, model, _ = ckpt_io.read_training_checkpoint(path)
        tensors = {**tensors, **{k: v for k, v in model.items() if k.startswith(D_PREFIX)}}
        extra = {**(extra or {}), "discriminator": discriminator_kind(cfg)}
    # const noise buffers are regenerated from nothing: they are part of the model's identity.
    gen_cfg = ckpt_io.base_config("generator", cfg["arch"], cfg["method"],
                                  trained={k: cfg.get(k) for k in ("step", "images_seen", "train_seconds", "dataset")},
                                  **(extra or {}))
    return ckpt_io.save_generator_file(Path(dest), gen_cfg, tensors, fp16=fp16)
