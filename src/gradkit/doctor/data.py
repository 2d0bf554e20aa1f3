"""The doctor's data checks (family "data"): what the inputs and labels look like before any
training, measured on the arrays themselves and on one forward pass of a model copy.

    input_values       bad_input_values        NaN/Inf in x (train or validation), non-float x
    input_scale        input_not_normalized    per-channel mean/std far from 0/1 (0-255 pixels)
    labels             label_mismatch          labels out of the output's range, class counts,
                                               float labels for cross-entropy, shapes
    class_balance      class_imbalance         largest / smallest class count
    output_kind        probabilities_as_logits outputs already probabilities fed to a loss that
                                               takes logits (a Softmax/Sigmoid last layer)
    train_val_overlap  data_leakage            validation samples identical to training ones
    validation_set     no_validation_set       no validation data was given

Thresholds were calibrated on healthy setups (the spiral, digits and MNIST-5k as gradkit ships
them, MNIST-1D; several seeds): the healthy ranges are in the comments and in each code's rule.
``loss_kind(loss_fn)`` (what a loss expects: logits, probabilities, scores...) is shared with
the before-training checks. A check reads a Setup and returns what it measured and found:

    from gradkit.doctor import data
    from gradkit.doctor.setup import Setup
    result, findings = data.input_scale(Setup(model, (x, y)))
    result.value          # the largest channel's max(|mean|, std)
    findings[0].overrides # {"preprocessing.name": "standardize"} when it is too large
"""

import numpy as np

from gradkit.autograd import no_grad
from gradkit.doctor.findings import CheckResult, Finding, register_code
from gradkit.doctor.registry import check
from gradkit.nn import functional as F
from gradkit.nn import loss as nn_loss

# Healthy inputs: per-channel max(|mean|, std) 0.31..1.12 (MNIST-5k and digits in [0, 1],
# flattened or not, the spiral, MNIST-1D, standardized data); raw 8-bit MNIST: 78.5.
SCALE_WARN = 5.0  # max(|mean|, std) of a channel above this: warning
SCALE_INFO = 2.0  # ... above this (and ≤ SCALE_WARN): info
TINY_WARN = 0.01  # every channel's std and |mean| below this: inputs crushed towards 0
SPREAD_WARN = 100.0  # 2-D features: the largest feature std / the median one
IMBALANCE_WARN = 10.0  # largest class count / smallest; healthy data sets: 1.0..1.1
IMBALANCE_INFO = 3.0
LEAK_WARN = 0.01  # fraction of validation samples found in the training set
STATS_SAMPLES = 10000  # samples used for input statistics (a seeded subset beyond this)

register_code("bad_input_values", "error",
              "x has NaN or Inf values (any count), or is not floating point")
register_code("input_not_normalized", "warning",
              f"a channel's max(|mean|, std) > {SCALE_WARN:g} (warning; > {SCALE_INFO:g}: info), "
              f"all stds < {TINY_WARN:g}, or 2-D feature stds differ by > {SPREAD_WARN:g}x "
              "(healthy: 0.31..1.12)")
register_code("label_mismatch", "error",
              "labels outside [0, C) of the model's C outputs, float labels for a loss that "
              "takes class indices, a target shape that the loss cannot take (error); fewer "
              "classes in the labels than outputs (warning)")
register_code("class_imbalance", "warning",
              f"largest / smallest class count > {IMBALANCE_WARN:g} (warning; > "
              f"{IMBALANCE_INFO:g}: info; healthy: 1.0..1.1)")
register_code("probabilities_as_logits", "error",
              "a loss that takes logits gets outputs already in [0, 1] whose rows sum to 1 "
              "(|sum - 1| < 1e-4; a Softmax last layer), or all in (0, 1) for a logits loss of "
              "sigmoids")
register_code("data_leakage", "warning",
              f"more than {LEAK_WARN:.0%} of the validation samples are exact copies of "
              "training samples (hash of each row; any copy: info)")
register_code("no_validation_set", "info", "no validation data was given")

_LOGIT_LOSSES = {F.cross_entropy: "cross_entropy", F.binary_cross_entropy_with_logits:
                 "bce_logits", F.multiclass_hinge_loss: "hinge", F.multi_margin_loss:
                 "multi_margin", F.nll_loss: "nll", F.binary_cross_entropy: "bce",
                 F.mse_loss: "regression", F.l1_loss: "regression", F.huber_loss: "regression",
                 F.smooth_l1_loss: "regression"}
