"""Where a run's weights start: ``--init-from`` resolved to a file, or ``None`` (from scratch).

``auto`` (the default) fine-tunes from a bundled generator when one fits. Why: with the
projected D, training the small generator from scratch collapsed on both datasets nobody tuned
the recipe on (procedural blocks, imported emoji: the same object in every sample), while
starting from the bundled ``rooms-projected`` generator kept their variety and drew emoji faces
within 20 CPU-minutes; on rooms it halved the judge's distance of the best from-scratch recipe
(docs/quality.md, "The recipe on data nobody tuned it for"). The StyleGAN2 D, the papers'
baseline, keeps training from scratch.
"""
from __future__ import annotations

from typing import Optional

from .. import checkpoint as ckpt_io
from ..errors import UserError
from ..nn import ArchConfig

# Per discriminator, the bundled generators ``auto`` may start from, first fit wins.
AUTO_INIT = {"projected": ("rooms-projected",)}
# Methods whose generator is the StyleGAN2 synthesis network the bundled plain generators share;
# SemanticStyleGAN's local generators have none of its tensors, so it starts from scratch.
AUTO_INIT_METHODS = ("stylegan2", "spatial", "link")
FROM_SCRATCH = ("none", "")


def source_arch(path) -> ArchConfig:
    """The architecture a run, checkpoint or generator file records."""
    p = ckpt_io.resolve_checkpoint_path(path)
    cfg = ckpt_io.read_generator_config(p) if p.is_file() else ckpt_io.read_config(p / "config.json")
    return ArchConfig.from_dict(cfg["arch"])


def resolve_init_from(value: Optional[str], discriminator: str, method: str, arch: ArchConfig) -> Optional[str]:
    """The file or run to start from (a path), or None to train from scratch.

    ``None``/``"none"``: from scratch; ``"auto"``: see the module docstring; anything else: a
    bundled model name or a path, whose generator must fit ``arch`` (a one-line error if not)."""
    from ..models import resolve_model
    if value is None or value in FROM_SCRATCH:
        return None
    if value == "auto":
        if method not in AUTO_INIT_METHODS:
            return None
        for name in AUTO_INIT.get(discriminator, ()):
            path = resolve_model(name)[0]
            if source_arch(path).same_generator(arch):
                return str(path)
        return None
    path = resolve_model(value)[0]
    if not source_arch(path).same_generator(arch):
        raise UserError(f"--init-from {value} has a different architecture than this run's "
                        f"(preset and --arch)")
    return str(path)
