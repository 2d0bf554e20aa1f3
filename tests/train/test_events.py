"""Callback events: their order within a run, triggers, priorities, exceptions, reports."""

import numpy as np
import pytest

from gradkit import optim
from gradkit.train import (Callback, EMA, GradientClipping, IntervalTrigger, LRScheduler, NaNGuard,
                           ProgressBar, Trainer)
from gradkit.train.callbacks import Checkpoint, EarlyStopping, MetricsLogger


def _run(tk, callbacks, n=10, batch_size=5, epochs=2, **kwargs):
    x, y = tk.data(n=n)
    model = tk.model()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1),
                      tk.loader(x, y, batch_size=batch_size), max_epochs=epochs,
                      callbacks=callbacks, **kwargs)
    trainer.fit()
    return trainer


def test_events_fire_in_order(tk):
    rec = tk.Recorder()
    _run(tk, [rec])
    step = ["batch_start", "after_backward", "batch_end"]
    expected = ["fit_start"] + (["epoch_start"] + step * 2 + ["epoch_end"]) * 2 + ["fit_end"]
    assert [e[1] for e in rec.events] == expected
    # (hook, epoch, step, batch_idx): batch_end sees the step counted, epoch_end the epoch closed
    assert rec.events[1:5] == [("rec", "epoch_start", 1, 0, 0), ("rec", "batch_start", 1, 0, 0),
                               ("rec", "after_backward", 1, 0, 0), ("rec", "batch_end", 1, 1, 1)]
    assert ("rec", "epoch_end", 2, 4, 0) in rec.events


def test_after_backward_sees_gradients_before_the_step(tk):
    snapshots = {}

    class Watch(Callback):
        def on_after_backward(self, trainer):
            p = next(trainer.model.parameters())
            snapshots["before"] = p.numpy().copy()
            snapshots["grad"] = p.grad.numpy().copy()

        def on_batch_end(self, trainer):
            snapshots["after"] = next(trainer.model.parameters()).numpy().copy()

    _run(tk, [Watch()], epochs=1, n=5)
    np.testing.assert_allclose(snapshots["after"], snapshots["before"] - 0.1 * snapshots["grad"],
                               rtol=1e-6)


def test_triggers(tk):
    every2steps = tk.Recorder("it", trigger=(2, "iteration"))
    every2epochs = tk.Recorder("ep", trigger=(2, "epoch"))
    custom = tk.Recorder("odd", trigger=lambda trainer, event: trainer.state.step % 2 == 1)
    _run(tk, [every2steps, every2epochs, custom], n=15, epochs=4)  # 3 steps an epoch
    ends = lambda rec, hook: [e[3] if hook == "batch_end" else e[2]
                              for e in rec.events if e[1] == hook]
    assert ends(every2steps, "batch_end") == [2, 4, 6, 8, 10, 12]
    assert ends(every2steps, "epoch_end") == []
    assert ends(every2epochs, "epoch_end") == [2, 4]
    assert ends(every2epochs, "batch_end") == []
    assert ends(custom, "batch_end") == [1, 3, 5, 7, 9, 11]
    assert ends(custom, "epoch_end") == [1, 3]   # epochs end at steps 3, 9
    # the other hooks are not gated
    assert sum(e[1] == "batch_start" for e in every2epochs.events) == 12


def test_trigger_specs():
    assert IntervalTrigger(3, "step").unit == "iteration"
    with pytest.raises(ValueError, match="unit"):
        IntervalTrigger(1, "batch")
    with pytest.raises(ValueError, match="period"):
        IntervalTrigger(0, "epoch")


def test_bad_trigger_is_refused(tk):
    with pytest.raises(TypeError, match="trigger"):
        _run(tk, [tk.Recorder(trigger="every epoch")])


def test_priority_orders_callbacks_ties_keep_order(tk):
    log = []
    cbs = [tk.Recorder(name, priority=priority, log=log) for name, priority in
           [("reader1", 100), ("writer", 300), ("editor", 200), ("reader2", 100)]]
    _run(tk, cbs, epochs=1, n=5)
    first_batch_end = [e[0] for e in log if e[1] == "batch_end"]
    assert first_batch_end == ["writer", "editor", "reader1", "reader2"]


def test_builtin_priorities(tk):
    model = tk.model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = tk.data()
    cbs = [ProgressBar(), Checkpoint(dirpath="unused"), MetricsLogger(path="unused"),
           EarlyStopping(), LRScheduler(optim.lr_scheduler.StepLR(opt, 1)),
           GradientClipping(max_norm=1.0), EMA(), NaNGuard()]
    trainer = Trainer(model, opt, tk.loader(x, y), max_epochs=1, callbacks=cbs)
    names = [type(c).__name__ for c in trainer.callbacks]
    assert names == ["EMA", "NaNGuard", "EarlyStopping", "LRScheduler", "GradientClipping",
                     "ProgressBar", "Checkpoint", "MetricsLogger"]


def test_exception_reaches_every_callback_and_propagates(tk):
    class Boom(Callback):
        def on_batch_end(self, trainer):
            if trainer.state.step == 2:
                raise RuntimeError("boom")

    rec = tk.Recorder()
    with pytest.raises(RuntimeError, match="boom"):
        _run(tk, [Boom(), rec])
    hooks = [e[1] for e in rec.events]
    assert hooks[-1] == "exception" and "fit_end" not in hooks
    assert rec.events[-1][3] == 2


def test_report_goes_into_the_current_record(tk):
    class Reporter(Callback):
        priority = 300

        def on_after_backward(self, trainer):
            trainer.report("custom_step", 1.5)

        def on_epoch_end(self, trainer):
            trainer.report("custom_epoch", trainer.state.epoch * 10)

    trainer = _run(tk, [Reporter()])
    assert trainer.state.record["custom_step"] == 1.5
    assert [h["custom_epoch"] for h in trainer.state.history] == [10.0, 20.0]