_LOSS_MODULES = {nn_loss.CrossEntropyLoss: "cross_entropy", nn_loss.BCEWithLogitsLoss:
                 "bce_logits", nn_loss.MultiClassHingeLoss: "hinge", nn_loss.MultiMarginLoss:
                 "multi_margin", nn_loss.NLLLoss: "nll", nn_loss.BCELoss: "bce",
                 nn_loss.MSELoss: "regression", nn_loss.L1Loss: "regression",
                 nn_loss.HuberLoss: "regression", nn_loss.SmoothL1Loss: "regression"}
CLASS_INDEX_LOSSES = ("cross_entropy", "hinge", "multi_margin", "nll")


def loss_kind(loss_fn):
    """What ``loss_fn`` is: 'cross_entropy' (softmax of logits), 'nll' (log-probabilities),
    'hinge' (the notes' multiclass SVM), 'multi_margin', 'bce_logits', 'bce'
    (probabilities), 'regression' (MSE, L1, Huber), or None (a loss the doctor does not know)."""
    if loss_fn in _LOGIT_LOSSES:
        return _LOGIT_LOSSES[loss_fn]
    for cls, kind in _LOSS_MODULES.items():
        if isinstance(loss_fn, cls):
            return kind
    return None


def _all_splits(setup):
    yield "train", setup.x, setup.y
    if setup.x_val is not None:
        yield "validation", setup.x_val, setup.y_val


@check("input_values", "data")
def input_values(setup):
    """NaN/Inf values and the dtype of the inputs (train and validation)."""
    findings, bad = [], {}
    for split, x, _ in _all_splits(setup):
        if x.dtype.kind not in "fc":
            findings.append(Finding(
                "bad_input_values", "error", f"the {split} inputs are {x.dtype}, not floating "
                "point", {"split": split, "dtype": str(x.dtype), "min": float(x.min()),
                          "max": float(x.max())},
                "Layers compute in floating point: integer inputs are cast on the fly or fail, "
                "and raw integer pixels are usually also unscaled (0-255).",
                "Convert the inputs to float32 and scale them (x.astype('float32') / 255 for "
                "8-bit pixels), then standardize.",
                {"preprocessing.name": "standardize"}))
            continue
        finite = np.isfinite(x.reshape(len(x), -1))
        rows = np.flatnonzero(~finite.all(axis=1))
        if len(rows):
            nan, inf = int(np.isnan(x).sum()), int(np.isinf(x).sum())
            bad[split] = nan + inf
            findings.append(Finding(
                "bad_input_values", "error", f"{len(rows)} {split} samples have NaN or Inf "
                "inputs", {"split": split, "nan_values": nan, "inf_values": inf,
                           "bad_samples": int(len(rows)), "first_bad_samples": rows[:5].tolist()},
                "One NaN input makes that sample's loss NaN, and through the mean the whole "
                "batch's loss and every gradient: training turns to NaN at the first such "
                "batch.", "Remove or impute the samples with missing values (e.g. replace NaN "
                "by the feature's training mean) before training."))
    if findings:
        return CheckResult("fail", bad or None, "finite floating-point inputs",
                           findings[0].title), findings
    return CheckResult("pass", 0, 0, "all inputs finite, floating point"), []


def channel_stats(x):
    """(means, stds) per channel: axis 1 of (N, C, ...) inputs, each feature of (N, D) ones,
    one channel for (N,); on at most STATS_SAMPLES samples (a fixed subset)."""
    if len(x) > STATS_SAMPLES:
        x = x[np.random.default_rng(0).choice(len(x), STATS_SAMPLES, replace=False)]
    x = x.astype(np.float64)
    if x.ndim == 1:
        x = x[:, None]
    axes = (0,) + tuple(range(2, x.ndim))
    return x.mean(axis=axes), x.std(axis=axes)


