"""Monitor: a Trainer callback that watches what the cs231n notes tell you to babysit, layer
by layer, every ``every`` steps, and says what its measurements show (``findings()``).

    monitor = doctor.Monitor(every=50)
    Trainer(model, opt, loader, max_epochs=5, callbacks=[monitor]).fit()
    monitor.records[-1]["params"]["features.0.weight"]["update_ratio"]   # ~1e-3 is healthy
    for finding in monitor.findings():
        print(finding)

Every step it keeps the loss (``monitor.losses``, a float per step) and the first step whose
loss is not finite (``monitor.nan_step``). On a monitored step (steps 1, every+1, 2·every+1,
...: ``state.step % every == 0`` before the step; and, up to three times, the step after one
whose loss exploded above EXPLODE × the first loss) it installs forward hooks on the leaf
layers, and after the step removes them and appends a record:

    {"step": s (1-based, the step just taken), "loss": float, "lr": float,
     "params": {param name: {"grad_norm": ‖g‖ (None: no gradient reached it),
                             "weight_norm": ‖W‖ before the step,
                             "update_ratio": ‖W_after − W_before‖ / ‖W_before‖,
                             "hist": {"edges", "counts"} of g (weights only)}},
     "layers": {module name: {"type": "ReLU", "mean", "std" of the output,
                              "hist": {"edges", "counts"} of a bounded sample,
                              "inactive": fraction of units with no positive output in this
                                          batch (ReLU), "saturated": fraction of outputs with
                                          |tanh| > 0.99 or sigmoid outside (0.01, 0.99)}},
     "nonfinite": {"grads": [param names], "activations": [module names]}}

Histograms ("hist") are kept in the latest record only, so a long run's records stay small.
The update ratio is measured, not estimated: the weights are copied in ``on_after_backward``
(before ``optimizer.step()``) and compared after it, so momentum, Adam's scaling and weight
decay are all in it. A "unit" of a ReLU layer is a feature of a (N, F) output or a channel of
a (N, C, ...) one; a unit is dead when it is inactive on every monitored batch of the last
half of the run (so units that die during training count). The cost is bounded by ``every``:
unmonitored steps cost one float append (measured: see benchmarks/doctor.py).

``curve_shape(losses)`` classifies a loss curve as the notes' learning-rate plot does. The
rules that turn records into findings are in ``gradkit.doctor.rules`` (shared with the
doctor's probe run, which trains with a Monitor).
"""

import math

import numpy as np

from gradkit import nn
from gradkit.train.callbacks.base import PRIORITY_WRITER, Callback

_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.Softplus, nn.Sigmoid, nn.Tanh, nn.GELU,
                nn.Maxout)


def _norm(a):
    flat = a.ravel()
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(np.dot(flat, flat))) if flat.dtype.kind == "f" else 0.0


