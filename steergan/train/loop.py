"""The training loop shared by every method: phases, lazy regularisation, EMA, ticks.

One iteration = a D step on (real, fake), every ``r1_interval`` steps an extra R1 step,
a G step, every ``pl_interval`` steps an optional path-length step, then the EMA update.
The method adds its own loss terms to the D and G steps through ``Method.d_losses`` /
``Method.g_losses``, and decides what D judges (``Method.real_for_d`` / ``fake_for_d``:
the image by default, image + label map for SemanticStyleGAN). All randomness comes from
torch's global RNG, whose state is saved
in the checkpoint, so a resumed run continues exactly as the uninterrupted one would.
"""
from __future__ import annotations

import copy
import json
import logging
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

import torch
from torch import nn

from .. import checkpoint as ckpt_io
from ..devices import resolve_device
from ..errors import UserError
from ..methods import LossContext, Method, build_method
from ..nn import ArchConfig, get_preset
from .augment import DiffAugment, gaussian_blur
from .distributed import DistInfo, all_reduce_grads, all_reduce_mean, broadcast_module, init_distributed
from .ema import ema_beta, update_ema
from .logger import RunLogger
from .losses import d_logistic, g_nonsaturating, lazy_adam_params, mode_seeking, path_length_penalty, r1_penalty
from .options import TrainOptions
from .rollback import keep_best, roll_back
from .state import restore_training_state, training_state_tensors
from .warm_start import resolve_init_from

log = logging.getLogger("steergan.train")


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def _grads_finite(params: list[nn.Parameter]) -> bool:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return True
    return bool(torch.isfinite(torch.stack([g.detach().abs().max() for g in grads])).all())


