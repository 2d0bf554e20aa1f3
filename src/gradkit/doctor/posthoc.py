"""``gradkit doctor RUN_DIR``: a diagnosis of a finished (or stopped) run from what its
folder holds, without training anything.

    report = doctor.posthoc.diagnose_run("runs/latest")
    print(report)                  # the same codes, checks table and text as examine's

Read: ``metrics.jsonl`` (step lines: the per-step ``loss``; epoch lines: ``train_loss``,
``train_accuracy``, ``val_loss``, ``val_accuracy``, ``lr``; see MetricsLogger) and
``config.yaml`` (the resolved run config: the number of classes, batch size, validation
share, and the optimizer's lr: the value an override changes, not the schedule's last lr).
The rules are the probe's (doctor.monitor.curve_shape and doctor.rules.fit_rule), applied
to the run's history:

* ``loss_curve``: the shape of the per-step training loss (the epoch means when the run
  logged no steps): diverging or oscillating → lr_too_high, too slow or flat → lr_too_low
  (post hoc there are no update/weight ratios to confirm it: the finding says so);
* ``non_finite_loss``: a train or validation loss that is null (NaN or inf) → nan_loss;
* ``generalization``: the epoch evaluations → overfitting (validation worse while training
  improves, with a gap beyond noise), underfitting (training stays poor and level),
  no_learnable_signal (training fits, validation at chance); chance accuracy is taken as
  1/C (the classes are assumed balanced) and the sample counts are estimated from the
  steps per epoch × batch size and the validation share;
* ``validation_set``: a run without validation data → no_validation_set (info).

The report has no configuration to re-run, so ``try_fixes`` says how to re-train instead.
Figures: ``"loss_curve"`` as the probe's ({"step", "loss", "shape", "val": {"step", "loss",
"accuracy"}}), with epochs as the val steps.
"""

import json
import math
from pathlib import Path

from gradkit.doctor.findings import CheckResult, Finding
from gradkit.doctor.monitor import curve_shape
from gradkit.doctor.report import DoctorReport
from gradkit.doctor.rules import fit_rule

_EPOCH_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


