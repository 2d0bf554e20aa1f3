"""The rules that turn a Monitor's measurements into Findings, with their thresholds, each
calibrated on healthy 300-step probe runs (the comment above a threshold gives the healthy
range and what broken setups measured; the rule sentence registered with the code repeats
it for the docs table).

A rule is ``rule(monitor, lr=None, suggested_lr=None, chance=None) -> (CheckResult,
[Finding])``: ``lr`` and ``suggested_lr`` (e.g. the lr range test's) shape the overrides,
``chance`` is the loss of a uniform prediction (ln C for cross-entropy) when known.
``fit_rule`` reads the probe's train/validation evaluations instead.

    result, findings = rules.lr_rule(monitor, lr=1e-3)
"""

import math

import numpy as np

from gradkit.doctor.findings import CheckResult, Finding, register_code
from gradkit.doctor.monitor import curve_shape

# ----- thresholds: healthy ranges measured on the setups listed in monitor.py's curve notes --
# update/weight ratio, median over the weights' second half of records: healthy 1.1e-3 to
# 6.3e-3 (Adam 1e-3, SGD 0.1-1.0); lr 10-100x too low: 1.3e-5 to 1.5e-4.
RATIO_LOW = 4e-4
# a first update above BIG_FIRST_STEP of the weights' norm (healthy: up to 0.3, the spiral
# net with SGD lr 1.0) followed by a standstill (every weight's ratio below STOPPED; healthy
# runs never go below 1e-4) is a learning rate that killed the network.
BIG_FIRST_STEP, STOPPED = 0.1, 1e-7
# ‖g‖ of the first layer's weights / the last layer's, median over records: healthy 0.015
# (LeNet-5 conv1, at step 1) to 2.5; 8 sigmoid layers: 8e-5.
VANISHING = 1e-3
EXPLODING = 1e3  # the same ratio, or the growth of the total ‖g‖ (healthy <= 10)
# dead ReLU units (inactive on every monitored batch of the second half): healthy <= 0.28
# (a 6-layer ReLU MLP), lr 100x too high or a bias of -20: 0.8-1.0.
DEAD = 0.5
# saturated tanh/sigmoid outputs, median over records: healthy tanh MLP <= 0.002; weights
# x8: 0.59-0.64.
SATURATED = 0.2
# generalization: accuracy gap beyond two standard errors of the val accuracy plus GAP, with
# the val loss up by RISE from its lowest (healthy: gap <= 0.06 at 60 val samples, val loss
# up <= 7%); fit: more than halfway from chance to 100% (FIT); learned: train accuracy LEARNED
# above chance (shuffled digits labels, 100-200 samples: 0.31-0.77 above; val within 3 standard
# errors of chance, where every healthy run is far above it).
GAP, RISE, FIT, PLATEAU, LEARNED = 0.03, 0.05, 0.5, 0.05, 0.2

register_code("lr_too_high", "error",
              "the loss curve diverges (NaN, or a peak above 4x the first loss; healthy <= "
              "1.43x) or oscillates (jitter > 0.15 of the first loss; healthy <= 0.04), or "
              f"a first update above {BIG_FIRST_STEP:g} of the weights' norm stops training "
              f"(later ratios < {STOPPED:g}); or (lr range test) the configured lr is at or "
              "above the lr where the sweeps blew up (healthy: >= 3.9x below it)")
register_code("lr_too_low", "warning",
              "the loss curve is flat or too slow and even the fastest-moving weight's "
              f"update/weight ratio is below {RATIO_LOW:g} (healthy >= 1.1e-3; the notes' "
              "~1e-3); or (lr range test) the configured lr is more than 300x below the "
              "suggestion (healthy: 0.1-72x)")
register_code("exploding_gradients", "error",
              "a non-finite gradient under a finite loss, or the first layer's gradient norm "
              f"over the last layer's (or its growth in training) above {EXPLODING:g} "
              "(healthy <= 10)")
register_code("vanishing_gradients", "warning",
              "the first layer's gradient norm over the last layer's below "
              f"{VANISHING:g} (healthy >= 0.015)")
