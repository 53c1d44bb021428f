"""Training options: one typed dataclass, saved into every checkpoint as JSON."""
from __future__ import annotations

import math
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
        def number(name, value, lo, hi=math.inf, lo_open=False):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or value < lo or value > hi or (lo_open and value == lo):
                where = f"{'>' if lo_open else '>='} {lo:g}" + ("" if hi == math.inf else f" and <= {hi:g}")
                raise UserError(f"--{name} must be a finite number {where}, got {value!r}")

        def integer(name, value, lo, hi):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise UserError(f"--{name} must be an integer in [{lo}, {hi}], got {value!r}")

        integer("batch", self.batch, 1, 65536)
        number("kimg", self.kimg, 0, lo_open=True)
        if self.minutes is not None:
            number("minutes", self.minutes, 0, lo_open=True)
        # a tick shorter than one batch would log, sample and checkpoint after every step
        number("tick-kimg", self.tick_kimg, self.batch / 1000)
        number("glr", self.g_lr, 0, 1, lo_open=True)
        number("dlr", self.d_lr, 0, 1, lo_open=True)
        if self.r1_gamma is not None:
            number("gamma", self.r1_gamma, 0)
        number("pl-weight", self.pl_weight, 0)
        number("mix", self.mix_prob, 0, 1)
        if self.ema_kimg is not None:
            number("ema-kimg", self.ema_kimg, 0)
        integer("keep", self.keep_last, 1, 10_000)
        integer("seed", self.seed, 0, 2 ** 32 - 1)
        integer("diversity-n", self.diversity_n, 0, 100_000)
        for m in self.milestone_minutes:
            number("milestones", m, 0, lo_open=True)
        if self.d_warmup_kimg is not None:
            number("d-warmup-kimg", self.d_warmup_kimg, 0)
        if self.discriminator not in discriminator_kinds():
            raise UserError(f"--discriminator must be one of {', '.join(discriminator_kinds())}, "
                            f"got {self.discriminator!r}")
