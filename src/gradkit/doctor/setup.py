"""The configuration under diagnosis: the user's model, data, loss and optimizer, normalized
once, and the small tools every check uses (model copies, batches, a short training loop).

The doctor never changes what the user gave it: checks train ``setup.copy_model()`` (a deep
copy with the original weights), build optimizers with ``setup.optimizer_for(copy)`` (the
user's optimizer class, param groups and hyper-parameters, on the copy's parameters), and
draw randomness from their own generators. ``examine`` restores gradkit's and NumPy's global
random state when it returns.
"""

import copy
import inspect
import math

import numpy as np

from gradkit import random as gk_random
from gradkit.autograd import no_grad
from gradkit.nn import functional as F
from gradkit.optim import Adam, Optimizer
from gradkit.tensor import Tensor


def as_arrays(data, what):
    """(x, y) ndarrays of a dataset (``.x``/``.y``, ``get_batch`` or ``(x, y)`` items), a
    DataLoader, or an ``(x, y)`` pair of arrays or Tensors."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = (d._data if isinstance(d, Tensor) else np.asarray(d) for d in data)
    elif hasattr(data, "x") and hasattr(data, "y"):
        x, y = np.asarray(data.x), np.asarray(data.y)
    elif hasattr(data, "get_batch") and hasattr(data, "__len__"):
        x, y = data.get_batch(np.arange(len(data)))[:2]
    elif hasattr(data, "dataset") and hasattr(data, "__iter__"):  # a DataLoader
        parts = [(_np(b[0]), _np(b[1])) for b in data]
        if not parts:
            raise ValueError(f"doctor: the {what} loader gives no batches")
        x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    elif hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        items = [data[i] for i in range(len(data))]
        x = np.stack([_np(item[0]) for item in items])
        y = np.stack([_np(item[1]) for item in items])
    else:
        raise TypeError(f"doctor: cannot read the {what} data from a {type(data).__name__}; "
                        "give a dataset, a DataLoader or an (x, y) pair")
    x, y = _np(x), _np(y)
    if len(x) != len(y):
        raise ValueError(f"doctor: {what} x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise ValueError(f"doctor: the {what} data is empty")
    return x, y


def _np(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v)


class Setup:
    """The user's configuration and the tools checks share (see the module docstring).

    ``x``, ``y`` (and ``x_val``, ``y_val`` or None): the data as ndarrays, unchanged;
    ``num_outputs``: the model's output width; ``classification``: integer targets and
    (N, C) outputs; ``cache``: results computed once and shared (the probe run, ...)."""

    def __init__(self, model, train, val=None, loss_fn=None, optimizer=None, batch_size=64,
                 steps=300, seed=0, log=None):
        self.model = model
        self.x, self.y = as_arrays(train, "train")
        self.x_val, self.y_val = as_arrays(val, "validation") if val is not None else (None,
                                                                                      None)
        self.loss_fn = loss_fn if loss_fn is not None else F.cross_entropy
        self.optimizer = optimizer
        self.batch_size = int(batch_size)
        self.steps = int(steps)
        self.seed = int(seed)
        self.log = log or (lambda message: None)
        self.cache = {}
        probe = self.x[:min(len(self.x), 8)]
        if probe.dtype.kind not in "fc":  # integer pixels: the data checks say what is wrong
            probe = probe.astype(np.float32)
        out = self.forward(self.copy_model(), probe)
        self.output_shape = tuple(out.shape[1:])
        self.num_outputs = int(out.shape[1]) if out.ndim >= 2 else 1
        self.classification = self.y.dtype.kind in "iu" and out.ndim == 2

    # ----- models and optimizers -----
    def copy_model(self, dtype=None):
        """A deep copy of the user's model (same weights, training mode, no gradients)."""
        m = copy.deepcopy(self.model)
        for p in m.parameters():
            p.grad = None
        m.train()
        if dtype is not None:
            m.to(dtype)
        return m

    def optimizer_for(self, model, **overrides):
        """A fresh optimizer of the user's kind for ``model`` (a copy): the same class, param
        groups and hyper-parameters, with ``overrides`` (e.g. lr=...) set in every group."""
        spec = self.optimizer
        if spec is None:
            opt = Adam(model.parameters(), lr=1e-3)
        elif isinstance(spec, Optimizer):
            names = {id(p): n for n, p in self.model.named_parameters()}
            params = dict(model.named_parameters())
            groups = []
            for group in spec.param_groups:
                mapped = [params[names[id(p)]] for p in group["params"] if id(p) in names]
                if mapped:
                    groups.append({**{k: v for k, v in group.items() if k != "params"},
                                   "params": mapped})
            accepted = inspect.signature(type(spec).__init__).parameters
            opt = type(spec)(groups, **{k: v for k, v in spec.defaults.items()
                                        if k in accepted})
        elif callable(spec):
            opt = spec(model.parameters())
        else:
            raise TypeError(f"doctor: optimizer must be an Optimizer or a callable params -> "
                            f"Optimizer, got {type(spec).__name__}")
        for group in opt.param_groups:
            group.update(overrides)
        return opt

    @property
    def lr(self):
        """The learning rate of the configuration (its first param group)."""
        return float(self.optimizer_for(self.copy_model()).param_groups[0]["lr"])

    # ----- running models -----
    def forward(self, model, x):
        return model(Tensor._make(np.ascontiguousarray(x), None))

    def loss(self, model, x, y):
        """The loss of ``model`` on (x, y) as a Tensor (graph recorded)."""
        return self.loss_fn(self.forward(model, x), Tensor._make(np.asarray(y), None))

    def evaluate(self, model, x, y, batch=500):
        """{"loss", "accuracy" (classification only)} of ``model`` in eval mode, no graph."""
        was_training = model.training
        model.eval()
        losses, correct = [], 0
        with no_grad():
            for i in range(0, len(x), batch):
                out = self.forward(model, x[i:i + batch])
                yb = y[i:i + batch]
                losses.append(float(self.loss_fn(out, Tensor._make(yb, None)).item()) * len(yb))
                if self.classification:
                    correct += int((out._data.argmax(axis=1) == yb).sum())
        model.train(was_training)
        result = {"loss": sum(losses) / len(x)}
        if self.classification:
            result["accuracy"] = correct / len(x)
        return result

    def batches(self, steps, x=None, y=None, seed=None, batch_size=None):
        """``steps`` random mini-batches (x, y) of ndarrays, epoch after epoch without
        replacement, from the training data (or the given arrays)."""
        x = self.x if x is None else x
        y = self.y if y is None else y
        bs = min(batch_size or self.batch_size, len(x))
        rng = np.random.default_rng(self.seed if seed is None else seed)
        order, at = rng.permutation(len(x)), 0
        for _ in range(steps):
            if at + bs > len(x):
                order, at = rng.permutation(len(x)), 0
            idx = order[at:at + bs]
            at += bs
            yield x[idx], y[idx]

    def fit(self, model, steps, optimizer=None, x=None, y=None, seed=None, batch_size=None,
            on_step=None):
        """Train ``model`` (a copy) for ``steps`` mini-batch steps; returns the step losses.
        Stops early, with NaN as its last loss, when the loss is not finite.
        ``on_step(step, model, loss)`` runs after each optimizer step."""
        opt = optimizer if optimizer is not None else self.optimizer_for(model)
        losses = []
        with gk_random.fork_rng(self.seed if seed is None else seed):
            for step, (xb, yb) in enumerate(self.batches(steps, x, y, seed, batch_size)):
                loss = self.loss(model, xb, yb)
                value = float(loss.item())
                losses.append(value)
                if not math.isfinite(value):
                    break
                opt.zero_grad()
                loss.backward()
                opt.step()
                if on_step is not None:
                    on_step(step, model, value)
        return losses

    def chance_loss(self):
        """The loss of a uniform prediction: ln C for softmax cross-entropy on C classes."""
        return math.log(self.num_outputs) if self.classification else None

    def class_count(self):
        """C: the model's number of outputs for classification (None otherwise)."""
        return self.num_outputs if self.classification else None