register_code("dead_relu", "warning",
              f"more than {DEAD:.0%} of a ReLU layer's units inactive on every monitored "
              "batch of the probe's second half (healthy <= 28%)")
register_code("saturated_activations", "warning",
              f"more than {SATURATED:.0%} of a tanh/sigmoid layer's outputs with |tanh| > "
              "0.99 or sigmoid outside (0.01, 0.99) (healthy <= 0.2%)")
register_code("nan_loss", "error", "the probe's loss became NaN or infinite (the step is given)")
register_code("overfitting", "warning",
              "train accuracy above validation accuracy by more than 2 standard errors + "
              f"{GAP:g}, with the validation loss {RISE:.0%} above its lowest (regression: "
              "validation loss above 2x train loss and rising)")
register_code("underfitting", "warning",
              f"train accuracy less than {FIT:.0%} of the way from chance to 100% "
              f"(regression: loss above half the first) and improving less than {PLATEAU:.0%} "
              "over the probe's last quarter")
register_code("no_learnable_signal", "warning",
              f"train accuracy more than {LEARNED:g} above chance (the commonest class) "
              "while validation accuracy stays within 3 standard errors of chance")


def layer_of(param_name):
    """The module name of a parameter name ('features.0.weight' -> 'features.0')."""
    return param_name.rsplit(".", 1)[0] if "." in param_name else ""


def _median(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(values)) if values else None


def _round(value, digits=4):
    return None if value is None else round(float(value), digits)