@check("input_scale", "data")
def input_scale(setup):
    """Per-channel mean and std of the training inputs against the 0/1 an init expects."""
    x = setup.x
    if x.dtype.kind not in "fc" or not np.isfinite(x).all():
        return CheckResult("skip", note="the inputs are not finite floats (see "
                                        "input_values)"), []
    means, stds = channel_stats(x)
    per_channel = np.maximum(np.abs(means), stds)
    worst = int(per_channel.argmax())
    scale = float(per_channel[worst])
    evidence = {"channels": int(len(means)), "worst_channel": worst,
                "mean": float(means[worst]), "std": float(stds[worst]),
                "min": float(x.min()), "max": float(x.max())}
    if len(means) <= 16:
        evidence["means"] = [round(float(m), 4) for m in means]
        evidence["stds"] = [round(float(s), 4) for s in stds]
    expected = f"|mean| and std <= {SCALE_INFO:g}"
    pixels = x.min() >= 0 and x.max() > 127 and x.max() <= 255 and np.all(x == np.round(x))
    why = ("Weight initializations (Xavier, He) assume inputs of mean 0 and variance 1: larger "
           "inputs scale up every pre-activation, saturate tanh/sigmoid units and make the "
           "initial logits and gradients large, so a learning rate that suits normalized data "
           "diverges. The notes: zero-center and scale each channel with statistics of the "
           "training set.")
    fix = ("Standardize each channel with the training set's mean and std (gradkit.data."
           "Standardize, or preprocessing: standardize in the run config)"
           + ("; the values look like raw 8-bit pixels: divide by 255 first." if pixels else "."))
    overrides = {"preprocessing.name": "standardize"}
    if scale > SCALE_INFO:
        severity = "warning" if scale > SCALE_WARN else "info"
        what = "raw 0-255 pixels" if pixels else f"channel {worst} has |mean| or std {scale:.3g}"
        finding = Finding("input_not_normalized", severity, f"the inputs are not normalized "
                          f"({what})", evidence, why, fix, overrides)
        return CheckResult("fail", scale, expected, finding.title), [finding]
    if scale < TINY_WARN:
        finding = Finding("input_not_normalized", "warning", f"the inputs are nearly zero "
                          f"(largest channel std {float(stds.max()):.3g})", evidence,
                          why.replace("larger inputs scale up", "tiny inputs scale down")
                          + " Inputs this small were probably scaled twice.", fix, overrides)
        return CheckResult("fail", scale, expected, finding.title), [finding]
    if x.ndim == 2 and len(stds) > 1:
        varying = stds[stds > 0]
        spread = float(varying.max() / np.median(varying)) if len(varying) else 1.0
        evidence["std_spread"] = spread
        if spread > SPREAD_WARN:
            feature = int(stds.argmax())
            finding = Finding(
                "input_not_normalized", "warning", f"the features are on different scales "
                f"(feature {feature}'s std is {spread:.3g}x the median)", evidence,
                "Features on very different scales make the loss surface elongated: one "
                "learning rate is too large along the wide features and too small along the "
                "others. Standardize each feature.", fix, overrides)
            return CheckResult("fail", spread, f"std spread <= {SPREAD_WARN:g}",
                               finding.title), [finding]
    return CheckResult("pass", scale, expected), []


def _probe_output(setup, n=64):
    """The outputs (ndarray) of a model copy in eval mode on the first ``n`` samples."""
    model = setup.copy_model()
    model.eval()
    with no_grad():
        return setup.forward(model, setup.x[:n])._data


@check("labels", "data")
def labels(setup):
    """The labels against the model's output and the loss: range, class count, dtype, shape."""
    kind = loss_kind(setup.loss_fn)
    findings = []
    out_shape = setup.output_shape
    for split, x, y in _all_splits(setup):
        for finding in _label_problems(split, y, out_shape, kind):
            same = [f for f in findings if f.severity == finding.severity]
            if same:  # the validation labels repeat the training labels' problem
                same[0].evidence["also_in_validation"] = True
            else:
                findings.append(finding)
    if not findings:  # a loss that still refuses the labels says why
        try:
            setup.loss(setup.copy_model(), setup.x[:8], setup.y[:8])
        except Exception as error:
            findings.append(Finding(
                "label_mismatch", "error", "the loss function refuses the labels",
                {"error": f"{type(error).__name__}: {error}", "y_dtype": str(setup.y.dtype),
                 "y_shape": list(setup.y.shape[1:]), "output_shape": list(out_shape)},
                "The loss must accept the model's output and the labels as the data gives "
                "them.", "Give labels in the form the loss expects (see its message)."))
    if findings:
        worst = "error" if any(f.severity == "error" for f in findings) else "warning"
        return CheckResult("fail", note=f"{len(findings)} problem(s), worst {worst}: "
                                        f"{findings[0].title}"), findings
    if setup.classification:
        present = int(len(np.unique(setup.y)))
        return CheckResult("pass", present, f"{setup.num_outputs} classes"), []
    return CheckResult("pass", note=f"targets {setup.y.dtype} {list(setup.y.shape[1:])}"), []


