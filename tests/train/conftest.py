"""Small problems for the training tests: a few examples, tiny MLPs built from gk.nn."""

import types

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.data import DataLoader, TensorDataset
from gradkit.train import Callback


def make_data(n=20, features=4, classes=3, seed=0, dtype=np.float32):
    """(x, y): n Gaussian points with labels cycling through the classes."""
    x = np.random.default_rng(seed).normal(size=(n, features)).astype(dtype)
    return x, (np.arange(n) % classes).astype(np.int64)


def make_model(features=4, hidden=16, classes=3, dropout=0.0, batchnorm=False, seed=0,
               dtype=np.float32):
    gk.manual_seed(seed)
    layers = [nn.Linear(features, hidden)]
    layers += [nn.BatchNorm1d(hidden)] if batchnorm else []
    layers += [nn.ReLU()]
    layers += [nn.Dropout(dropout)] if dropout else []
    layers += [nn.Linear(hidden, classes)]
    model = nn.Sequential(*layers)
    return model.double() if dtype == np.float64 else model


def make_loader(x, y, batch_size=5, shuffle=True, seed=0):
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, seed=seed,
                      prefetch=False)


class Recorder(Callback):
    """Records (hook, epoch, step, batch_idx) for every hook it receives."""

    def __init__(self, name="rec", trigger=None, priority=100, log=None):
        self.name, self.trigger, self.priority = name, trigger, priority
        self.events = log if log is not None else []

    def _log(self, hook, trainer):
        s = trainer.state
        self.events.append((self.name, hook, s.epoch, s.step, s.batch_idx))

    def on_fit_start(self, trainer): self._log("fit_start", trainer)
    def on_epoch_start(self, trainer): self._log("epoch_start", trainer)
    def on_batch_start(self, trainer): self._log("batch_start", trainer)
    def on_after_backward(self, trainer): self._log("after_backward", trainer)
    def on_batch_end(self, trainer): self._log("batch_end", trainer)
    def on_epoch_end(self, trainer): self._log("epoch_end", trainer)
    def on_fit_end(self, trainer): self._log("fit_end", trainer)

    def on_exception(self, trainer, exception):
        self._log("exception", trainer)


class Script(Callback):
    """Reports a scripted value of ``name`` at each epoch end (WRITER: before monitors)."""

    priority = 300

    def __init__(self, name, values):
        self.name, self.values = name, list(values)

    def on_epoch_end(self, trainer):
        trainer.report(self.name, self.values[trainer.state.epoch - 1])


@pytest.fixture
def tk():
    """The helpers above, as one namespace."""
    return types.SimpleNamespace(data=make_data, model=make_model, loader=make_loader,
                                 Recorder=Recorder, Script=Script)
