"""Callback, triggers and priorities: how the Trainer calls the code that watches training.

The Trainer is a loop that fires events (Chainer's trainer/extension design, with PyTorch
Lightning's hook names). A callback overrides the hooks it needs; each receives the trainer,
whose ``state`` holds the epoch, the step and the metrics reported so far:

    on_fit_start        once, before the first epoch
    on_epoch_start      before each epoch's first batch
    on_batch_start      before the forward pass (``state.batch`` is (x, y))
    on_after_backward   gradients are in ``p.grad``, the optimizer has not stepped
    on_batch_end        after ``optimizer.step()`` (``state.record``: loss, accuracy, lr)
    on_epoch_end        after the epoch and its validation (``state.epoch_record``)
    on_fit_end          once, when training ends normally
    on_exception        instead of on_fit_end when fit() raises (NaN, Ctrl-C, a bug)

**Trigger** — when the two end hooks run. ``None`` (the default): ``on_batch_end`` after
every step and ``on_epoch_end`` after every epoch. ``(N, "epoch")``: only ``on_epoch_end``,
after every N-th epoch. ``(N, "iteration")`` (or ``"step"``): only ``on_batch_end``, after
every N-th optimizer step. Any callable ``trigger(trainer, event) -> bool`` (event is
``"batch_end"`` or ``"epoch_end"``) works too. The other hooks always run.

**Priority** — callbacks run in decreasing priority, ties in the order they were given.
Chainer's three levels: WRITER (300) reports values into the record (NaNGuard, EMA's
validation), EDITOR (200) changes the training state (gradient clipping, lr schedules, early
stopping), READER (100, the default) reads what the others wrote (loggers, progress bar,
checkpoints: they save the state after the editors changed it).

A callback with state that must survive a resume (a best score, a counter, averaged weights)
defines ``state_dict()`` / ``load_state_dict()``; the Trainer stores it in its checkpoints
under ``state_key`` (the class name; ``#1``, ``#2`` are appended for repeats).
"""

PRIORITY_WRITER = 300
PRIORITY_EDITOR = 200
PRIORITY_READER = 100

_UNITS = {"epoch": "epoch", "epochs": "epoch", "iteration": "iteration",
          "iterations": "iteration", "step": "iteration", "steps": "iteration"}


class IntervalTrigger:
    """Fires after every ``period``-th epoch or iteration (optimizer step)."""

    def __init__(self, period, unit):
        if unit not in _UNITS:
            raise ValueError(f"IntervalTrigger: unit must be 'epoch' or 'iteration', got {unit!r}")
        if not isinstance(period, int) or isinstance(period, bool) or period < 1:
            raise ValueError(f"IntervalTrigger: period must be a positive int, got {period!r}")
        self.period = period
        self.unit = _UNITS[unit]

    def __call__(self, trainer, event):
        if self.unit == "iteration":
            return event == "batch_end" and trainer.state.step % self.period == 0
        return event == "epoch_end" and trainer.state.epoch % self.period == 0

    def __repr__(self):
        return f"IntervalTrigger({self.period}, {self.unit!r})"


def make_trigger(spec):
    """A trigger from ``None``, ``(N, unit)``, an IntervalTrigger or a callable."""
    if spec is None or callable(spec):
        return spec
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return IntervalTrigger(*spec)
    raise TypeError(f"a trigger is None, (N, 'epoch'), (N, 'iteration') or a callable "
                    f"trigger(trainer, event) -> bool; got {spec!r}")


class Callback:
    """Base class: override the hooks you need (all do nothing here).

    ``trigger`` and ``priority`` may be class attributes or set in ``__init__``; see the
    module docstring for what they mean."""

    trigger = None
    priority = PRIORITY_READER
    main_rank_only = False  # True for a callback that writes files or prints: data-parallel
    #                         training runs it on rank 0 alone (gradkit.distributed.world)

    @property
    def state_key(self):
        return type(self).__name__

    def on_fit_start(self, trainer):
        pass

    def on_epoch_start(self, trainer):
        pass

    def on_batch_start(self, trainer):
        pass

    def on_after_backward(self, trainer):
        pass

    def on_batch_end(self, trainer):
        pass

    def on_epoch_end(self, trainer):
        pass

    def on_fit_end(self, trainer):
        pass

    def on_exception(self, trainer, exception):
        pass

    def state_dict(self):
        """What a checkpoint keeps of this callback: JSON values and arrays (default none)."""
        return {}

    def load_state_dict(self, state_dict):
        pass


def monitored(trainer, monitor, who):
    """The current value of metric ``monitor`` (float), or a clear error naming the choices."""
    metrics = trainer.state.metrics
    if monitor not in metrics:
        hint = " (pass a val_loader to the Trainer)" if monitor.startswith("val_") else ""
        raise KeyError(f"{who}: metric {monitor!r} is not in the record{hint}; "
                       f"available: {', '.join(sorted(metrics)) or 'none'}")
    return float(metrics[monitor])