def _label_problems(split, y, out_shape, kind):
    evidence = {"split": split, "y_dtype": str(y.dtype), "y_shape": list(y.shape[1:]),
                "output_shape": list(out_shape)}
    if kind in CLASS_INDEX_LOSSES and y.ndim == 1:
        c = int(out_shape[0]) if out_shape else 1
        if y.dtype.kind == "f":
            whole = bool(np.all(y == np.round(y)))
            return [Finding(
                "label_mismatch", "error", f"the {split} labels are floats ({y.dtype}) but "
                f"{kind} takes class indices", evidence,
                f"{kind} reads each label as the index of the true class: it needs integers "
                "in [0, C).", "Convert the labels: y.astype('int64')" if whole else
                "These labels are not whole numbers: a regression target needs a regression "
                "loss (mse_loss), a class label an integer index.")]
        if y.dtype.kind not in "iu":
            return []
        lo, hi = int(y.min()), int(y.max())
        evidence.update(classes=c, min_label=lo, max_label=hi)
        if lo < 0 or hi >= c:
            return [Finding(
                "label_mismatch", "error", f"{split} labels run from {lo} to {hi} but the "
                f"model has {c} outputs", evidence,
                f"With C = {c} outputs the labels must be 0..{c - 1}: a label outside that "
                "range indexes a logit that does not exist (an error, or a silently wrong "
                "loss).", f"Give the output layer {hi + 1} units, or map the labels to "
                f"0..{c - 1} (e.g. 1..{c} labels: subtract 1).")]
        present = int(len(np.unique(y)))
        if split == "train" and present < c:
            evidence["classes_present"] = present
            return [Finding(
                "label_mismatch", "warning", f"the model has {c} outputs but the training "
                f"labels use {present} classes", evidence,
                "Outputs for classes that never occur only learn to be low; it usually means "
                "the output width or the label set is not the one intended.",
                f"Set the output layer to {present} units if only these classes exist, or "
                "check that the training data holds every class.")]
        return []
    if kind in ("regression", "bce", "bce_logits") and tuple(y.shape[1:]) != tuple(out_shape):
        return [Finding(
            "label_mismatch", "error", f"the {split} targets have shape {list(y.shape[1:])} "
            f"per sample but the model outputs {list(out_shape)}", evidence,
            "An element-wise loss compares each output with its target: with different shapes "
            "it broadcasts (N, 1) against (N,) into an (N, N) table and learns the wrong thing, "
            "or fails.", "Reshape the targets to the output's shape (y.reshape(-1, 1) or "
            "output.squeeze(1)).")]
    if kind in CLASS_INDEX_LOSSES and y.ndim == 2 and tuple(y.shape[1:]) != tuple(out_shape):
        return [Finding(
            "label_mismatch", "error", f"the {split} targets are {list(y.shape[1:])} per "
            f"sample but the model outputs {list(out_shape)}", evidence,
            "Class-probability targets need one column per output.",
            "Give class indices of shape (N,), or probabilities of the output's shape.")]
    return []


@check("class_balance", "data")
def class_balance(setup):
    """Training samples per class: the largest class count against the smallest."""
    if not setup.classification:
        return CheckResult("skip", note="not a classification setup"), []
    y = setup.y
    c = max(setup.num_outputs, int(y.max()) + 1)
    counts = np.bincount(y[y >= 0], minlength=c)[:c]
    present = counts[counts > 0]
    ratio = float(present.max() / present.min())
    evidence = {"counts": counts.tolist(), "ratio": ratio,
                "majority_fraction": float(present.max() / counts.sum()),
                "largest_class": int(counts.argmax()), "smallest_class":
                int(np.flatnonzero(counts == present.min())[0])}
    expected = f"ratio <= {IMBALANCE_INFO:g}"
    if ratio <= IMBALANCE_INFO:
        return CheckResult("pass", ratio, expected), []
    severity = "warning" if ratio > IMBALANCE_WARN else "info"
    finding = Finding(
        "class_imbalance", severity, f"the classes are imbalanced: the largest has {ratio:.3g}x "
        "the samples of the smallest", evidence,
        f"A model can reach {evidence['majority_fraction']:.0%} accuracy by always predicting "
        "the majority class, and a plain mean loss learns the rare classes slowly; accuracy "
        "alone then hides how the rare classes do.",
        "Weight the loss by inverse class frequency (cross_entropy(..., weight=...)) or "
        "oversample the rare classes (WeightedRandomSampler), and watch per-class recall.")
    return CheckResult("fail", ratio, expected, finding.title), [finding]


