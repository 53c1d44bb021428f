"""Training options: one typed dataclass, saved into every checkpoint as JSON."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Optional

from ..errors import UserError
from ..nn import DEFAULT_DISCRIMINATOR, DISCRIMINATORS, PRESETS, discriminator_kinds


# The clocks a time budget can count, declared once (CLI choices and help read this).
CLOCKS = {
    "wall": "wall seconds spent in training steps",
    "cpu": "CPU seconds of this process, all its threads (fair between runs that share the cores)",
}


# What a run does when the collapse watch warns (recall below half its best), declared once.
COLLAPSE_ACTIONS = {
    "warn": "log a warning (Q/collapse_warning) and go on",
    "rollback": "also go back to the tick with the best recall and go on with the learning rates "
                "times --rollback-lr (train/rollback.py; only as good as the watch's recall, which on "
                "blocks rated a collapsed state best: docs/quality.md)",
}


# The batch of a run whose --batch is not given, per discriminator: bench/recipe_ablation.py
# found 16 better than 32 with the projected D (20 CPU-minutes on rooms, docs/quality.md); the
# StyleGAN2 D keeps StyleGAN2-ADA's 32. A resumed run keeps its own batch.
DEFAULT_BATCH = {"stylegan2": 32, "projected": 16, "ensemble": 16}


def opt(default=None, help: str = "", *, cli=None, factory=None, choices=None, parse=None):
    """A training option, declared once: its default, its help, and how ``steergan train`` shows
    it (``cli``: the flag's name without dashes, default the field's name with dashes; ``False``:
    not on the command line; ``choices``: a function giving the allowed values; ``parse``:
    "json" (an object) or "floats" (comma-separated) for text that becomes a dict or a list)."""
    meta = {"help": help, "cli": cli, "choices": choices, "parse": parse}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _method_names():
    from ..methods import method_names
    return method_names()


@dataclass
class TrainOptions:
    data: str = opt("", "Image folder, .zip, or a `steergan data make` dataset.")
    out: str = opt("runs/run", "Run directory (checkpoints, logs, samples).")
    preset: str = opt("tiny", "Architecture preset (docs/presets.md).", choices=lambda: sorted(PRESETS))
    method: str = opt("stylegan2", "The control method.", choices=_method_names)
    arch: dict = opt(help='Architecture fields over the preset\'s, as JSON, e.g. \'{"channel_min": 32}\' '
                          '(docs/presets.md).', factory=dict, parse="json")
    method_options: dict = opt(help='JSON object, e.g. \'{"sel": "norm"}\'.', factory=dict, parse="json")
    discriminator: str = opt(DEFAULT_DISCRIMINATOR, "; ".join(f"{k}: {v[1]}" for k, v in DISCRIMINATORS.items()) + ".",
                             choices=lambda: list(DISCRIMINATORS))
    kimg: float = opt(200.0, "Thousands of real images to train on.")
    minutes: Optional[float] = opt(None, "Stop after this much training time (whichever of --kimg and this comes first).")
    clock: str = opt("wall", "What --minutes and --milestones count: " + "; ".join(f"{k}: {v}" for k, v in CLOCKS.items())
                     + ".", choices=lambda: list(CLOCKS))
    batch: Optional[int] = opt(None, "Total batch over all processes (default: "
                               + ", ".join(f"{v} with the {k} D" for k, v in DEFAULT_BATCH.items())
                               + "; a resumed run keeps its own).")
    g_lr: float = opt(0.0025, "Generator learning rate.", cli="glr")
    d_lr: float = opt(0.0025, "Discriminator learning rate.", cli="dlr")
    betas: tuple = opt((0.0, 0.99), cli=False)
    r1_gamma: Optional[float] = opt(None, "R1 weight (default 0.0002*res^2/batch; 0 with the projected D).", cli="gamma")
    r1_interval: int = opt(16, "Lazy R1: every this many D steps.")
    pl_weight: float = opt(0.0, "Path-length regulariser weight.")
    pl_interval: int = opt(4, "Lazy path-length regulariser: every this many G steps.")
    mode_seeking: float = opt(0.0, "Weight of the mode-seeking term (MSGAN): different latents must give "
                                   "different images; a guard against collapse. 0 turns it off.")
    blur_sigma: float = opt(0.0, "Blur real and generated images before D by a Gaussian of this many px, fading "
                                 "linearly to none over --blur-kimg (StyleGAN3's early D blur; it did not stop the "
                                 "from-scratch collapse on blocks: docs/quality.md); 0 turns it off.")
    blur_kimg: float = opt(10.0, "Thousands of images over which the D-input blur fades out.")
    ema_kimg: Optional[float] = opt(None, "Half-life of the generator's moving average in kimg (default batch*10/32).")
    ema_rampup: Optional[float] = opt(0.05, "EMA ramp-up: half-life at most this fraction of the images seen.",
                                      cli=False)
    mix_prob: float = opt(0.0, "Style-mixing probability.", cli="mix")
    augment: str = opt("color,translation,cutout", "DiffAugment policy; '' to disable.")
    xflip: bool = opt(False, "Random horizontal flips of real images.")
    seed: int = opt(0, "Random seed.")
    tick_kimg: float = opt(4.0, "Log/sample/checkpoint interval.")
    diversity_n: int = opt(256, "Each tick, precision and recall of the EMA generator on this many images (collapse "
                                "watch: a warning when recall halves); 0 turns it off.")
    on_collapse: str = opt("warn", "When recall falls below half its best: " + "; ".join(
        f"{k}: {v}" for k, v in COLLAPSE_ACTIONS.items()) + ".", choices=lambda: list(COLLAPSE_ACTIONS))
    rollback_lr: float = opt(0.5, "Learning-rate factor of each collapse rollback.")
    keep_last: int = opt(3, "Checkpoints to keep.", cli="keep")
    milestone_minutes: list = opt(help="Minutes at which to keep extra snapshots, e.g. 10,20,40.", factory=list,
                                  cli="milestones", parse="floats")
    device: str = opt("auto", "auto, cpu, cuda or cuda:N.")
    amp: bool = opt(False, "bf16 mixed precision (CUDA only).")
    max_nonfinite: int = opt(20, "Consecutive skipped (non-finite) steps before giving up.", cli=False)
    init_from: Optional[str] = opt("auto", "Start from another run's weights (fine-tuning); a generator file or "
                                           "bundled model name (e.g. rooms-stylegan2) gives G only, D starts fresh. "
                                           "auto: with the projected D, the bundled rooms-projected generator when "
                                           "it fits the architecture (training from scratch collapsed on new data: "
                                           "docs/quality.md); none: from scratch.")
    d_warmup_kimg: Optional[float] = opt(None, "Train D alone for this many kimg first (default: 2 when "
                                               "--init-from gives G only, else 0).")

    @staticmethod
    def flag(name: str) -> str:
        """The command-line flag of a field, e.g. ``g_lr`` -> ``--glr``."""
        cli = {f.name: f.metadata.get("cli") for f in fields(TrainOptions)}[name]
        return "--" + (cli or name.replace("_", "-"))

    def with_batch(self, saved: Optional[int] = None) -> "TrainOptions":
        """These options with the batch filled in: as given, else a resumed run's own
        (``saved``), else the discriminator's default (``DEFAULT_BATCH``)."""
        if self.batch is not None:
            return self
        from dataclasses import replace
        return replace(self, batch=saved or DEFAULT_BATCH[self.discriminator])

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
        def number(name, lo, hi=math.inf, lo_open=False, value=None):
            value = getattr(self, name) if value is None else value
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or value < lo or value > hi or (lo_open and value == lo):
                where = f"{'>' if lo_open else '>='} {lo:g}" + ("" if hi == math.inf else f" and <= {hi:g}")
                raise UserError(f"{self.flag(name)} must be a finite number {where}, got {value!r}")

        def integer(name, lo, hi):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise UserError(f"{self.flag(name)} must be an integer in [{lo}, {hi}], got {value!r}")

        if self.batch is not None:
            integer("batch", 1, 65536)
        number("kimg", 0, lo_open=True)
        if self.minutes is not None:
            number("minutes", 0, lo_open=True)
        # a tick shorter than one batch would log, sample and checkpoint after every step
        number("tick_kimg", (self.batch or DEFAULT_BATCH.get(self.discriminator, 32)) / 1000)
        number("g_lr", 0, 1, lo_open=True)
        number("d_lr", 0, 1, lo_open=True)
        if self.r1_gamma is not None:
            number("r1_gamma", 0)
        integer("r1_interval", 1, 10_000)
        number("pl_weight", 0)
        number("mode_seeking", 0)
        number("blur_sigma", 0, 16)
        number("blur_kimg", 0, lo_open=True)
        number("rollback_lr", 0, 1, lo_open=True)
        integer("pl_interval", 1, 10_000)
        number("mix_prob", 0, 1)
        if self.ema_kimg is not None:
            number("ema_kimg", 0)
        integer("keep_last", 1, 10_000)
        integer("seed", 0, 2 ** 32 - 1)
        integer("diversity_n", 0, 100_000)
        for m in self.milestone_minutes:
            number("milestone_minutes", 0, lo_open=True, value=m)
        if self.d_warmup_kimg is not None:
            number("d_warmup_kimg", 0)
        if self.clock not in CLOCKS:
            raise UserError(f"--clock must be one of {', '.join(CLOCKS)}, got {self.clock!r}")
        if self.on_collapse not in COLLAPSE_ACTIONS:
            raise UserError(f"--on-collapse must be one of {', '.join(COLLAPSE_ACTIONS)}, got {self.on_collapse!r}")
        if self.on_collapse == "rollback" and self.diversity_n == 0:
            raise UserError("--on-collapse rollback needs the collapse watch (--diversity-n > 0)")
        if self.discriminator not in discriminator_kinds():
            raise UserError(f"--discriminator must be one of {', '.join(discriminator_kinds())}, "
                            f"got {self.discriminator!r}")
