"""Training helpers shared by the small networks the metrics train (segmenters, the judge)."""
from __future__ import annotations

import math
import time
from typing import Optional

import torch


class TimedCosine:
    """Cosine learning-rate decay over whichever ends first: ``steps`` optimiser steps or
    ``time_limit`` seconds since ``t0``. The step budget is re-estimated every 10 steps from the
    measured speed (the machine may be shared), never past the limit."""

    def __init__(self, opt: torch.optim.Optimizer, lr: float, steps: int, time_limit: Optional[float],
                 t0: float):
        self.opt, self.lr, self.steps, self.time_limit, self.t0 = opt, lr, steps, time_limit, t0
        self.total = steps
        self.t_train = time.perf_counter()

    def optimise(self, loss: torch.Tensor, step: int, log=None) -> int:
        """Backward, schedule and step for ``loss``; returns the new step count (and logs every 100)."""
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        step += 1
        self.after_backward(step)
        self.opt.step()
        if log and (step % 100 == 0 or step == self.total):
            log(f"step {step}/{self.total} loss {loss.item():.4f} ({time.perf_counter() - self.t0:.0f}s)")
        return step

    def after_backward(self, step: int) -> None:
        """Call with the number of steps taken so far (>= 1), between backward and ``opt.step``."""
        if self.time_limit is not None and step >= 20 and step % 10 == 0:
            per = (time.perf_counter() - self.t_train) / step
            left = self.time_limit - (time.perf_counter() - self.t0)
            self.total = min(self.steps, max(step + 1, step + int(left / per)))
        for pg in self.opt.param_groups:
            pg["lr"] = self.lr * 0.5 * (1 + math.cos(math.pi * min(step / self.total, 1.0)))