def _ratios(monitor):
    """{weight name: median update/weight ratio over the second half of the records}."""
    recent = monitor.records[len(monitor.records) // 2:]
    out = {}
    for name in monitor.weights:
        value = _median([r["params"].get(name, {}).get("update_ratio") for r in recent])
        if value is not None:
            out[name] = value
    return out


def _lr_fix(lr, factor, suggested_lr=None):
    if lr is None:
        return {}
    value = suggested_lr if suggested_lr is not None else lr * factor
    return {"optimizer.lr": float(f"{value:.3g}")}


def _need_records(monitor):
    if not monitor.records:
        return CheckResult("skip", note="no monitored step (the run had no step)")
    return None


def lr_rule(monitor, lr=None, suggested_lr=None, chance=None):
    """lr_too_high from a diverging or oscillating loss curve, or from a flat one after a
    first update above BIG_FIRST_STEP of the weights' norm that left them standing still;
    lr_too_low from a flat or too slow curve whose fastest weight moves by less than
    RATIO_LOW of its norm per step. A curve whose very first loss is not finite is the
    data's problem (bad_input_values), not the learning rate's."""
    shape, features = curve_shape(monitor.losses, chance)
    if shape is None:
        return CheckResult("skip", note=f"only {len(monitor.losses)} steps: a curve needs "
                                        "10"), []
    ratios = _ratios(monitor) if monitor.records else {}
    fastest = max(ratios.values(), default=None)
    evidence = {"shape": shape, **{k: round(v, 4) if isinstance(v, float) else v
                                   for k, v in features.items()}}
    if fastest is not None:
        evidence["max_update_ratio"] = fastest
    if lr is not None:
        evidence["lr"] = lr
    result = CheckResult("pass" if shape == "healthy" else "fail", shape, "healthy",
                         f"fastest weight's update/weight ratio {fastest:.2g} (notes: ~1e-3)"
                         if fastest is not None else "")
    first_ok = math.isfinite(features.get("first", math.nan))
    early = _median([monitor.records[0]["params"].get(n, {}).get("update_ratio")
                     for n in monitor.weights]) if monitor.records else None
    if (shape in ("flat", "too slow") and fastest is not None and fastest < STOPPED
            and early is not None and early > BIG_FIRST_STEP):
        evidence["first_update_ratio"] = early
        return result, [Finding(
            "lr_too_high", "error", "the first steps were so large that training stopped",
            evidence, f"The first update moved the weights by {early:.2g} of their norm "
            "(cs231n: ~1e-3 is healthy); after it nothing moves any more: the units died "
            "(see dead_relu) and the loss is stuck.", "Lower the learning rate (by 10x, or "
            "to the lr range test's suggestion).", _lr_fix(lr, 0.1, suggested_lr))]
    if shape in ("diverging", "oscillating") and first_ok:
        high = shape == "diverging"
        return result, [Finding(
            "lr_too_high", "error" if high else "warning",
            f"the loss {'diverges' if high else 'oscillates'}: the learning rate is too high",
            evidence, "The notes' learning-rate plot: a very high rate makes the loss explode; "
            "a high one makes it bounce around instead of settling (steps overshoot the "
            "valley).", "Lower the learning rate (by 10x, or to the lr range test's "
            "suggestion), or clip the gradients.", _lr_fix(lr, 0.1, suggested_lr))]
    if shape in ("flat", "too slow") and fastest is not None and 0 < fastest < RATIO_LOW:
        return result, [Finding(
            "lr_too_low", "warning", f"the loss is {shape}: the learning rate is too low",
            evidence, "cs231n: the update/weight ratio should be around 1e-3; far below it "
            "the weights barely move and the loss creeps down linearly (the notes' low "
            "learning-rate curve).", "Raise the learning rate (by 10x, or to the lr range "
            "test's suggestion).", _lr_fix(lr, 10.0, suggested_lr))]
    return result, []


def gradient_rule(monitor, lr=None, suggested_lr=None, chance=None):
    """exploding_gradients / vanishing_gradients: the first layer's weight-gradient norm
    against the last layer's (and the growth of the total norm, and non-finite gradients)."""
    skip = _need_records(monitor)
    if skip:
        return skip, []
    weights = [n for n in monitor.weights if any(
        r["params"].get(n, {}).get("grad_norm") for r in monitor.records)]
    bad = [(r["step"], r["nonfinite"]["grads"]) for r in monitor.records
           if r["nonfinite"]["grads"] and math.isfinite(r["loss"])]
    if len(weights) < 2 and not bad:
        return CheckResult("skip", note="fewer than two weight layers receive gradients"), []
    first, last = (weights[0], weights[-1]) if len(weights) >= 2 else (bad[0][1][0],) * 2
    ratio = _median([r["params"][first]["grad_norm"] / r["params"][last]["grad_norm"]
                     for r in monitor.records
                     if r["params"].get(first, {}).get("grad_norm") is not None
                     and r["params"].get(last, {}).get("grad_norm")])
    totals = [t for t in (sum(e["grad_norm"] or 0.0 for e in r["params"].values())
                          for r in monitor.records) if math.isfinite(t)]
    growth = (max(totals) / totals[0]) if totals and totals[0] > 0 else None
    evidence = {"first_layer": layer_of(first), "last_layer": layer_of(last),
                "first_over_last": ratio, "norm_growth": growth}
    result = CheckResult("pass", ratio, f"between {VANISHING:g} and {EXPLODING:g}",
                         f"layer {layer_of(first) or first!r} against {layer_of(last) or last!r}")
    explanation = ("cs231n/d2l: backpropagation multiplies the gradient by every layer's "
                   "Jacobian; when those shrink or grow it, the first layers' gradients "
                   "vanish or explode, and those layers stop learning or blow up.")
    if bad or (ratio is not None and ratio > EXPLODING) or (growth or 0) > EXPLODING:
        result.status = "fail"
        if bad:
            evidence.update(nonfinite_step=bad[0][0], nonfinite_params=bad[0][1][:5])
        return result, [Finding(
            "exploding_gradients", "error", "the gradients explode", evidence, explanation,
            "Clip the gradients (GradientClipping), lower the learning rate, or use a "
            "normalization layer (BatchNorm) and a smaller initial scale.",
            _lr_fix(lr, 0.1, suggested_lr), layer_of(bad[0][1][0] if bad else first) or None)]
    if ratio is not None and ratio < VANISHING:
        result.status = "fail"
        return result, [Finding(
            "vanishing_gradients", "warning",
            f"the gradients vanish: layer {layer_of(first)!r} gets {ratio:.2g} of the last "
            "layer's gradient", evidence, explanation + " Sigmoid/tanh derivatives (at most "
            "0.25 and 1) make this worse with every layer.",
            "Use ReLU activations with He initialization, add BatchNorm or residual "
            "connections, or make the network shallower.", {}, layer_of(first) or None)]
    return result, []


def activation_rule(monitor, lr=None, suggested_lr=None, chance=None):
    """dead_relu (units never active in the second half) and saturated_activations
    (tanh/sigmoid outputs at their flat ends), naming the worst layer."""
    skip = _need_records(monitor)
    if skip:
        return skip, []
    dead = monitor.dead_fractions()
    saturated = {}
    for r in monitor.records:
        for name, stats in r["layers"].items():
            if "saturated" in stats:
                saturated.setdefault(name, []).append(stats["saturated"])
    saturated = {k: _median(v) for k, v in saturated.items()}
    if not dead and not saturated:
        return CheckResult("skip", note="no ReLU, tanh or sigmoid layer to watch"), []
    worst_dead = max(dead, key=dead.get, default=None)
    worst_sat = max(saturated, key=saturated.get, default=None)
    value = {"dead": _round(dead.get(worst_dead)), "saturated": _round(saturated.get(worst_sat))}
    result = CheckResult("pass", value, {"dead": f"<= {DEAD:g}", "saturated":
                                         f"<= {SATURATED:g}"})
    found = []
    if worst_dead is not None and dead[worst_dead] > DEAD:
        first_ratio = _median([r["params"][n].get("update_ratio") for n in monitor.weights
                               for r in monitor.records[:1] if n in r["params"]])
        high = first_ratio is not None and first_ratio > BIG_FIRST_STEP
        cause = (f"the first step moved the weights by {first_ratio:.2g} of their norm (the "
                 "learning rate is too high)" if high else
                 "the units' inputs are negative for every sample (a bad initialization or "
                 "bias, or a large update)")
        found.append(Finding(
            "dead_relu", "warning",
            f"{dead[worst_dead]:.0%} of the ReLU units of {worst_dead!r} are dead",
            {"layer_fractions": {k: round(v, 3) for k, v in dead.items()},
             "first_update_ratio": first_ratio},
            "cs231n: a ReLU unit whose input is negative for every sample gets no gradient "
            f"and never recovers; here {cause}.",
            "Lower the learning rate, use He initialization with zero biases, or "
            "LeakyReLU.", _lr_fix(lr, 0.1, suggested_lr) if high else {}, worst_dead))
    if worst_sat is not None and saturated[worst_sat] > SATURATED:
        found.append(Finding(
            "saturated_activations", "warning",
            f"{saturated[worst_sat]:.0%} of the outputs of {worst_sat!r} are saturated",
            {"layer_fractions": {k: round(v, 3) for k, v in saturated.items()}},
            "cs231n: a saturated tanh or sigmoid unit has a gradient near 0, so it, and the "
            "layers before it, stop learning; large initial weights or unscaled inputs "
            "cause it.", "Scale the initial weights down (Xavier/He initialization), "
            "standardize the inputs, or use ReLU.", {}, worst_sat))
    result.status = "fail" if found else "pass"
    return result, found


def update_rule(monitor, lr=None, suggested_lr=None, chance=None):
    """parameters_not_updating: a trainable parameter the optimizer holds that moved by
    exactly 0 on every monitored step (frozen or unheld ones are the static check's)."""
    skip = _need_records(monitor)
    if skip:
        return skip, []
    watched = [n for n in monitor.trainable if n in monitor.held]
    if monitor.nan_step is not None:
        return CheckResult("skip", note=f"the loss was not finite at step "
                                        f"{monitor.nan_step}"), []
    explained = any(v >= 0.99 for v in monitor.dead_fractions().values())
    stuck = []  # (name, why)
    for name in watched:
        entries = [r["params"][name] for r in monitor.records if name in r["params"]]
        if not entries or any(e.get("update_ratio") != 0 for e in entries):
            continue
        if all(e["grad_norm"] is None for e in entries):
            stuck.append((name, "no gradient reaches it (the graph is cut: a .detach(), a "
                                "NumPy round trip, or it is not used in forward)"))
        elif all(not e["grad_norm"] for e in entries):
            if not explained:  # a layer of dead ReLUs zeroes the gradients before it
                stuck.append((name, "its gradient is exactly zero"))
        else:
            stuck.append((name, "it has a gradient but the optimizer does not move it "
                                "(a learning rate of 0 in its group?)"))
    result = CheckResult("fail" if stuck else "pass", len(stuck), 0,
                         f"{len(watched)} trainable parameters watched")
    if not stuck:
        return result, []
    names = [n for n, _ in stuck]
    return result, [Finding(
        "parameters_not_updating", "error",
        f"{len(names)} parameter(s) never change, first {names[0]!r}: {stuck[0][1]}",
        {"parameters": names[:10], "why": {n: why for n, why in stuck[:10]}},
        "A parameter that never moves is a bug in the model's wiring: the optimizer holds "
        "it, but backpropagation never delivers a gradient to it.",
        "Make sure the parameter is used in forward() on Tensors (no .detach(), .numpy() or "
        "._data in the path), or remove it.", {}, layer_of(names[0]) or None)]


def nan_rule(monitor, lr=None, suggested_lr=None, chance=None):
    """nan_loss: the first step whose loss is NaN or infinite."""
    if monitor.nan_step is None:
        return CheckResult("pass", "finite", "finite", f"{len(monitor.losses)} steps"), []
    step = monitor.nan_step
    finite = [v for v in monitor.losses if math.isfinite(v)]
    evidence = {"step": step, "last_finite_loss": finite[-1] if finite else None,
                "first_loss": monitor.losses[0] if monitor.losses else None}
    at_once = step <= 1
    return CheckResult("fail", f"non-finite at step {step}", "finite"), [Finding(
        "nan_loss", "error", f"the loss became {'NaN' if at_once else 'non-finite'} at step "
        f"{step}", evidence, "A NaN loss poisons every weight it touches. At the very first "
        "step it comes from the data or the model (NaN/Inf inputs, log of 0); later it is "
        "usually a learning rate so high that the weights overflow.",
        "Check the inputs for NaN/Inf (see bad_input_values)" if at_once else
        "Lower the learning rate (by 10x), or clip the gradients.",
        {} if at_once else _lr_fix(lr, 0.1, suggested_lr))]


# ----- fit and generalization (needs the probe's evaluations) -----
def _se(p, n):
    return math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))