def read_metrics(run_dir):
    """(step lines, epoch lines) of ``run_dir/metrics.jsonl``: dicts, null values as NaN,
    torn lines skipped. Raises FileNotFoundError naming the file when there is none."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"gradkit doctor: {path} not found: {run_dir} is not a run "
                                "folder of gradkit train (or it has not trained a step)")
    steps, epochs = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        record = {k: math.nan if v is None else v for k, v in record.items()}
        (epochs if record.get("kind") == "epoch" else steps).append(record)
    return steps, epochs


def _config(run_dir):
    import yaml

    path = Path(run_dir) / "config.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _classes(config):
    classes = ((config.get("model") or {}).get("kwargs") or {}).get("num_classes")
    if classes is None:
        from gradkit.data.datasets import REGISTRY

        info = REGISTRY.get((config.get("dataset") or {}).get("name"))
        classes = info.classes if info is not None else None
    return int(classes) if classes else None


def diagnose_run(run_dir):
    """A DoctorReport of the run in ``run_dir`` (see the module docstring)."""
    run_dir = Path(run_dir)
    steps, epochs = read_metrics(run_dir)
    if not steps and not epochs:
        raise ValueError(f"gradkit doctor: {run_dir}/metrics.jsonl holds no metrics yet")
    config = _config(run_dir)
    classes = _classes(config)
    chance_loss = math.log(classes) if classes and classes >= 2 else None
    lr = _configured_lr(config, steps + epochs)
    checks, findings, figures = {}, [], {}
    losses = [r["loss"] for r in steps if "loss" in r] or [r.get("train_loss", math.nan)
                                                           for r in epochs]
    shape, features = curve_shape(losses, chance_loss)
    checks["loss_curve"], found = _loss_curve(shape, features, lr, bool(steps))
    findings += found
    checks["non_finite_loss"], found = _non_finite(steps, epochs, lr)
    findings += found
    evals = {"step": [r.get("epoch") for r in epochs],
             **{k: [r[k] for r in epochs] for k in _EPOCH_KEYS if epochs and k in epochs[0]}}
    if len(epochs) >= 3 and shape not in ("diverging", "flat"):
        sizes = _sizes(config, epochs)
        chance = {"train": 1 / classes, "val": 1 / classes} if classes else None
        checks["generalization"], found = fit_rule(evals, "train_accuracy" in evals and
                                                   chance is not None, sizes, chance, shape)
        findings += found
    else:
        checks["generalization"] = CheckResult(
            "skip", note=f"the loss curve is {shape}: fix the training first"
            if len(epochs) >= 3 else f"{len(epochs)} epochs logged (3 needed)")
    checks["validation_set"], found = _validation(epochs)
    findings += found
    figures["loss_curve"] = {"step": list(range(1, len(losses) + 1)), "loss": losses,
                             "shape": shape}
    if "val_loss" in evals:
        figures["loss_curve"]["val"] = {"step": evals["step"], "loss": evals["val_loss"],
                                        "accuracy": evals.get("val_accuracy", [])}
    meta = {"run": str(run_dir), "model": (config.get("model") or {}).get("name"),
            "dataset": (config.get("dataset") or {}).get("name"), "epochs": len(epochs),
            "steps": int(steps[-1]["step"]) if steps else None, "post_hoc": True}
    return DoctorReport(findings, checks, figures, meta)


def _configured_lr(config, records):
    """The config's optimizer.lr (what an override changes), else the largest lr logged
    (a schedule's peak)."""
    lr = (config.get("optimizer") or {}).get("lr")
    if isinstance(lr, (int, float)):
        return float(lr)
    logged = [r["lr"] for r in records if isinstance(r.get("lr"), (int, float))
              and math.isfinite(r["lr"])]
    return max(logged) if logged else None


def _sizes(config, epochs):
    """{"train", "val"}: samples per epoch (steps per epoch × batch size) and the validation
    share's count estimated from it."""
    per_epoch = epochs[0].get("step") or 1
    train = int(per_epoch * int(config.get("batch_size") or 64))
    share = float((config.get("dataset") or {}).get("val_fraction") or 0.1)
    return {"train": train, "val": max(1, int(train * share / max(1 - share, 1e-9)))}


def _loss_curve(shape, features, lr, per_step):
    what = "per-step training loss" if per_step else "per-epoch training loss"
    if shape is None:
        return CheckResult("skip", note=f"the {what} has too few points for a shape"), []
    result = CheckResult("pass" if shape == "healthy" else "fail", value=shape,
                         expected="healthy", note=what)
    evidence = {"shape": shape, **features, "lr": lr}
    if shape in ("diverging", "oscillating"):
        return result, [Finding(
            "lr_too_high", "error" if shape == "diverging" else "warning",
            f"the run's loss is {shape}: the learning rate is too high", evidence,
            "The cs231n notes' learning-rate plot: a rate too high makes the loss explode or "
            "bounce around instead of settling.",
            "Lower the learning rate (by 10×; gradkit doctor --config on the run's config "
            "runs the lr range test for a measured value), or clip the gradients.",
            _lr(lr, 0.1))]
    if shape in ("flat", "too slow"):
        return result, [Finding(
            "lr_too_low", "warning",
            f"the run's loss is {shape}: the learning rate may be too low", evidence,
            "The cs231n notes' learning-rate plot: a rate too low gives a loss that falls "
            "almost linearly and slowly; a flat loss can also mean dead units or a bug, which "
            "only a probe run can tell apart (gradkit doctor --config).",
            "Raise the learning rate (by 10×) and check with gradkit doctor --config.",
            _lr(lr, 10.0))]
    return result, []


def _lr(lr, factor):
    return {"optimizer.lr": float(f"{lr * factor:.3g}")} if lr else {}


def _non_finite(steps, epochs, lr):
    for kind, records, keys in (("step", steps, ("loss",)),
                                ("epoch", epochs, ("train_loss", "val_loss"))):
        for record in records:
            bad = [k for k in keys if isinstance(record.get(k), float)
                   and not math.isfinite(record[k])]
            if bad:
                where = f"{kind} {record.get(kind)}"
                return CheckResult("fail", value=where, expected="finite losses"), [Finding(
                    "nan_loss", "error", f"the {bad[0].replace('_', ' ')} became NaN or "
                    f"infinite at {where}", {"at": where, "lr": lr},
                    "A loss that is not finite stops all learning: the usual cause is a "
                    "learning rate so high that the weights blow up (or a log of zero).",
                    "Lower the learning rate, or clip the gradients.", _lr(lr, 0.1))]
    return CheckResult("pass", expected="finite losses"), []


def _validation(epochs):
    if epochs and "val_loss" in epochs[-1]:
        return CheckResult("pass"), []
    return CheckResult("fail", note="the run logged no validation metrics"), [Finding(
        "no_validation_set", "info", "the run had no validation set", {},
        "Without validation data overfitting cannot be seen (cs231n: watch the gap between "
        "training and validation accuracy).", "Hold out a validation share: --set "
        "dataset.val_fraction=0.1", {"dataset.val_fraction": 0.1})]
