"""Training options: one typed dataclass, saved into every checkpoint as JSON."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Optional

from ..errors import UserError


from ..nn import DEFAULT_DISCRIMINATOR, discriminator_kinds


@dataclass
class TrainOptions:
    data: str = ""                      # image folder, zip or steergan scene dataset
    out: str = "runs/run"               # run directory (checkpoints, logs, samples)
    preset: str = "tiny"
    method: str = "stylegan2"
    method_options: dict = field(default_factory=dict)
    discriminator: str = DEFAULT_DISCRIMINATOR   # a kind of nn.DISCRIMINATORS
    kimg: float = 200.0                 # stop after this many thousand real images
    minutes: Optional[float] = None     # ... or after this much training time (whichever first)
    batch: int = 32                     # total over all processes
    g_lr: float = 0.0025
    d_lr: float = 0.0025
    betas: tuple = (0.0, 0.99)
    r1_gamma: Optional[float] = None    # None: StyleGAN2-ADA's heuristic 0.0002 * res^2 / batch
    r1_interval: int = 16
    pl_weight: float = 0.0              # path-length regulariser (off by default at low res)
    pl_interval: int = 4
    ema_kimg: Optional[float] = None    # None: batch * 10 / 32 (StyleGAN2-ADA)
    ema_rampup: Optional[float] = 0.05
    mix_prob: float = 0.0
    augment: str = "color,translation,cutout"   # DiffAugment policy; "" disables
    xflip: bool = False
    seed: int = 0
    tick_kimg: float = 4.0              # log, sample grid and checkpoint every tick
    diversity_n: int = 256              # precision/recall of G_ema on this many images every tick; 0: off
    keep_last: int = 3                  # checkpoints kept (milestones are never pruned)
    milestone_minutes: list = field(default_factory=list)  # extra permanent snapshots
    device: str = "auto"
    amp: bool = False                   # bf16 autocast, CUDA only
    max_nonfinite: int = 20             # consecutive skipped steps before giving up
    init_from: Optional[str] = None     # start G/D from a checkpoint's weights (fine-tuning)
    d_warmup_kimg: Optional[float] = None  # D trains alone first; None: 2 when init_from brings no D

    def resolved_r1_gamma(self, resolution: int) -> float:
        if self.r1_gamma is not None:
            return self.r1_gamma
        if self.discriminator == "projected":   # spectral norm bounds its heads instead (Sauer et al.)
            return 0.0
        return 0.0002 * resolution ** 2 / self.batch

    def resolved_ema_kimg(self) -> float:
        return self.ema_kimg if self.ema_kimg is not None else self.batch * 10 / 32

    def to_dict(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainOptions":
        known = {f.name for f in fields(cls)}
        opts = cls(**{k: v for k, v in d.items() if k in known})
        opts.betas = tuple(opts.betas)
        return opts

    def validate(self) -> None:
        if self.batch < 1:
            raise UserError(f"--batch must be positive, got {self.batch}")
        if self.kimg <= 0:
            raise UserError(f"--kimg must be positive, got {self.kimg}")
        if self.d_warmup_kimg is not None and not self.d_warmup_kimg >= 0:
            raise UserError(f"--d-warmup-kimg must be >= 0, got {self.d_warmup_kimg}")
        if self.discriminator not in discriminator_kinds():
            raise UserError(f"--discriminator must be one of {', '.join(discriminator_kinds())}, "
                            f"got {self.discriminator!r}")
        if isinstance(self.diversity_n, bool) or not isinstance(self.diversity_n, int) or self.diversity_n < 0:
            raise UserError(f"--diversity-n must be a non-negative integer, got {self.diversity_n!r}")
        if self.tick_kimg <= 0:
            raise UserError(f"--tick-kimg must be positive, got {self.tick_kimg}")
