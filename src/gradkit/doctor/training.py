"""The probe run and what it shows (family "monitor"): a copy of the model trained for
``setup.steps`` steps with the user's optimizer, batch size and loss, watched by a Monitor;
then the learning rate (the loss curve's shape and the update/weight ratios), the flow of
gradients, the activations (dead ReLUs, saturated units), parameters that never move, NaN,
and the fit (train against validation).

    probe = training.probe(setup)         # cached: setup.cache["probe"] (see Probe)
    result, findings = loss_curve(setup)   # a check: (CheckResult, [Finding])
    Monitor(every=50).findings()           # the same rules on any Monitor-watched training

The rules and their calibrated thresholds are in ``doctor.rules`` (functions of a Monitor,
so that ``Monitor.findings()`` applies them to any training run); the checks here apply them
to the probe.

Figures (``setup.cache["figures"]``) the probe leaves for the HTML page:
``loss_curve`` {"step": [...], "loss": [...], "shape": str, "val": {"step", "loss",
"accuracy"}}; ``update_ratios`` {"step": [...], "layers": {layer: [...]}}; ``activations``
{layer: {"edges", "counts", "mean", "std"}} and ``gradients`` {layer: {"edges", "counts",
"norm"}} (the last monitored step); ``dead_units`` {layer: fraction}; ``first_layer``
{"weights": units × inputs (at most 64 units), "input_shape": [...]} for a first Linear or
Conv layer. Layers are module names (``features.0``); ratios and gradients are of weights.
"""


import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from gradkit import random as gk_random
from gradkit.data import DataLoader, TensorDataset
from gradkit.doctor.findings import CheckResult
from gradkit.doctor.monitor import Monitor, curve_shape
from gradkit.doctor.registry import check
from gradkit.doctor.rules import (activation_rule, fit_rule, gradient_rule, layer_of, lr_rule,
                                  nan_rule, update_rule)
from gradkit.nn import functional as F
from gradkit.train.callbacks.base import Callback
from gradkit.train.trainer import Trainer

EVAL_SAMPLES = 512  # train and validation samples evaluated at each of the probe's eval points
EVAL_POINTS = 4  # evaluations during the probe (plus one before the first step)
RECORDS = 12  # monitored steps in the probe (Monitor(every=steps // RECORDS))


@dataclass
class Probe:
    """The probe run, ``setup.cache["probe"]``: ``model`` the trained copy; ``monitor`` its
    Monitor (records, losses, nan_step); ``evals`` {"step", "train_loss", "train_accuracy",
    "val_loss", "val_accuracy"} lists (accuracy for classification, val for a val set) at
    step 0 and EVAL_POINTS evenly spaced steps, on ``sizes`` {"train", "val"} samples
    whose commonest class has the frequencies ``chance`` {"train", "val"}; ``shape`` the
    loss curve's (monitor.curve_shape); ``steps`` the steps run (fewer than asked when the
    loss stopped being finite); ``seconds``; ``error`` why the run could not be made (then
    everything else is empty)."""

    model: object = None
    monitor: Monitor = None
    evals: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    chance: dict = field(default_factory=dict)
    shape: str = None
    steps: int = 0
    seconds: float = 0.0
    error: str = None


class _Evaluator(Callback):
    """Evaluates a fixed train subset and the validation subset at the given steps."""

    def __init__(self, setup, at):
        self.setup, self.at = setup, set(at)
        rng = np.random.default_rng(setup.seed)
        n = min(EVAL_SAMPLES, len(setup.x))
        idx = np.sort(rng.choice(len(setup.x), n, replace=False))
        self.train = (setup.x[idx], setup.y[idx])
        self.val = None
        if setup.x_val is not None:
            m = min(EVAL_SAMPLES, len(setup.x_val))
            jdx = np.sort(rng.choice(len(setup.x_val), m, replace=False))
            self.val = (setup.x_val[jdx], setup.y_val[jdx])
        self.evals = {"step": []}
        parts = {"train": self.train, "val": self.val}
        self.sizes = {k: len(v[1]) for k, v in parts.items() if v is not None}
        self.chance = {k: _commonest(v[1]) for k, v in parts.items() if v is not None}

    def _evaluate(self, model, step):
        self.evals["step"].append(step)
        parts = [("train", self.train)] + ([("val", self.val)] if self.val else [])
        for part, (x, y) in parts:
            for key, value in self.setup.evaluate(model, x, y).items():
                self.evals.setdefault(f"{part}_{key}", []).append(float(value))

    def on_fit_start(self, trainer):
        self._evaluate(trainer.model, 0)

    def on_batch_end(self, trainer):
        s = trainer.state
        if s.step in self.at or trainer.should_stop:
            self._evaluate(trainer.model, s.step)


