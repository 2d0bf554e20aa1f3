"""EMA: an exponential moving average of the weights (Polyak averaging), for evaluation.

After every optimizer step, for each floating parameter w with its average a:

    a ← a + (1 − decay)·(w − a)        (= decay·a + (1 − decay)·w)

starting from the weights at the start of training (PyTorch's ``AveragedModel`` with
``get_ema_multi_avg_fn(decay)``). BatchNorm's running statistics: ``buffers="copy"`` (the
default) uses the live model's buffers with the averaged weights (they are already running
averages; ``AveragedModel(use_buffers=False)`` plus the current statistics), while
``buffers="average"`` averages floating buffers too (timm's ModelEma); integer buffers
(``num_batches_tracked``) are always the live ones.

Evaluate with the averaged weights inside ``with ema.average_parameters(): ...`` (they are
swapped in and the trained ones restored afterwards), or write them into the model for good
with ``ema.copy_to()``. With a val_loader and ``validate=True`` the epoch record gets
``ema_val_loss`` and ``ema_val_accuracy``. The averages are saved in checkpoints, so a resumed
run continues them.
"""

import contextlib

import numpy as np

from gradkit.train.callbacks.base import PRIORITY_WRITER, Callback


class EMA(Callback):
    """Keep ``shadow`` (name -> ndarray), the moving average of the model's weights."""

    priority = PRIORITY_WRITER

    def __init__(self, decay=0.999, buffers="copy", validate=True):
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"EMA: decay must be in [0, 1], got {decay}")
        if buffers not in ("copy", "average"):
            raise ValueError(f"EMA: buffers must be 'copy' or 'average', got {buffers!r}")
        self.decay = decay
        self.buffers = buffers
        self.validate = validate
        self.model = None
        self.shadow = None
        self.num_updates = 0

    def _tracked(self, model):
        """(name, tensor) of what is averaged: floating parameters (and buffers)."""
        items = list(model.named_parameters())
        if self.buffers == "average":
            items += list(model.named_buffers())
        return [(n, t) for n, t in items if t._data.dtype.kind == "f"]

    def on_fit_start(self, trainer):
        self.model = trainer.model
        tracked = dict(self._tracked(self.model))
        if self.shadow is None:
            self.shadow = {n: t._data.copy() for n, t in tracked.items()}
        elif self.shadow.keys() != tracked.keys():
            raise ValueError("EMA: the averaged weights do not match the model's parameters "
                             f"({len(self.shadow)} averaged, {len(tracked)} in the model)")

    def on_batch_end(self, trainer):
        rate = 1.0 - self.decay
        for name, t in self._tracked(self.model):
            average = self.shadow[name]
            average += rate * (t._data - average)
        self.num_updates += 1

    def on_epoch_end(self, trainer):
        if self.validate and trainer.val_loader is not None:
            with self.average_parameters():
                result = trainer.evaluate(trainer.val_loader)
            for key, value in result.items():
                trainer.report(f"ema_val_{key}", value)

    @contextlib.contextmanager
    def average_parameters(self, model=None):
        """Swap the averaged weights into ``model`` (default: the trained one) for the
        ``with`` block, then restore the trained weights."""
        model = model if model is not None else self.model
        tracked = dict(self._tracked(model))
        saved = {n: tracked[n]._data.copy() for n in self.shadow}
        self.copy_to(model)
        try:
            yield model
        finally:
            for name, array in saved.items():
                tracked[name]._data[...] = array

    def copy_to(self, model=None):
        """Write the averaged weights into ``model`` (default: the trained one)."""
        tracked = dict(self._tracked(model if model is not None else self.model))
        for name, average in self.shadow.items():
            tracked[name]._data[...] = average

    def state_dict(self):
        return {"decay": self.decay, "num_updates": self.num_updates,
                "shadow": dict(self.shadow) if self.shadow is not None else None}

    def load_state_dict(self, state_dict):
        shadow = state_dict["shadow"]
        self.shadow = ({n: np.array(a, copy=True) for n, a in shadow.items()}
                       if shadow is not None else None)
        self.num_updates = state_dict["num_updates"]
