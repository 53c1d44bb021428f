"""Collapse rollback (``--on-collapse rollback``, ours): go back to the best tick and slow down.

The collapse watch (``diversity.py``) warns when recall falls below half its best. From scratch
with the projected D that warning came too late to be of use: the run had already drawn one blob
in every colour (docs/quality.md). With ``rollback`` the run returns to the tick with the best
recall (G, D, G_ema and both optimisers' moments, kept as the checkpoint ``best-recall/`` in the
run directory, so a resumed run can roll back too) and continues with both learning rates
multiplied by ``--rollback-lr`` (cumulative over rollbacks). The image count, the clock and the
RNG stream go on: replaying the same stream at the same rate would walk into the same collapse.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .. import checkpoint as ckpt_io
from .state import restore_optimizers

log = logging.getLogger("steergan.train")

BEST_DIR = "best-recall"


def keep_best(trainer, ckpt: Path) -> None:
    """The tick just saved as ``ckpt`` has the best recall so far: keep it for a rollback."""
    ckpt_io.copy_checkpoint(ckpt, trainer.run_dir / BEST_DIR)


def roll_back(trainer) -> bool:
    """Load the best-recall tick's networks and optimiser moments into ``trainer`` and scale its
    learning rates down; False (nothing done) when no tick was kept yet."""
    best = trainer.run_dir / BEST_DIR
    if not (best / "config.json").is_file():
        return False
    scale = trainer.lr_scale * trainer.opts.rollback_lr      # before the best tick's rates replace it
    cfg, model, state = ckpt_io.read_training_checkpoint(best)
    trainer._load_model_tensors(model)
    restore_optimizers(trainer, state)
    for opt, base in ((trainer.G_opt, trainer.base_lrs["G"]), (trainer.D_opt, trainer.base_lrs["D"])):
        for group, lr in zip(opt.param_groups, base):
            group["lr"] = lr * scale
    trainer.rollbacks += 1
    log.warning("collapse: rolled back to %.1f kimg (recall %.2f); learning rates now x%.3g",
                cfg["images_seen"] / 1000, cfg.get("best_recall", float("nan")), scale)
    return True