def _sample(a, size):
    """At most ``size`` entries of ``a``, evenly strided (deterministic, no copy of all)."""
    flat = a.ravel()
    return flat if flat.size <= size else flat[::flat.size // size][:size]


def _hist(values, bins):
    values = values[np.isfinite(values)].astype(np.float64)
    if values.size == 0 or not np.isfinite(values.max() - values.min()):
        return {"edges": [], "counts": []}
    counts, edges = np.histogram(values, bins=bins)
    return {"edges": edges.astype(float).tolist(), "counts": counts.astype(int).tolist()}


def watched_layers(model):
    """(name, module) of the leaf layers the Monitor hooks: those with parameters and the
    activation layers."""
    return [(name, m) for name, m in model.named_modules()
            if name and not m._modules and (m._parameters or isinstance(m, _ACTIVATIONS))]


class Monitor(Callback):
    """Watch update/weight ratios, gradient norms, activations, dead and saturated units and
    NaN/Inf every ``every`` steps (see the module docstring for the records).

    ``sample``: at most this many values per tensor go into a histogram (``bins`` bins);
    ``stop_on_nan``: stop training (``trainer.should_stop``) at the first non-finite loss
    (the doctor's probe trains without a NaNGuard so that it sees the NaN itself)."""

    priority = PRIORITY_WRITER  # gradients are read before clipping (an EDITOR) changes them

    def __init__(self, every=50, sample=2048, bins=20, stop_on_nan=False):
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"Monitor: every must be a positive int (steps), got {every!r}")
        self.every, self.sample, self.bins = every, int(sample), int(bins)
        self.stop_on_nan = stop_on_nan
        self.records, self.losses, self.epochs = [], [], []
        self.nan_step = None
        self.weights, self.trainable, self.held = [], [], []  # parameter names, see on_fit_start
        self.active = {}  # ReLU layer -> list of per-record "unit was active" bool arrays
        self._handles, self._now, self._before, self._force = [], None, {}, False
        self._exploding = 0  # extra monitored steps taken while the loss explodes

    # ----- the hooks -----
    def on_fit_start(self, trainer):
        """Note which parameters are weights (2-D or more), trainable and held by the
        optimizer (the rules compare layers by their weights and skip the frozen ones)."""
        held = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
        named = list(trainer.model.named_parameters())
        self.weights = [n for n, p in named if p.ndim >= 2]
        self.trainable = [n for n, p in named if p.requires_grad]
        self.held = [n for n, p in named if id(p) in held]

    def on_batch_start(self, trainer):
        if trainer.state.step % self.every and not self._force:
            return
        self._force = False
        self._now = {"layers": {}, "params": {}, "nonfinite": {"grads": [],
                                                                "activations": []}}
        for name, module in watched_layers(trainer.model):
            self._handles.append(module.register_forward_hook(self._layer_hook(name)))

    def _layer_hook(self, name):
        def hook(module, args, output):
            data = getattr(output, "_data", None)
            if data is None or self._now is None:
                return None
            self._now["layers"][name] = self._layer_stats(module, data, name)
            return None
        return hook

    def _layer_stats(self, module, data, name):
        with np.errstate(over="ignore", invalid="ignore"):
            stats = {"type": type(module).__name__, "mean": float(data.mean()),
                     "std": float(data.std()), "hist": _hist(_sample(data, self.sample),
                                                             self.bins)}
        if not (math.isfinite(stats["mean"]) and math.isfinite(stats["std"])):
            self._now["nonfinite"]["activations"].append(name)
        if isinstance(module, nn.ReLU) and data.ndim >= 2:
            axes = (0,) + tuple(range(2, data.ndim))
            active = (data > 0).any(axis=axes)
            stats["inactive"] = float(1.0 - active.mean())
            self._now.setdefault("active", {})[name] = active
        elif isinstance(module, nn.Tanh):
            stats["saturated"] = float((np.abs(data) > 0.99).mean())
        elif isinstance(module, nn.Sigmoid):
            stats["saturated"] = float(((data < 0.01) | (data > 0.99)).mean())
        return stats

    def on_after_backward(self, trainer):
        if self._now is None:
            return
        params = self._now["params"]
        for name, p in trainer.model.named_parameters():
            g = p.grad
            entry = {"grad_norm": None if g is None else _norm(g._data),
                     "weight_norm": _norm(p._data)}
            if g is not None and not math.isfinite(entry["grad_norm"]):
                self._now["nonfinite"]["grads"].append(name)
            if g is not None and p.ndim >= 2:
                entry["hist"] = _hist(_sample(g._data, self.sample), self.bins)
            params[name] = entry
            self._before[name] = p._data.copy()

    def on_batch_end(self, trainer):
        s = trainer.state
        loss = float(s.record.get("loss", math.nan))
        self.losses.append(loss)
        if not math.isfinite(loss) and self.nan_step is None:
            self.nan_step = s.step
            if self.stop_on_nan:
                trainer.should_stop = True
        exploding = math.isfinite(loss) and loss > EXPLODE * abs(self.losses[0])
        if self._now is not None:
            self._record(trainer, loss)
        if exploding and self._exploding < 3:  # watch the next step of an explosion
            self._force, self._exploding = True, self._exploding + 1

    def _record(self, trainer, loss):
        s = trainer.state
        for name, p in trainer.model.named_parameters():
            before = self._before.get(name)
            if before is None:
                continue
            entry = self._now["params"][name]
            delta = _norm(p._data - before) if p._data.shape == before.shape else math.nan
            weight = entry["weight_norm"]
            entry["update_ratio"] = (delta / weight if weight > 0
                                     else (0.0 if delta == 0 else math.inf))
        for name, active in self._now.pop("active", {}).items():
            self.active.setdefault(name, []).append(active)
        if self.records:  # histograms are kept for the latest record only (bounded memory)
            for entry in (*self.records[-1]["layers"].values(),
                          *self.records[-1]["params"].values()):
                entry.pop("hist", None)
        self.records.append({"step": s.step, "loss": loss, "lr": float(s.record.get("lr", 0)),
                             **self._now})
        self._finish_step()

    def on_epoch_end(self, trainer):
        keep = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
        self.epochs.append({k: trainer.state.epoch_record[k] for k in keep
                            if k in trainer.state.epoch_record})

    def on_exception(self, trainer, exception):
        if type(exception).__name__ == "NonFiniteError" and self.nan_step is None:
            self.nan_step = trainer.state.step + 1  # NaNGuard stops before the step counts
        self._finish_step()

    def on_fit_end(self, trainer):
        self._finish_step()

    def _finish_step(self):
        for handle in self._handles:
            handle.remove()
        self._handles, self._now, self._before = [], None, {}

    # ----- what the records show -----
    def dead_fractions(self):
        """{ReLU layer: fraction of its units inactive on every monitored batch of the last
        half of the records}."""
        out = {}
        for name, masks in self.active.items():
            recent = masks[len(masks) // 2:]
            out[name] = float(1.0 - np.logical_or.reduce(recent).mean()) if recent else 0.0
        return out

    def findings(self, lr=None, suggested_lr=None):
        """The Findings these measurements support (for any training run): learning rate,
        gradients, activations, parameters that do not update, NaN, and overfitting across
        epochs (with validation). ``lr`` (default: the
        last record's) and ``suggested_lr`` (e.g. an lr range test's) shape the overrides."""
        from gradkit.doctor import rules

        lr = lr if lr is not None else (self.records[-1]["lr"] if self.records else None)
        found = []
        for rule in (rules.lr_rule, rules.gradient_rule, rules.activation_rule,
                     rules.update_rule, rules.nan_rule, rules.epoch_rule):
            found.extend(rule(self, lr=lr, suggested_lr=suggested_lr)[1])
        return found

    # ----- resume -----
    def state_dict(self):
        return {"every": self.every, "records": self.records, "epochs": self.epochs,
                "weights": self.weights, "trainable": self.trainable, "held": self.held,
                "losses": np.asarray(self.losses, dtype=np.float64),
                "nan_step": self.nan_step,
                "active": {k: np.stack(v) for k, v in self.active.items() if v}}

    def load_state_dict(self, state_dict):
        self.records = list(state_dict["records"])
        self.epochs = list(state_dict["epochs"])
        self.losses = [float(v) for v in np.asarray(state_dict["losses"])]
        self.nan_step = state_dict["nan_step"]
        self.weights, self.trainable, self.held = (list(state_dict[k]) for k in
                                                   ("weights", "trainable", "held"))
        self.active = {k: list(np.asarray(v, dtype=bool)) for k, v in
                       state_dict["active"].items()}


# ----- the loss curve's shape (the notes' learning-rate plot) -----
# Calibrated on 300-step probes of healthy setups (spiral net with Adam 1e-3 and SGD 1.0,
# digits MLP relu/tanh with Adam 1e-3 and SGD 0.1+momentum, digits CNN, 6-layer ReLU MLP,
# LeNet-5 on MNIST-5k; 2-3 seeds each): peak/first <= 1.43, drop >= 0.53, jitter <= 0.04,
# rebound <= 0.012. Broken learning rates: peak/first >= 16 (too high); drop <= 0.06 or an
# end at chance (far too low); drop 0.14-0.16 on a straight curve, straight >= 0.58 (too
# low); healthy curves level off (straight <= 0.36, 0.59 for the digits CNN at drop 0.84).
EXPLODE = 4.0  # a loss above EXPLODE x the first loss is an explosion (healthy <= 1.43)
FLAT = 0.05  # a relative drop below this is flat (healthy >= 0.53)
SLOW = 0.3  # a drop below this on a still straight curve is too slow (lr 1e-3 SGD: 0.14-0.16)
STRAIGHT = 0.5  # second half's drop / first half's above this: not leveling off
JITTER = 0.15  # std of the loss around its trend / first loss above this (healthy <= 0.04)
REBOUND = 0.5  # losing more than this fraction of the gain again (healthy <= 0.012)
SHAPES = ("diverging", "oscillating", "flat", "too slow", "healthy")


def curve_shape(losses, chance=None):
    """(shape, features) of a per-step loss curve; shape is one of SHAPES, or None when the
    curve has fewer than 10 steps (and no NaN after a finite start) or starts non-finite.
    ``chance``: the loss of a uniform prediction (ln C), if
    known.

    Features: ``first`` loss (before any update), ``end`` (the mean of the last tenth),
    ``peak`` = max/first, ``drop`` = (first − end)/first, ``straight`` = the second half's
    drop / the first half's (of the moving average over a tenth of the steps), ``jitter`` =
    the std of the loss around that average in the second half / first, ``rebound`` =
    (end − lowest average) / (first − lowest). Rules, in order: a non-finite loss, a peak
    above EXPLODE that does not come back below half the first loss, or an end above 1.25 ×
    first: diverging; a peak above EXPLODE, jitter > JITTER, or (after a 10% gain) rebound >
    REBOUND: oscillating; drop < FLAT, or an end within FLAT of chance: flat; drop < SLOW
    and straight > STRAIGHT: too slow; else healthy."""
    v = np.asarray(losses, dtype=np.float64)
    if len(v) >= 2 and np.isfinite(v[0]) and not np.isfinite(v).all():
        return "diverging", {"first": float(v[0]),
                             "nonfinite_at": int(np.argmin(np.isfinite(v))) + 1}
    if len(v) < 10 or not np.isfinite(v).all():
        return None, {"steps": int(len(v))}
    first = float(v[0])
    k = max(3, len(v) // 10)
    avg = np.convolve(v, np.ones(k) / k, mode="valid")
    end, low, mid = float(avg[-1]), float(avg.min()), len(avg) // 2
    scale = abs(first) if first else 1.0
    d1, d2 = avg[0] - avg[mid], avg[mid] - avg[-1]
    f = {"first": first, "end": end, "peak": float(v.max()) / scale,
         "drop": (first - end) / scale, "straight": float(d2 / d1) if d1 > 0 else math.inf,
         "jitter": float((v[k - 1:] - avg)[mid:].std()) / scale,
         "rebound": (end - low) / (first - low) if first - low > 0.1 * scale else 0.0}
    exploded = f["peak"] > EXPLODE
    if (exploded and end > 0.5 * first) or end > 1.25 * first:
        return "diverging", f
    if exploded or f["jitter"] > JITTER or f["rebound"] > REBOUND:
        return "oscillating", f
    if f["drop"] < FLAT or (chance is not None and end > (1 - FLAT) * chance):
        return "flat", f
    if f["drop"] < SLOW and f["straight"] > STRAIGHT:
        return "too slow", f
    return "healthy", f