def _commonest(y):
    """The frequency of the commonest class (the accuracy of a constant prediction)."""
    if y.dtype.kind not in "iu" or y.ndim != 1:
        return None
    return float(np.bincount(y - y.min()).max() / len(y))


def probe(setup):
    """The probe run (cached in ``setup.cache["probe"]``): a copy of the model trained for
    ``setup.steps`` steps with the user's optimizer, batch size and loss through the Trainer,
    watched by a Monitor, without a NaNGuard (the Monitor stops it at the first non-finite
    loss, so the doctor sees the NaN itself)."""
    if "probe" in setup.cache:
        return setup.cache["probe"]
    started = time.perf_counter()
    steps = setup.steps
    model = setup.copy_model()
    monitor = Monitor(every=max(1, steps // RECORDS), stop_on_nan=True)
    at = sorted({max(1, round(steps * k / EVAL_POINTS)) for k in range(1, EVAL_POINTS + 1)})
    evaluator = _Evaluator(setup, at)
    loader = DataLoader(TensorDataset(setup.x, setup.y), batch_size=setup.batch_size,
                        shuffle=True, seed=setup.seed, prefetch=False)
    result = Probe(model=model, monitor=monitor)
    try:
        trainer = Trainer(model, setup.optimizer_for(model), loader, loss_fn=setup.loss_fn,
                          max_steps=steps, callbacks=[monitor, evaluator], nan_guard=False)
        with gk_random.fork_rng(setup.seed), np.errstate(all="ignore"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            trainer.fit()
        result.steps = trainer.state.step
        result.evals, result.sizes = evaluator.evals, evaluator.sizes
        result.chance = evaluator.chance
        result.shape = curve_shape(monitor.losses, _chance_loss(setup))[0]
        setup.cache.setdefault("figures", {}).update(figures(setup, result))
    except Exception as error:  # noqa: BLE001 (every monitor check says why it skipped)
        result = Probe(error=f"{type(error).__name__}: {error}")
    result.seconds = time.perf_counter() - started
    setup.cache["probe"] = result
    return result


# ----- figures for the HTML page -----
def figures(setup, result):
    """The probe's plot data (layouts in the module docstring)."""
    out = monitor_figures(result.monitor, result.model, setup.x.shape[1:])
    out["loss_curve"]["shape"] = result.shape
    if "val_loss" in result.evals:
        out["loss_curve"]["val"] = {"step": result.evals["step"],
                                    "loss": result.evals["val_loss"],
                                    "accuracy": result.evals.get("val_accuracy", [])}
    return out


def monitor_figures(monitor, model=None, sample_shape=None):
    """The plot data of any Monitor-watched run (the module docstring's layouts; the run
    report of ``gradkit train --monitor`` draws these): the loss curve with its shape, the
    update ratios per layer over time, the last monitored step's activation and gradient
    histograms, dead-unit fractions, and the first layer's weights when ``model`` is given.
    A loss curve's "val" comes from the epoch records when the run validated."""
    loss_curve = {"step": list(range(1, len(monitor.losses) + 1)),
                  "loss": list(monitor.losses), "shape": curve_shape(monitor.losses)[0]}
    epochs = [e for e in monitor.epochs if "val_loss" in e]
    if epochs:
        loss_curve["val"] = {"step": [e["step"] for e in epochs],
                             "loss": [e["val_loss"] for e in epochs],
                             "accuracy": [e.get("val_accuracy") for e in epochs]}
    records = monitor.records
    ratios = {"step": [r["step"] for r in records],
              "layers": {layer_of(n) or n: [r["params"].get(n, {}).get("update_ratio")
                                            for r in records] for n in monitor.weights}}
    last = records[-1] if records else {"layers": {}, "params": {}}
    activations = {name: {**s["hist"], "mean": s["mean"], "std": s["std"]}
                   for name, s in last["layers"].items() if "hist" in s}
    gradients = {layer_of(n) or n: {**last["params"][n]["hist"],
                                    "norm": last["params"][n]["grad_norm"]}
                 for n in monitor.weights if "hist" in last["params"].get(n, {})}
    out = {"loss_curve": loss_curve, "update_ratios": ratios, "activations": activations,
           "gradients": gradients, "dead_units": monitor.dead_fractions()}
    drawable = first_layer(model, sample_shape) if model is not None else None
    if drawable is not None:
        out["first_layer"] = drawable
    return out


def first_layer(model, sample_shape=None, units=64):
    """{"weights": units × inputs, "input_shape"} of the first Linear/Conv layer (the shape
    one unit's weights draw as: a conv filter's (C, kh, kw), or the sample's shape when a
    Linear layer reads the flattened sample), or None."""
    for _, module in model.named_modules():
        w = module._parameters.get("weight") if not module._modules else None
        if w is None or w.ndim < 2:
            continue
        data = w._data[:units]
        if data.ndim > 2:
            shape = list(data.shape[1:])
        elif sample_shape is not None and int(np.prod(sample_shape)) == data.shape[1]:
            shape = [int(d) for d in sample_shape]
        else:
            shape = [int(data.shape[1])]
        return {"weights": data.reshape(len(data), -1).astype(float).tolist(),
                "input_shape": shape}
    return None


# ----- the checks -----
def _chance_loss(setup):
    return setup.chance_loss() if setup.loss_fn is F.cross_entropy else None


def _probe_or_skip(setup):
    result = probe(setup)
    if result.error:
        return result, CheckResult("skip", note=f"the probe run failed: {result.error}")
    return result, None


def _monitor_check(rule, setup):
    result, skip = _probe_or_skip(setup)
    if skip:
        return skip, []
    return rule(result.monitor, lr=setup.lr, suggested_lr=setup.cache.get("lr_suggestion"),
                chance=_chance_loss(setup))


@check("loss_curve", "monitor")
def loss_curve(setup):
    """The probe's loss curve: diverging, oscillating, flat, too slow or healthy (lr)."""
    return _monitor_check(lr_rule, setup)


@check("gradient_flow", "monitor")
def gradient_flow(setup):
    """First against last layer's gradient norms: vanishing or exploding gradients."""
    return _monitor_check(gradient_rule, setup)


@check("activations", "monitor")
def activations(setup):
    """Dead ReLU units and saturated tanh/sigmoid units, per layer."""
    return _monitor_check(activation_rule, setup)


@check("parameter_updates", "monitor")
def parameter_updates(setup):
    """Trainable parameters that never move during the probe run."""
    result, found = _monitor_check(update_rule, setup)
    known = {name for f in setup.cache.get("findings", ()) if f.code == "parameters_not_updating"
             for name in f.evidence.get("parameters", ())}
    if found and set(found[0].evidence["parameters"]) <= known:
        result.note += "; all of them were reported before training (trainable_parameters)"
        return result, []
    return result, found


@check("non_finite_loss", "monitor")
def non_finite_loss(setup):
    """The step at which the probe's loss became NaN or infinite, if it did."""
    return _monitor_check(nan_rule, setup)


@check("generalization", "monitor")
def generalization(setup):
    """Train against validation at the end of the probe: over-/underfitting, no signal."""
    result, skip = _probe_or_skip(setup)
    if skip:
        return skip, []
    if result.shape in ("diverging", "flat"):
        return CheckResult("skip", note=f"the loss curve is {result.shape}: fix the "
                                        "training first"), []
    return fit_rule(result.evals, setup.classification, result.sizes, result.chance,
                    result.shape)
