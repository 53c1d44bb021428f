"""Training: the loop, losses, augmentation, EMA, distributed glue and run state."""
from .loop import Trainer, resolve_device
from .options import TrainOptions

__all__ = ["Trainer", "TrainOptions", "resolve_device"]
