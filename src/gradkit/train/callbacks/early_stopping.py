"""EarlyStopping: stop training when a monitored metric has stopped improving.

A value improves on the best so far when it beats it by more than ``min_delta``
(mode "min": value < best − min_delta; "max": value > best + min_delta; a non-finite value
never improves). After ``patience`` checks in a row without improvement the trainer stops
(``trainer.should_stop``, with the reason in ``trainer.stop_reason``) at the end of the
current epoch. Checks happen at the trigger, by default every epoch. PyTorch Lightning's
names and rule; the mode defaults to "max" for accuracies and "min" otherwise.
"""

import math

from gradkit.train.callbacks.base import PRIORITY_EDITOR, Callback, monitored
from gradkit.train.callbacks.checkpoint import infer_mode


class EarlyStopping(Callback):
    """Stop after ``patience`` checks without an improvement of ``monitor`` by ``min_delta``."""

    priority = PRIORITY_EDITOR

    def __init__(self, monitor="val_loss", mode=None, patience=3, min_delta=0.0,
                 trigger=(1, "epoch")):
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {patience}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta}")
        self.monitor = monitor
        self.mode = infer_mode(monitor, mode, "EarlyStopping")
        self.patience = patience
        self.min_delta = min_delta
        self.trigger = trigger
        self.best = None
        self.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None

    def _improves(self, value):
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def _check(self, trainer):
        value = monitored(trainer, self.monitor, "EarlyStopping")
        if self._improves(value):
            self.best, self.best_epoch, self.wait = value, trainer.state.epoch, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = trainer.state.epoch
            trainer.should_stop = True
            trainer.stop_reason = (f"EarlyStopping: {self.monitor} did not improve for "
                                   f"{self.wait} checks (best {self.best} at epoch "
                                   f"{self.best_epoch})")

    on_batch_end = _check
    on_epoch_end = _check

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state_dict(self, state_dict):
        self.best = state_dict["best"]
        self.best_epoch = state_dict["best_epoch"]
        self.wait = state_dict["wait"]
