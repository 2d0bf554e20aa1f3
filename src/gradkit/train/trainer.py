"""Trainer: the training loop, with events for callbacks, checkpoints and exact resume.

    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), train_loader,
                      val_loader=val_loader, max_epochs=10, out_dir="runs/mnist",
                      callbacks=[ProgressBar(), EarlyStopping("val_loss", patience=3)])
    history = trainer.fit()          # a list of epoch records
    trainer.evaluate(test_loader)    # {"loss": ..., "accuracy": ...}
    Trainer(...same...).resume("runs/mnist").fit()   # after a crash or Ctrl-C

One step (see callbacks/base.py for the events and the order callbacks run in):

    on_batch_start → zero_grad → loss = loss_fn(model(x), y) → backward → on_after_backward
    → optimizer.step() → the step record {loss, accuracy, lr} → on_batch_end

One epoch is its steps, then validation (when a val_loader is given), then the epoch record
{epoch, step, train_loss, train_accuracy, val_loss, val_accuracy, lr, time}, then on_epoch_end.
train_loss/train_accuracy are averages over the epoch's samples as the model changed during
it (as Keras reports them); ``lr`` is the learning rate of the first param group used for the
step (or the epoch's last step). Accuracy is reported when the model outputs (N, C, ...)
scores and the targets are class indices (N, ...) or class probabilities of the output's
shape (soft targets such as MixUp's: the argmax class counts); otherwise it is left out.
Callbacks add their own values with ``trainer.report(name, value)``: into the step record
during a step, into the epoch record otherwise.

Run folder (``out_dir``): ``metrics.jsonl`` (a MetricsLogger is added unless one is given)
and ``checkpoints/`` (a Checkpoint keeping ``last`` and, with a val_loader, the best by
val_accuracy, or by val_loss when there is no accuracy, unless one is given). A NaNGuard is
added unless one is given or ``nan_guard=False``, so a diverging run stops with the weights
still finite instead of saving NaN as ``last``.

Refused at once, naming what was given: a train loader with no batches, and a regression
pair whose shapes differ (float targets of another shape than the output, e.g. outputs
(N, 1) against targets (N,), which a loss would silently broadcast to (N, N)). SIGINT/SIGTERM
during ``fit()`` finish the current step, write ``checkpoints/last.safetensors`` and raise
``TrainingInterrupted``, a SystemExit with code 128 + signal number (a second Ctrl-C aborts
at once).

Resume is exact: a checkpoint holds the weights, the optimizer and scheduler state, the gk RNG
and the train loader's generator(s), the epoch, step and position in the epoch, and the
callbacks' state, so an interrupted and resumed run ends with bit-identical weights. A
checkpoint written mid-epoch resumes mid-epoch: the loader's shuffle for that epoch is
replayed and the batches already trained on are skipped (they are loaded, not trained on).
"""

import itertools
import json
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from gradkit import random as gk_random
from gradkit.autograd import no_grad
from gradkit.nn import functional as F
from gradkit.tensor import Tensor, as_array
from gradkit.train.callbacks.base import make_trigger
from gradkit.train.callbacks.checkpoint import Checkpoint
from gradkit.train.callbacks.metrics import MetricsLogger
from gradkit.train.callbacks.nan_guard import NaNGuard
from gradkit.train.callbacks.schedule import LRScheduler
from gradkit.train.checks import check_loader, check_pair, loader_sizes
from gradkit.train.checkpoint import (CheckpointError, checkpoint_info, load_checkpoint,
                                      save_checkpoint)
from gradkit.train.interrupt import SignalCatcher, TrainingInterrupted
from gradkit.train.run_folder import resume_checkpoint
from gradkit.train.state import TrainerState, batch_accuracy