def fit_rule(evals, classification, sizes, chance, shape="healthy"):
    """overfitting / underfitting / no_learnable_signal from the probe's evaluations:
    ``evals`` as in Probe, ``sizes`` {"train", "val"} samples evaluated, ``chance``
    {"train", "val"} accuracy of the best constant prediction (the commonest class),
    ``shape`` the loss curve's (underfitting needs a healthy one that levels off: a curve
    that is too slow or oscillates points at the learning rate instead)."""
    loss = evals.get("train_loss", [])
    if len(loss) < 3 or not all(map(math.isfinite, loss)):
        return CheckResult("skip", note="the probe's train loss is not finite"), []
    last_quarter = (loss[-2] - loss[-1]) / max(abs(loss[-2]), 1e-12)
    has_val = "val_loss" in evals
    found, value = [], {"train_loss": loss[-1], "last_quarter_gain": round(last_quarter, 4)}
    if classification:
        tr, ct = evals["train_accuracy"][-1], chance["train"]
        fit = (tr - ct) / max(1 - ct, 1e-12)
        value.update(train_accuracy=tr, fit=round(fit, 3))
    else:
        fit = (loss[0] - loss[-1]) / max(abs(loss[0]), 1e-12)
    if has_val:
        vloss = evals["val_loss"]
        value["val_loss"] = vloss[-1]
        rising = vloss[-1] > (1 + RISE) * min(vloss)
        if classification:
            va, cv = evals["val_accuracy"][-1], chance["val"]
            value["val_accuracy"] = va
            band = cv + 3 * _se(cv, sizes["val"])
            gap = tr - va
            if tr > ct + max(LEARNED, 3 * _se(ct, sizes["train"])) and va <= band:
                found.append(Finding(
                    "no_learnable_signal", "warning",
                    f"training fits ({tr:.0%}) but validation stays at chance ({va:.0%})",
                    {"train_accuracy": tr, "val_accuracy": va, "chance": cv,
                     "chance_band": round(band, 4)},
                    "Karpathy's recipe: a model that learns the training set but nothing "
                    "that carries over has memorized noise: the labels do not follow from "
                    "the inputs (shuffled or misaligned labels, or a different input "
                    "pipeline for validation).",
                    "Check that x and y are paired correctly (shuffle them together) and that "
                    "validation goes through the same preprocessing.", {}))
            elif gap > 2 * _se(va, sizes["val"]) + GAP and rising:
                found.append(_overfitting({"train_accuracy": tr, "val_accuracy": va,
                                           "gap": round(gap, 4), "val_loss": vloss[-1],
                                           "lowest_val_loss": min(vloss)}))
        elif vloss[-1] > 2 * loss[-1] and rising:
            found.append(_overfitting({"train_loss": loss[-1], "val_loss": vloss[-1],
                                       "lowest_val_loss": min(vloss)}))
    if not found and fit < FIT and last_quarter < PLATEAU and shape == "healthy":
        found.append(Finding(
            "underfitting", "warning",
            "the training loss levels off at a poor value",
            {**value, "fit_threshold": FIT, "plateau_threshold": PLATEAU},
            "d2l: when the training error itself stays high and stops improving, the model "
            "is too simple (or too regularized) for the data: more steps will not help.",
            "Use a bigger model (wider or deeper layers), weaken the regularization, or "
            "check the features.", {}))
    result = CheckResult("fail" if found else "pass", value, None,
                         "" if has_val else "no validation data: only the fit is checked")
    return result, found


