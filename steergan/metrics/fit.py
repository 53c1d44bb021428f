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

    def after_backward(self, step: int) -> None:
        """Call with the number of steps taken so far (>= 1), between backward and ``opt.step``."""
        if self.time_limit is not None and step >= 20 and step % 10 == 0:
            per = (time.perf_counter() - self.t_train) / step
            left = self.time_limit - (time.perf_counter() - self.t0)
            self.total = min(self.steps, max(step + 1, step + int(left / per)))
        for pg in self.opt.param_groups:
            pg["lr"] = self.lr * 0.5 * (1 + math.cos(math.pi * min(step / self.total, 1.0)))
