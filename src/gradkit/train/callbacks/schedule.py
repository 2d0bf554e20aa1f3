"""LRScheduler: step a learning-rate scheduler after every step or every epoch.

    LRScheduler(lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=1000), interval="step")
    LRScheduler(lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2))  # on val_loss

``Trainer(scheduler=..., scheduler_interval=...)`` makes one of these. ReduceLROnPlateau is
stepped with the monitored metric (default: val_loss for its mode "min", val_accuracy for
"max"), read from the epoch record (or the step record with ``interval="step"``). Runs at
EDITOR priority, so checkpoints written at the same moment hold the stepped scheduler.
"""

from gradkit.optim.lr_scheduler import ReduceLROnPlateau
from gradkit.train.callbacks.base import PRIORITY_EDITOR, Callback, monitored


class LRScheduler(Callback):
    """Call ``scheduler.step()`` after every epoch (``interval="epoch"``) or optimizer step
    (``interval="step"``); ``scheduler.step(metric)`` for ReduceLROnPlateau."""

    priority = PRIORITY_EDITOR

    def __init__(self, scheduler, interval="epoch", monitor=None):
        if interval not in ("epoch", "step"):
            raise ValueError(f"LRScheduler: interval must be 'epoch' or 'step', got {interval!r}")
        self.scheduler = scheduler
        self.interval = interval
        self.trigger = (1, "iteration" if interval == "step" else "epoch")
        self.plateau = isinstance(scheduler, ReduceLROnPlateau)
        if monitor is None and self.plateau:
            monitor = "val_loss" if scheduler.mode == "min" else "val_accuracy"
        self.monitor = monitor

    def _step(self, trainer):
        if self.plateau:
            self.scheduler.step(monitored(trainer, self.monitor, "LRScheduler(ReduceLROnPlateau)"))
        else:
            self.scheduler.step()

    on_batch_end = _step
    on_epoch_end = _step