def epoch_rule(monitor, lr=None, suggested_lr=None, chance=None):
    """overfitting in a longer run, from its epoch records: the validation loss RISE above
    its lowest while the training loss kept falling, and train accuracy above validation
    accuracy by more than GAP (the epoch's train accuracy lags the model, so the gap is
    understated: the rule errs towards silence)."""
    epochs = [e for e in monitor.epochs if "val_loss" in e and "train_loss" in e]
    if len(epochs) < 3:
        return CheckResult("skip", note="fewer than 3 validated epochs"), []
    vloss = [e["val_loss"] for e in epochs]
    best = int(np.argmin(vloss))
    last = epochs[-1]
    gap = last.get("train_accuracy", 0.0) - last.get("val_accuracy", 0.0)
    rising = vloss[-1] > (1 + RISE) * vloss[best] and last["train_loss"] < epochs[best][
        "train_loss"]
    wide = gap > GAP if "val_accuracy" in last else last["val_loss"] > 2 * last["train_loss"]
    result = CheckResult("fail" if rising and wide else "pass", vloss[-1] / vloss[best],
                         f"<= {1 + RISE:g}")
    if result.status == "pass":
        return result, []
    return result, [_overfitting({"best_epoch": epochs[best]["epoch"],
                                  "lowest_val_loss": vloss[best], "val_loss": vloss[-1],
                                  "train_loss": last["train_loss"], "gap": round(gap, 4)})]


def _overfitting(evidence):
    return Finding(
        "overfitting", "warning", "the model overfits: validation gets worse while training "
        "improves", evidence, "cs231n: a growing gap between training and validation "
        "accuracy, with the validation loss turning up, means the model memorizes the "
        "training set.", "Add regularization (weight decay, dropout, augmentation), get more "
        "data, or stop earlier.", {"optimizer.weight_decay": 5e-4})