class Trainer:
    def __init__(self, opts: TrainOptions, dataset, arch: Optional[ArchConfig] = None,
                 dataset_info: Optional[dict] = None, progress: bool = True):
        opts.validate()
        if opts.batch is None:          # the run's own batch when resuming, else the D's default
            ckpts = ckpt_io.list_checkpoints(Path(opts.out) / "checkpoints")
            saved = ckpt_io.read_config(ckpts[-1] / "config.json").get("train", {}).get("batch") if ckpts else None
            opts = opts.with_batch(saved)
        self.opts = opts
        self.device = resolve_device(opts.device)
        self.dist: DistInfo = init_distributed(self.device)
        if self.device.type == "cuda" and self.dist.enabled:
            self.device = torch.device("cuda", self.dist.local_rank)
            torch.cuda.set_device(self.device)
        if opts.batch % self.dist.world_size:
            raise UserError(f"--batch {opts.batch} is not divisible by {self.dist.world_size} processes")
        self.batch_gpu = opts.batch // self.dist.world_size
        self.run_dir = Path(opts.out)
        self.ckpt_root = self.run_dir / "checkpoints"
        self.progress = progress and self.dist.is_main
        self.dataset_info = dataset_info or {}

        self.arch = arch or get_preset(opts.preset, **opts.arch)
        self.method: Method = build_method(opts.method, opts.method_options)
        if not ckpt_io.list_checkpoints(self.ckpt_root):   # a resumed run keeps its weights, not its source's
            # "auto", "none" or a name -> a path or None, so the saved config says what was used
            self.opts = opts = replace(opts, init_from=resolve_init_from(opts.init_from, opts.discriminator,
                                                                         opts.method, self.arch))
        self.images = self._dataset_tensor(dataset)
        self.masks = self._dataset_masks(dataset) if self.method.uses_masks else None
        self.method.load_training_aids(self.device)     # a bad segmenter file fails before any write

        torch.manual_seed(opts.seed * 1000 + self.dist.rank)
        self.G = self.method.build_generator(self.arch).to(self.device)
        self.D = self.method.build_discriminator(self.arch, opts.discriminator).to(self.device)
        if self.device.type == "cpu":
            # oneDNN convolutions run ~2x faster on NHWC tensors on CPU (measured, bench/).
            self.G = self.G.to(memory_format=torch.channels_last)
            self.D = self.D.to(memory_format=torch.channels_last)
        self.G_ema = copy.deepcopy(self.G).eval()
        _set_requires_grad(self.G_ema, False)

        r1_lr, r1_betas = lazy_adam_params(opts.d_lr, tuple(opts.betas), opts.r1_interval)
        g_interval = opts.pl_interval if opts.pl_weight > 0 else 0
        pl_lr, pl_betas = lazy_adam_params(opts.g_lr, tuple(opts.betas), g_interval)
        self.G_opt = torch.optim.Adam(self.G.parameters(), lr=pl_lr, betas=pl_betas, eps=1e-8)
        self.D_opt = torch.optim.Adam(self.D.parameters(), lr=r1_lr, betas=r1_betas, eps=1e-8)
        self._diffaugment = DiffAugment(opts.augment) if opts.augment else (lambda x: x)
        self.r1_gamma = opts.resolved_r1_gamma(self.arch.resolution)

        self.step = 0
        self.images_seen = 0
        self.train_seconds = 0.0
        self.pl_mean = torch.zeros((), device=self.device)
        self.nonfinite_in_a_row = 0
        self.milestones_done: list[float] = []
        self.watch = None                   # CollapseWatch, made at the first tick (main process)
        self.best_recall = 0.0
        self.rollbacks = 0                              # collapse rollbacks (train/rollback.py)
        self.base_lrs = {"G": [g["lr"] for g in self.G_opt.param_groups],
                         "D": [g["lr"] for g in self.D_opt.param_groups]}
        # Fine-tuning: a fresh D first learns alone (its first gradients would wreck a converged
        # G), and G_ema starts from the loaded G with its full half-life (no ramp-up).
        self.d_warmup_images = int((opts.d_warmup_kimg or 0) * 1000)
        self.finetune = False
        self.fixed_z = torch.randn(16, self.arch.z_dim, generator=torch.Generator().manual_seed(123))

    # ------------------------------------------------------------------ setup
    def _dataset_tensor(self, dataset) -> torch.Tensor:
        images = getattr(dataset, "images", None)
        if images is None:
            images = torch.stack([item[0] if isinstance(item, tuple) else item for item in dataset])
        if images.ndim != 4 or images.shape[1] != self.arch.img_channels:
            raise UserError(f"dataset images have shape {tuple(images.shape[1:])}; expected 3 channels")
        if images.shape[-1] != self.arch.resolution or images.shape[-2] != self.arch.resolution:
            raise UserError(f"dataset resolution {images.shape[-1]} does not match the model's "
                            f"{self.arch.resolution} (preset {self.opts.preset!r})")
        if len(images) == 0:
            raise UserError("the dataset holds no images")
        return images

    def _dataset_masks(self, dataset) -> torch.Tensor:
        """Label maps uint8 [N, R, R] for methods that judge (image, mask) pairs."""
        load = getattr(dataset, "load_masks", None)
        if load is None:
            raise UserError(f"method {self.method.name!r} needs label maps: use a scene dataset "
                            f"(`steergan data make`) or an image folder with --masks and --classes")
        masks = self.method.training_masks(load)
        if tuple(masks.shape) != (len(self.images), *self.images.shape[-2:]):
            raise UserError(f"the dataset's label maps have shape {tuple(masks.shape)}, expected "
                            f"{(len(self.images), *self.images.shape[-2:])}")
        self.method.bind_masks(masks)
        return masks

    def config(self) -> dict:
        return ckpt_io.base_config(
            "training", self.arch.to_dict(), self.method.to_dict(), train=self.opts.to_dict(),
            step=self.step, images_seen=self.images_seen, train_seconds=self.train_seconds,
            dataset=self.dataset_info, milestones_done=self.milestones_done,
            d_warmup_images=self.d_warmup_images, finetune=self.finetune, best_recall=self.best_recall,
            rollbacks=self.rollbacks)

    def resume_if_possible(self) -> bool:
        """Continue from the newest complete checkpoint of this run, if there is one."""
        removed = ckpt_io.remove_stale_temporaries(self.ckpt_root) if self.dist.is_main else 0
        if removed:
            log.warning("removed %d half-written checkpoint(s) from an interrupted run", removed)
        ckpts = ckpt_io.list_checkpoints(self.ckpt_root)
        if not ckpts:
            return False
        cfg, model, state = ckpt_io.read_training_checkpoint(ckpts[-1])
        if cfg["method"]["name"] != self.method.name:
            raise UserError(f"{ckpts[-1]} was trained with method {cfg['method']['name']!r}, "
                            f"not {self.method.name!r}")
        if ArchConfig.from_dict(cfg["arch"]) != self.arch:
            raise UserError(f"{ckpts[-1]} has a different architecture than preset {self.opts.preset!r}"
                            + (f" with --arch {json.dumps(self.opts.arch)}" if self.opts.arch else "")
                            + " (resume with the run's own --preset and --arch)")
        saved_d = cfg.get("train", {}).get("discriminator", "stylegan2")
        if saved_d != self.opts.discriminator:
            raise UserError(f"{ckpts[-1]} was trained with the {saved_d} discriminator, "
                            f"not {self.opts.discriminator}")
        self._load_model_tensors(model)
        self.step, self.images_seen = cfg["step"], cfg["images_seen"]
        self.train_seconds = cfg.get("train_seconds", 0.0)
        self.milestones_done = cfg.get("milestones_done", [])
        self.d_warmup_images = cfg.get("d_warmup_images", self.d_warmup_images)
        self.finetune = cfg.get("finetune", False)
        self.best_recall = cfg.get("best_recall", 0.0)
        self.rollbacks = cfg.get("rollbacks", 0)
        restore_training_state(self, state)
        log.info("resumed from %s (step %d, %.1f kimg)", ckpts[-1], self.step, self.images_seen / 1000)
        return True

    def init_from(self, path: str) -> None:
        """Fine-tuning: take G/D/G_ema weights from another run (fresh optimisers), or G from
        a generator file (D then starts from scratch unless the file carries one). Tensors
        whose shape differs (e.g. D's input layer when a method adds a channel) start fresh."""
        p = ckpt_io.resolve_checkpoint_path(path)
        if p.is_file():
            cfg, tensors = ckpt_io.read_generator_file(p)
            model = {f"{prefix}{k}": v for k, v in tensors.items() if not k.startswith("D.")
                     for prefix in ("G.", "G_ema.")}
            model.update({k: v for k, v in tensors.items() if k.startswith("D.")})
            if not any(k.startswith("D.") for k in tensors):
                warm = self.opts.d_warmup_kimg if self.opts.d_warmup_kimg is not None else 2.0
                self.d_warmup_images = int(warm * 1000)
                log.warning("%s holds a generator only: D starts from scratch and trains alone for "
                            "%.1f kimg (--d-warmup-kimg)", p, warm)
        else:
            cfg, model, _ = ckpt_io.read_training_checkpoint(p)
        if not ArchConfig.from_dict(cfg["arch"]).same_generator(self.arch):
            raise UserError(f"{p} has a different architecture than preset {self.opts.preset!r}")
        self._load_model_tensors(model, strict=False)
        self.finetune = True
        log.info("initialised from %s", p)

    def _load_model_tensors(self, tensors: dict[str, torch.Tensor], strict: bool = True) -> None:
        for prefix, module in (("G.", self.G), ("D.", self.D), ("G_ema.", self.G_ema)):
            sd = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            if not strict:
                own = module.state_dict()
                skipped = [k for k, v in sd.items() if k in own and own[k].shape != v.shape]
                if skipped:
                    log.warning("%s: %d tensors of another shape start fresh (%s)", prefix[:-1],
                                len(skipped), ", ".join(skipped[:3]))
                sd = {k: v for k, v in sd.items() if k not in skipped}
            missing, unexpected = module.load_state_dict(sd, strict=False)
            if strict and (missing or unexpected):
                raise UserError(f"checkpoint does not fit the model: missing {missing[:3]}, unexpected {unexpected[:3]}")

    def model_tensors(self) -> dict[str, torch.Tensor]:
        out = {}
        for prefix, module in (("G.", self.G), ("D.", self.D), ("G_ema.", self.G_ema)):
            out.update({prefix + k: v for k, v in module.state_dict().items()})
        return out

    def save_checkpoint(self) -> Optional[Path]:
        if not self.dist.is_main:
            return None
        return ckpt_io.save_training_checkpoint(self.ckpt_root, self.step, self.config(),
                                                self.model_tensors(), training_state_tensors(self),
                                                keep_last=self.opts.keep_last)

    # ------------------------------------------------------------------ phases
    def _real_batch(self) -> torch.Tensor:
        idx = torch.randint(len(self.images), (self.batch_gpu,))
        x = self.images[idx].to(self.device, torch.float32) / 127.5 - 1
        if self.masks is not None:
            x = self.method.real_for_d(x, self.masks[idx].to(self.device))
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        if self.opts.xflip:
            flip = torch.rand(self.batch_gpu, device=self.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        return x

    def _fake(self, update_w_avg: bool = False, batch: Optional[int] = None):
        b = batch or self.batch_gpu
        z = torch.randn(b, self.arch.z_dim, device=self.device)
        control = self.method.sample_control(b, self.G, self.device)
        ws = self.G.mapping_ws(z, mix_prob=self.opts.mix_prob, update_w_avg=update_w_avg)
        return ws, control

    @property
    def lr_scale(self) -> float:
        """The factor collapse rollbacks left on the learning rates (read off G's optimiser, which
        checkpoints carry, so nothing else needs saving)."""
        return self.G_opt.param_groups[0]["lr"] / self.base_lrs["G"][0]

    def blur_sigma(self) -> float:
        """The D-input blur now: ``--blur-sigma`` px fading linearly to 0 over ``--blur-kimg``."""
        o = self.opts
        return o.blur_sigma * max(0.0, 1.0 - self.images_seen / (o.blur_kimg * 1000)) if o.blur_sigma else 0.0

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """What D sees of an image batch: the fading blur, then DiffAugment (same for real and fake)."""
        return self._diffaugment(gaussian_blur(x, self.blur_sigma()))

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.opts.amp and self.device.type == "cuda")

    def _apply(self, loss: torch.Tensor, module: nn.Module, opt: torch.optim.Optimizer, phase: str) -> bool:
        """Backward, average across processes, and step, unless something is non-finite."""
        params = [p for p in module.parameters() if p.requires_grad]
        opt.zero_grad(set_to_none=True)
        ok = bool(torch.isfinite(all_reduce_mean(loss.detach(), self.dist)))
        if ok:
            loss.backward()
            all_reduce_grads(params, self.dist)
            ok = _grads_finite(params)
        if not ok:
            opt.zero_grad(set_to_none=True)
            self.nonfinite_in_a_row += 1
            log.warning("non-finite %s loss or gradient at step %d: update skipped", phase, self.step)
            self.logger.log({"event": "nonfinite", "phase": phase}, self.step)
            if self.nonfinite_in_a_row >= self.opts.max_nonfinite:
                raise UserError(f"training diverged: {self.nonfinite_in_a_row} non-finite steps in a row "
                                f"at step {self.step}; the last good checkpoint is kept")
            return False
        opt.step()
        return True

    def train_step(self) -> dict[str, float]:
        o, stats = self.opts, {}
        real = self._real_batch()
        ok = True

        # D main: logistic loss on augmented real and fake.
        _set_requires_grad(self.G, False)
        _set_requires_grad(self.D, True)
        with torch.no_grad(), self._autocast():
            ws, control = self._fake()
            fake, _ = self.method.fake_for_d(self.G, ws, control)
        with self._autocast():
            fake_logits = self.D(self.augment(fake))
            real_logits = self.D(self.augment(real))
            d_loss = d_logistic(real_logits.float(), fake_logits.float())
            ctx = LossContext(self.G, self.D, self.step, real=real, fake=fake, ws=ws, control=control,
                              augment=self.augment)
            for name, term in self.method.d_losses(ctx).items():
                d_loss = d_loss + term
                stats[f"D/{name}"] = term.item()
        ok &= self._apply(d_loss, self.D, self.D_opt, "D")
        if o.blur_sigma:
            stats["D/blur_sigma"] = self.blur_sigma()
        stats["D/loss"] = d_loss.item()
        stats["D/real_score"] = real_logits.mean().item()
        stats["D/fake_score"] = fake_logits.mean().item()

        # D reg: lazy R1 on real images (its own optimiser step, hence the lr/beta correction).
        if o.r1_interval > 0 and self.r1_gamma > 0 and self.step % o.r1_interval == 0:
            real_ = real.detach().requires_grad_(True)
            # a D made of several may name the part R1 regularises (the ensemble: its pixel D)
            logits = getattr(self.D, "r1_logits", self.D)(self.augment(real_))
            custom = self.method.r1_penalty(logits, real_, self.r1_gamma)
            if custom is None:
                r1 = r1_penalty(logits, real_)
                penalty = r1 * (self.r1_gamma / 2)
                stats["D/r1"] = r1.item()
            else:
                penalty, logged = custom
                stats.update({f"D/{k}": v for k, v in logged.items()})
            ok &= self._apply(penalty * o.r1_interval + 0 * logits.mean(), self.D, self.D_opt, "R1")

        if self.images_seen < self.d_warmup_images:      # D warm-up: G (and G_ema) wait
            stats["D/warmup"] = 1.0
            self._end_step(ok)
            return stats

        # G main: non-saturating loss plus the method's terms.
        _set_requires_grad(self.G, True)
        _set_requires_grad(self.D, False)
        with self._autocast():
            ws, control = self._fake(update_w_avg=True)
            fake, extras = self.method.fake_for_d(self.G, ws, control)
            g_loss = g_nonsaturating(self.D(self.augment(fake)).float())
            ctx = LossContext(self.G, self.D, self.step, real=real, fake=fake, ws=ws, control=control,
                              augment=self.augment, extras=extras)
            for name, term in self.method.g_losses(ctx).items():
                if not torch.is_tensor(term):    # a plain number: a monitor, logged but not optimised
                    stats[f"G/{name}"] = float(term)
                    continue
                g_loss = g_loss + term
                stats[f"G/{name}"] = term.item()
            if o.mode_seeking > 0:
                ms = mode_seeking(fake.float(), ws.float())
                g_loss = g_loss + o.mode_seeking * ms
                stats["G/mode_seeking"] = ms.item()
        ok &= self._apply(g_loss, self.G, self.G_opt, "G")
        if self.dist.enabled:  # each rank moved w_avg with its own batch; the mean of lerps is a lerp
            self.G.mapping.w_avg.copy_(all_reduce_mean(self.G.mapping.w_avg, self.dist))
        stats["G/loss"] = g_loss.item()

        # G reg: optional lazy path-length regulariser on half a batch.
        if o.pl_weight > 0 and self.step % o.pl_interval == 0:
            ws, control = self._fake(batch=max(1, self.batch_gpu // 2))
            ws = ws.detach().requires_grad_(True)
            fake = self.G.synthesis(ws, control)
            pl, self.pl_mean = path_length_penalty(fake, ws, self.pl_mean)
            ok &= self._apply(pl * o.pl_weight * o.pl_interval + 0 * fake.mean(), self.G, self.G_opt, "PL")
            stats["G/pl"] = pl.item()
        _set_requires_grad(self.D, True)
        self._end_step(ok)
        beta = ema_beta(o.batch, self.images_seen, o.resolved_ema_kimg(), None if self.finetune else o.ema_rampup)
        update_ema(self.G_ema, self.G, beta)
        return stats

    def _end_step(self, ok: bool) -> None:
        if ok:
            self.nonfinite_in_a_row = 0
        self.step += 1
        self.images_seen += self.opts.batch

    # ------------------------------------------------------------------ main loop
    def run(self, on_tick: Optional[Callable[["Trainer"], None]] = None) -> Path | None:
        o = self.opts
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logger = RunLogger(self.run_dir, enabled=self.dist.is_main)
        if not self.resume_if_possible() and o.init_from:
            self.init_from(o.init_from)
        broadcast_module(self.G, self.dist)
        broadcast_module(self.D, self.dist)
        broadcast_module(self.G_ema, self.dist)
        total = int(o.kimg * 1000)
        tick_images = int(o.tick_kimg * 1000)
        next_tick = (self.images_seen // tick_images + 1) * tick_images
        bar = None
        by_time = o.minutes is not None and o.minutes * 60 < total / 100   # time budget binds first
        if self.progress:
            from tqdm.auto import tqdm
            if by_time:  # progress in training seconds; kimg and img/s in the postfix
                bar = tqdm(total=int(o.minutes * 60), initial=int(self.train_seconds), unit="s",
                           dynamic_ncols=True, desc="train", smoothing=0.1)
            else:
                bar = tqdm(total=total, initial=min(self.images_seen, total), unit="img", unit_scale=True,
                           dynamic_ncols=True, desc="train", smoothing=0.1)
        clock = time.process_time if o.clock == "cpu" else time.time    # what the time budget counts
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        tick_start, tick_images_start = time.time(), self.images_seen
        last_ckpt = None
        try:
            while self.images_seen < total and not self._out_of_time():
                t0, c0 = time.time(), clock()
                stats = self.train_step()
                self.train_seconds += clock() - c0
                for k, v in stats.items():  # per-key counts: lazy terms are logged only when they run
                    sums[k] = sums.get(k, 0.0) + (v if math.isfinite(v) else float("nan"))
                    counts[k] = counts.get(k, 0) + 1
                if bar is not None:
                    bar.update(int(self.train_seconds) - bar.n if by_time else o.batch)
                    bar.set_postfix(kimg=f"{self.images_seen / 1000:.1f}", G=f"{stats.get('G/loss', float('nan')):.2f}",
                                    D=f"{stats['D/loss']:.2f}", img_s=f"{o.batch / max(time.time() - t0, 1e-9):.1f}",
                                    refresh=False)
                milestone = self._milestone_due()
                if self.images_seen >= next_tick or self.images_seen >= total or milestone or self._out_of_time():
                    dt = time.time() - tick_start
                    record = {k: v / counts[k] for k, v in sums.items()}
                    record.update(kimg=self.images_seen / 1000, img_per_s=(self.images_seen - tick_images_start) / max(dt, 1e-9),
                                  train_minutes=self.train_seconds / 60)
                    best_before = self.best_recall
                    if self.dist.is_main and o.diversity_n > 0:
                        record.update(self._diversity())
                    rolled_back = self._collapse_rollback(record)
                    if rolled_back:
                        record["Q/rollback"] = 1.0
                    self.logger.log(record, self.step)
                    if self.dist.is_main:
                        with torch.no_grad():
                            self.logger.samples(self._sample_grid(), self.images_seen / 1000)
                    last_ckpt = self.save_checkpoint()
                    if o.on_collapse == "rollback" and self.best_recall > best_before and last_ckpt is not None:
                        keep_best(self, last_ckpt)
                    if milestone is not None and last_ckpt is not None:
                        self._save_milestone(last_ckpt, milestone)
                    if on_tick is not None:
                        on_tick(self)
                    sums, counts = {}, {}
                    tick_start, tick_images_start = time.time(), self.images_seen
                    next_tick = (self.images_seen // tick_images + 1) * tick_images
        finally:
            if bar is not None:
                bar.close()
            self.logger.close()
        return last_ckpt

    def _diversity(self) -> dict[str, float]:
        """Precision / recall of G_ema against a fixed real subset (``train/diversity.py``)."""
        from .diversity import CollapseWatch
        if self.watch is None:
            self.watch = CollapseWatch(self.images, n=self.opts.diversity_n)
        self.watch.best_recall = self.best_recall
        record = self.watch.score(self.G_ema, self.method, self.device)
        self.best_recall = self.watch.best_recall
        return record

    def _collapse_rollback(self, record: dict) -> bool:
        """With ``--on-collapse rollback``, after a collapse warning (seen on the main process,
        agreed by every process): ``rollback.roll_back``."""
        if self.opts.on_collapse != "rollback":
            return False
        warned = torch.tensor(float(record.get("Q/collapse_warning", 0.0)), device=self.device)
        if float(all_reduce_mean(warned, self.dist)) <= 0:
            return False
        return roll_back(self)

    def _out_of_time(self) -> bool:
        return self.opts.minutes is not None and self.train_seconds >= self.opts.minutes * 60

    def _milestone_due(self) -> Optional[float]:
        for m in sorted(self.opts.milestone_minutes):
            if m not in self.milestones_done and self.train_seconds >= m * 60:
                self.milestones_done.append(m)
                return m
        return None

    def _save_milestone(self, ckpt: Path, minutes: float) -> None:
        ckpt_io.copy_checkpoint(ckpt, self.run_dir / "milestones" / f"minutes-{minutes:g}")

    def _sample_grid(self) -> torch.Tensor:
        z = self.fixed_z.to(self.device)
        rng = torch.get_rng_state()  # sampling must not perturb the training RNG stream
        torch.manual_seed(0)
        control = self.method.sample_control(len(z), self.G_ema, self.device)
        img = self.G_ema(z, control, noise_mode="const")
        torch.set_rng_state(rng)
        return img