@check("output_kind", "data")
def output_kind(setup):
    """Whether the model's outputs are already probabilities while the loss takes logits."""
    kind = loss_kind(setup.loss_fn)
    if kind not in ("cross_entropy", "bce_logits"):
        return CheckResult("skip", note=f"the loss ({kind or 'unknown'}) does not take "
                                        "logits"), []
    out = _probe_output(setup).astype(np.float64)
    if not np.isfinite(out).all():
        return CheckResult("skip", note="the outputs are not finite"), []
    in_unit = bool(out.min() >= 0.0 and out.max() <= 1.0)
    sums = out.reshape(len(out), -1).sum(axis=1)
    evidence = {"min": float(out.min()), "max": float(out.max()),
                "row_sum_min": float(sums.min()), "row_sum_max": float(sums.max())}
    softmaxed = kind == "cross_entropy" and in_unit and bool(np.abs(sums - 1).max() < 1e-4)
    sigmoided = kind == "bce_logits" and in_unit and out.min() > 0 and out.max() < 1
    if not (softmaxed or sigmoided):
        return CheckResult("pass", [evidence["min"], evidence["max"]], "logits"), []
    last = _last_probability_layer(setup.model)
    what = "softmax" if softmaxed else "sigmoid"
    finding = Finding(
        "probabilities_as_logits", "error", f"the model outputs {what} probabilities but "
        f"{kind} expects logits", evidence,
        f"{kind} applies the {what} itself: applied twice, the outputs are squashed into "
        "[0, 1], the loss can barely fall below its starting value and the gradients shrink "
        "(the model seems not to learn).",
        f"Remove the final {last[1] if last else what} layer from the model (keep it for "
        "prediction only), or use nll_loss on log_softmax outputs.", {},
        last[0] if last else None)
    return CheckResult("fail", [evidence["min"], evidence["max"]], "logits",
                       finding.title), [finding]


def _last_probability_layer(model):
    """(name, class name) of the last Softmax/Sigmoid module, or None."""
    last = None
    for name, module in model.named_modules():
        if type(module).__name__ in ("Softmax", "Sigmoid") and name:
            last = (name, type(module).__name__)
    return last


def _row_keys(x):
    flat = np.ascontiguousarray(x.reshape(len(x), -1))
    return [row.tobytes() for row in flat]


@check("train_val_overlap", "data")
def train_val_overlap(setup):
    """Validation samples that are exact copies of training samples (hashing each row)."""
    if setup.x_val is None:
        return CheckResult("skip", note="no validation set"), []
    if setup.x_val.dtype != setup.x.dtype or setup.x_val.shape[1:] != setup.x.shape[1:]:
        return CheckResult("skip", note="train and validation inputs differ in dtype or "
                                        "shape"), []
    seen = {}
    for i, key in enumerate(_row_keys(setup.x)):
        seen.setdefault(key, i)
    copies = [(j, seen[key]) for j, key in enumerate(_row_keys(setup.x_val)) if key in seen]
    fraction = len(copies) / len(setup.x_val)
    expected = f"fraction <= {LEAK_WARN:g}"
    if not copies:
        return CheckResult("pass", 0.0, expected), []
    same_label = sum(bool(np.all(setup.y_val[j] == setup.y[i])) for j, i in copies)
    evidence = {"copies": len(copies), "fraction": fraction, "same_label": same_label,
                "examples": [{"val": j, "train": i} for j, i in copies[:5]]}
    severity = "warning" if fraction > LEAK_WARN else "info"
    finding = Finding(
        "data_leakage", severity, f"{len(copies)} validation samples ({fraction:.1%}) are "
        "copies of training samples", evidence,
        "A validation sample seen in training measures memory, not generalization: the "
        "validation score is optimistic and early stopping or model selection on it is "
        "biased.", "Remove duplicates before splitting (deduplicate by content), then split "
        "train and validation.")
    return CheckResult("fail", fraction, expected, finding.title), [finding]


@check("validation_set", "data")
def validation_set(setup):
    """Whether validation data was given (needed to tell overfitting from underfitting)."""
    if setup.x_val is not None:
        return CheckResult("pass", int(len(setup.x_val))), []
    finding = Finding(
        "no_validation_set", "info", "no validation set was given", {"train_samples":
                                                                     int(len(setup.x))},
        "Without held-out data the doctor cannot tell overfitting from underfitting or check "
        "that what the model learns generalizes.",
        "Pass val=... (e.g. gradkit.data.train_val_split of the training set).")
    return CheckResult("fail", note="no validation data"), [finding]