def _loader_generators(loader):
    """The distinct private np.random.Generators a loader shuffles and augments with."""
    found = []
    for owner in (loader, getattr(loader, "sampler", None),
                  getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        g = getattr(owner, "generator", None)
        if (isinstance(g, np.random.Generator) and g is not gk_random.default_generator
                and all(g is not h for h in found)):
            found.append(g)
    return found


def _plain_config(config):
    """The config as plain JSON data (a dict, or a pydantic model via ``model_dump``)."""
    if config is None:
        return None
    if hasattr(config, "model_dump"):
        config = config.model_dump()
    return json.loads(json.dumps(dict(config), default=str))


class Trainer:
    """Train ``model`` with ``optimizer`` on ``train_loader`` (batches of (x, y) Tensors).

    Args:
        loss_fn: ``loss_fn(output, target) -> 0-d Tensor`` (a mean over the batch); default
            ``F.cross_entropy`` (class indices or class probabilities as targets).
        val_loader: evaluated after every epoch (val_loss, val_accuracy).
        scheduler, scheduler_interval: an lr scheduler stepped after every "epoch" or "step"
            (an LRScheduler callback is made for it; ReduceLROnPlateau gets the val metric).
        max_epochs, max_steps: training stops at whichever comes first (at least one).
        callbacks: Callback objects (see gradkit.train.callbacks).
        out_dir: the run folder (metrics.jsonl, checkpoints/); None writes nothing.
        config: a dict (or pydantic model) stored in every checkpoint as metadata (the
            resolved run config); values JSON cannot hold (paths) are stored as strings.
        seed: if given, ``gk.manual_seed(seed)`` is called here.
        nan_guard: add a NaNGuard (unless ``callbacks`` has one); False to train without.
    """

    def __init__(self, model, optimizer, train_loader, loss_fn=None, val_loader=None,
                 scheduler=None, scheduler_interval="epoch", max_epochs=None, max_steps=None,
                 callbacks=(), out_dir=None, config=None, seed=None, nan_guard=True):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"Trainer: scheduler_interval must be 'epoch' or 'step', got "
                             f"{scheduler_interval!r}")
        if max_epochs is None and max_steps is None:
            raise ValueError("Trainer: give max_epochs or max_steps (or both)")
        self.model = model
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.loss_fn = loss_fn if loss_fn is not None else F.cross_entropy
        self.scheduler = scheduler
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.config = _plain_config(config)
        callbacks = list(callbacks)
        if nan_guard and not any(isinstance(c, NaNGuard) for c in callbacks):
            callbacks.append(NaNGuard())
        if scheduler is not None:
            callbacks.append(LRScheduler(scheduler, interval=scheduler_interval))
        if self.out_dir is not None:
            if not any(isinstance(c, MetricsLogger) for c in callbacks):
                callbacks.append(MetricsLogger())
            if not any(isinstance(c, Checkpoint) for c in callbacks):
                callbacks.append(Checkpoint(monitor=["val_accuracy", "val_loss"]) if val_loader
                                 else Checkpoint(save_top_k=0))
        self.callbacks = callbacks
        self._sort_callbacks()
        self.state = TrainerState()
        self.should_stop = False
        self.stop_reason = None
        self._epoch_start_rng = None
        self._resume_rng = None
        self._signals = SignalCatcher()
        self._clock = None
        if seed is not None:
            gk_random.manual_seed(seed)

    # ----- the loop -----
    def fit(self):
        """Train until max_epochs/max_steps or a callback sets ``should_stop``; returns the
        history (a list of epoch records). Calling it again continues (e.g. with a larger
        max_epochs)."""
        self.should_stop, self.stop_reason = False, None
        check_loader(self.train_loader)
        self._sort_callbacks()
        self._clock = time.perf_counter() - self.state.elapsed
        try:
            with self._signals:
                self._fire("on_fit_start")
                while not self._finished() and not self.should_stop:
                    self._run_epoch()
                self._fire("on_fit_end")
        except BaseException as exc:
            for cb in self.callbacks:
                try:
                    cb.on_exception(self, exc)
                except Exception as inner:
                    warnings.warn(f"{cb.state_key}.on_exception failed: {inner!r}")
            raise
        return self.state.history

    def _finished(self):
        s = self.state
        return ((self.max_epochs is not None and s.epoch >= self.max_epochs and s.batch_idx == 0)
                or (self.max_steps is not None and s.step >= self.max_steps))

    def _run_epoch(self):
        s = self.state
        resuming = s.batch_idx > 0
        if not resuming:
            s.epoch += 1
            s.totals = {"loss": 0.0, "samples": 0, "correct": 0, "counted": 0}
            s.epoch_record = {}
        self._fire("on_epoch_start")
        if resuming:
            batches = self._replay_epoch()
        else:
            self._epoch_start_rng = self._rng_states()
            batches = iter(self.train_loader)
        self.model.train()
        for batch in batches:
            self._train_step(batch)
            self._check_signal()
            if self.should_stop or (self.max_steps is not None and s.step >= self.max_steps):
                break
        self._end_epoch()
        self._check_signal()

    def _train_step(self, batch):
        s = self.state
        x, y = batch
        s.batch, s.record, s.in_batch = batch, {}, True
        self._fire("on_batch_start")
        self.optimizer.zero_grad()
        output = self.model(x)
        check_pair(output, y)
        loss = self.loss_fn(output, y)
        s.output, s.loss = output, loss
        loss.backward()
        self._fire("on_after_backward")
        lr = self.optimizer.param_groups[0]["lr"]
        self.optimizer.step()
        s.step += 1
        s.batch_idx += 1
        value, n = float(loss.item()), len(x)
        t = s.totals
        t["loss"] += value * n
        t["samples"] += n
        record = {"loss": value}
        counts = batch_accuracy(output._data, as_array(y))
        if counts is not None:
            t["correct"] += counts[0]
            t["counted"] += counts[1]
            record["accuracy"] = counts[0] / counts[1]
        record["lr"] = lr
        s.record.update(record)
        s.elapsed = time.perf_counter() - self._clock
        self._fire("on_batch_end", "batch_end")
        s.in_batch = False
        s.output, s.loss = output.detach(), loss.detach()  # let the step's graph go

    def _end_epoch(self):
        s, t = self.state, self.state.totals
        if not t["samples"]:
            raise ValueError(f"Trainer: epoch {s.epoch} had no batches: the train loader "
                             f"yielded nothing ({loader_sizes(self.train_loader)})")
        record = {"epoch": s.epoch, "step": s.step, "train_loss": t["loss"] / t["samples"]}
        if t["counted"]:
            record["train_accuracy"] = t["correct"] / t["counted"]
        if self.val_loader is not None:
            record.update({f"val_{k}": v for k, v in self.evaluate(self.val_loader).items()})
        s.elapsed = time.perf_counter() - self._clock
        record.update(lr=self.optimizer.param_groups[0]["lr"], time=s.elapsed)
        record.update(s.epoch_record)  # values callbacks reported at epoch start
        s.epoch_record = record
        s.history.append(record)
        s.batch_idx = 0
        self._fire("on_epoch_end", "epoch_end")

    def _sort_callbacks(self):
        """Decreasing priority; the sort is stable, so ties keep the order they were given."""
        self.callbacks = sorted(self.callbacks, key=lambda c: -c.priority)
        self._triggers = [make_trigger(c.trigger) for c in self.callbacks]

    def _fire(self, hook, event=None):
        for cb, trigger in zip(self.callbacks, self._triggers):
            if event is None or trigger is None or trigger(self, event):
                getattr(cb, hook)(self)

    def report(self, name, value):
        """Add a value (a number or 0-d Tensor) to the current record for loggers to read."""
        self.state.metrics[name] = float(value)

    # ----- evaluation -----
    def evaluate(self, loader):
        """{"loss", "accuracy"} over a loader of (x, y), in eval mode without gradients.

        The loss is the sample-weighted mean of ``loss_fn`` over the batches; accuracy is
        left out when it does not apply (see ``batch_accuracy``)."""
        was_training = self.model.training
        self.model.eval()
        loss_sum, samples, correct, counted = 0.0, 0, 0, 0
        try:
            with no_grad():
                for x, y in loader:
                    output = self.model(x)
                    loss_sum += float(self.loss_fn(output, y).item()) * len(x)
                    samples += len(x)
                    counts = batch_accuracy(output._data, as_array(y))
                    if counts is not None:
                        correct, counted = correct + counts[0], counted + counts[1]
        finally:
            self.model.train(was_training)
        if samples == 0:
            raise ValueError("Trainer.evaluate: the loader yielded no batches")
        result = {"loss": loss_sum / samples}
        if counted:
            result["accuracy"] = correct / counted
        return result

    def predict(self, x, batch_size=256):
        """The model's outputs (logits) for inputs ``x`` (a Tensor or array, split into
        batches of ``batch_size``; or a loader of x or (x, y) batches), in eval mode without
        gradients, concatenated into one Tensor."""
        if isinstance(x, (Tensor, np.ndarray)):
            data = as_array(x)
            batches = (Tensor._make(data[i:i + batch_size], None)
                       for i in range(0, len(data), batch_size))
        else:
            batches = (b[0] if isinstance(b, (tuple, list)) else b for b in x)
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                outputs = [self.model(b)._data for b in batches]
        finally:
            self.model.train(was_training)
        return Tensor._make(np.concatenate(outputs), None)

    # ----- checkpoints and resume -----
    def _schedulers(self):
        scheds = [c.scheduler for c in self.callbacks if isinstance(c, LRScheduler)]
        return scheds[0] if len(scheds) == 1 else (scheds or None)

    def _keyed_callbacks(self):
        seen = {}
        for cb in self.callbacks:
            n = seen[cb.state_key] = seen.get(cb.state_key, -1) + 1
            yield (cb.state_key if n == 0 else f"{cb.state_key}#{n}"), cb

    def _rng_states(self):
        return {"global": gk_random.get_rng_state(),
                "loaders": [g.bit_generator.state for g in _loader_generators(self.train_loader)]}

    def _set_rng_states(self, states):
        gk_random.set_rng_state(states["global"])
        generators = _loader_generators(self.train_loader)
        if len(generators) != len(states["loaders"]):
            warnings.warn(f"resume: the checkpoint's train loader had {len(states['loaders'])} "
                          f"private generator(s), this one has {len(generators)}: build the "
                          "DataLoader as before (same seed option) for an exact resume")
        for g, state in zip(generators, states["loaders"]):
            g.bit_generator.state = state

    def save_checkpoint(self, path):
        """Write the whole training state to ``path`` (atomically); returns the path."""
        s = self.state
        if self._clock is not None:
            s.elapsed = time.perf_counter() - self._clock
        trainer = {"batch_idx": s.batch_idx, "totals": s.totals, "elapsed": s.elapsed,
                   "history": s.history, "epoch_record": s.epoch_record,
                   "epoch_start_rng": self._epoch_start_rng,
                   "loaders": self._rng_states()["loaders"]}
        extra = {"epoch": s.epoch, "step": s.step, "config": self.config, "trainer": trainer,
                 "callbacks": {key: cb.state_dict() for key, cb in self._keyed_callbacks()}}
        return save_checkpoint(path, self.model, self.optimizer, self._schedulers(), extra)

    def last_checkpoint_path(self):
        """Where ``last.safetensors`` goes: the Checkpoint callback's folder, else
        ``out_dir/checkpoints``; None when there is neither."""
        for cb in self.callbacks:
            if isinstance(cb, Checkpoint) and (cb.dirpath or self.out_dir):
                return cb.directory(self) / "last.safetensors"
        return self.out_dir / "checkpoints" / "last.safetensors" if self.out_dir else None

    def resume(self, path):
        """Restore a checkpoint written by this Trainer (a file, or a run folder: its
        ``checkpoints/last.safetensors``, or the whole top-k checkpoint with the most steps
        when ``last`` is missing or corrupt) so that ``fit()`` continues exactly where it
        stopped. Build the Trainer as for the original run first. Returns self."""
        path = Path(path)
        if path.is_dir():
            found = resume_checkpoint(path)
            if found is None:
                raise CheckpointError(f"no usable checkpoint in {path / 'checkpoints'}: "
                                      "nothing to resume")
            path = found
        if "trainer" not in (checkpoint_info(path)["extra"] or {}):
            raise CheckpointError(f"{path} was written by save_checkpoint, not by a Trainer: "
                                  "it has no training state to resume (load it with "
                                  "load_checkpoint)")
        extra = load_checkpoint(path, self.model, self.optimizer, self._schedulers())
        t, s = extra["trainer"], self.state
        try:
            s.epoch, s.step, s.batch_idx = extra["epoch"], extra["step"], t["batch_idx"]
            s.totals, s.elapsed, s.history = t["totals"], t["elapsed"], t["history"]
            s.epoch_record = t["epoch_record"]
            current = {"global": extra["rng"], "loaders": t["loaders"]}
            self._set_rng_states(current)
            self._epoch_start_rng = t["epoch_start_rng"]
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"{path}: malformed training state ({e!r})") from None
        self._resume_rng = current if s.batch_idx > 0 else None
        saved = extra.get("callbacks", {})
        for key, cb in self._keyed_callbacks():
            if key in saved:
                cb.load_state_dict(saved[key])
        if self.config is None:
            self.config = extra.get("config")
        return self

    def _replay_epoch(self):
        """The rest of a checkpointed epoch: the same shuffle, minus the batches done."""
        self._set_rng_states(self._epoch_start_rng)
        batches = iter(self.train_loader)
        for _ in itertools.islice(batches, self.state.batch_idx):
            pass
        if self._resume_rng is not None:
            self._set_rng_states(self._resume_rng)
            self._resume_rng = None
        return batches

    def _check_signal(self):
        signum = self._signals.pop()
        if signum is None:
            return
        path = self.last_checkpoint_path()
        if path is not None:
            self.save_checkpoint(path)
        s = self.state
        where = f"epoch {s.epoch}, step {s.step}"
        message = (f"training stopped by {signal.Signals(signum).name} at {where}: "
                   + (f"saved {path}; continue with Trainer.resume({str(path)!r})" if path
                      else "nothing saved (no out_dir and no Checkpoint callback)"))
        print(message, file=sys.stderr, flush=True)
        raise TrainingInterrupted(signum, path, message)
