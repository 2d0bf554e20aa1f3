"""The run report: one self-contained ``report.html`` (figures embedded as base64 PNGs) that
tells at a glance how a run went.

    from gradkit.report import write_report
    write_report("runs/lenet5-mnist5k")        # -> runs/lenet5-mnist5k/report.html

It reads the run folder that ``gradkit train`` writes: ``metrics.jsonl`` (loss, accuracy and
learning rate per step and per epoch), ``config.yaml``, ``results.json`` when present, and
the final weights (``checkpoints/last.safetensors``), which it scores on the test split for
the confusion matrix, the misclassified samples and the per-class accuracy.

Sections: summary cards and a one-line reading of the curves; loss per step (linear and log
scale); train vs validation accuracy per epoch, gap shaded; learning rate; confusion matrix;
misclassified test samples (and decision regions for 2-D data); first-layer weights; the
config.
"""

import base64
import datetime
import html
import json
from pathlib import Path

import numpy as np

from gradkit.report import plots

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1040px;color:#222;padding:0 1em}
h1{margin-bottom:.1em} .sub{color:#666;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.card{border:1px solid #ddd;border-radius:8px;padding:.6em 1em;min-width:120px}
.card b{display:block;font-size:1.5em} .card span{color:#666;font-size:.85em}
.note{background:#f6f8fa;border-left:4px solid #1f77b4;padding:.6em 1em;margin:1em 0}
h2{border-bottom:1px solid #eee;padding-bottom:.2em;margin-top:1.6em}
img{max-width:100%} .missing{color:#a00}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ddd;padding:2px 8px}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.85em}
"""


def read_metrics(run_dir):
    """(step records, epoch records) from ``run_dir/metrics.jsonl``."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: {run_dir} is not a run folder "
                                "(gradkit train writes metrics.jsonl there)")
    steps, epochs = [], []
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            (steps if record.get("kind") == "step" else epochs).append(record)
    return steps, epochs


def _column(records, key):
    return np.array([np.nan if r.get(key) is None else r[key] for r in records], dtype=float)


def _img(png_bytes, alt):
    data = base64.b64encode(png_bytes).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _card(value, label):
    return f'<div class="card"><b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>'


def _reading(epochs):
    """One or two sentences on what the curves say."""
    if not epochs or epochs[-1].get("train_accuracy") is None:
        return "No accuracy was recorded."
    train = epochs[-1]["train_accuracy"]
    if epochs[-1].get("val_accuracy") is None:
        return f"Final training accuracy {train:.1%} (no validation split)."
    val = _column(epochs, "val_accuracy")
    gap = round((train - val[-1]) * 100, 1) + 0.0  # no "-0.0"
    best = int(np.nanargmax(val))
    if gap > 5:
        text = (f"Training accuracy is {gap:.1f} points above validation: the model "
                "overfits; stronger regularization (weight decay, dropout, augmentation) or "
                "more data should help.")
    elif train < 0.9:
        text = (f"Training accuracy ({train:.1%}) is low and close to validation: the model "
                "underfits; try a bigger model, longer training or another learning rate.")
    else:
        text = (f"Train and validation accuracy are close (gap {gap:+.1f} points): no sign of "
                "overfitting.")
    if best < len(val) - 1 and val[-1] < val[best] - 0.01:
        text += (f" Validation accuracy peaked at epoch {epochs[best]['epoch']} "
                 f"({val[best]:.1%}) and fell after it.")
    return text


def _evaluate(run_dir, max_samples):
    """What the run's final weights do on its test split."""
    from gradkit.experiment import arrays, evaluate, final_checkpoint, load_run, load_splits

    run = load_run(final_checkpoint(run_dir))
    test = load_splits(run.config).test
    x, y = arrays(test)
    probs = run.predict(x)
    pred = probs.argmax(axis=1)
    n = len(run.classes)
    counts = np.zeros((n, n), np.int64)
    np.add.at(counts, (y, pred), 1)
    wrong = np.flatnonzero(pred != y)
    wrong = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:max_samples]
    return {"run": run, "x": x, "y": y, "pred": pred, "probs": probs, "counts": counts,
            "wrong": wrong, "metrics": evaluate(run, test)}


def _test_sections(ev):
    run, x, y, wrong = ev["run"], ev["x"], ev["y"], ev["wrong"]
    classes, parts = run.classes, []
    parts.append("<h2>Confusion matrix</h2>")
    parts.append(_img(plots.confusion_matrix(ev["counts"], classes), "confusion matrix"))
    per_class = ev["metrics"]["per_class_accuracy"]
    cells = "".join(f"<tr><td>{html.escape(str(c))}</td><td>{a:.1%}</td></tr>"
                    for c, a in per_class.items())
    parts.append(f"<details><summary>per-class test accuracy</summary><table><tr><th>class"
                 f"</th><th>accuracy</th></tr>{cells}</table></details>")
    if x.ndim == 2 and x.shape[1] == 2:
        parts.append("<h2>Decision regions</h2>")
        parts.append(_img(plots.decision_regions(run.predict, x, y, classes),
                          "decision regions"))
    parts.append(f"<h2>Misclassified test samples ({int((ev['pred'] != y).sum())} of "
                 f"{len(y)})</h2>")
    if len(wrong) and not (x.ndim == 2 and x.shape[1] <= 2):
        conf = ev["probs"][wrong, ev["pred"][wrong]]
        parts.append(_img(plots.misclassified(x[wrong], y[wrong], ev["pred"][wrong], conf,
                                              classes), "misclassified samples"))
    elif not len(wrong):
        parts.append("<p>None: every test sample is classified correctly.</p>")
    first = next(((name, p) for name, p in run.model.named_parameters()
                  if name.endswith("weight") and p.ndim in (2, 4)), None)
    if first is not None:
        parts.append(f"<h2>First-layer weights <small>({html.escape(first[0])})</small></h2>")
        parts.append(_img(plots.first_layer(first[1].numpy(), run.input_shape),
                          "first-layer weights"))
    return parts


def write_report(run_dir, max_misclassified=32):
    """Write ``run_dir/report.html`` and return its path (see the module docstring)."""
    run_dir = Path(run_dir)
    steps, epochs = read_metrics(run_dir)
    config_path = run_dir / "config.yaml"
    config_text = config_path.read_text() if config_path.exists() else "(no config.yaml)"
    try:
        ev, problem = _evaluate(run_dir, max_misclassified), None
    except (FileNotFoundError, ImportError, ValueError) as err:
        ev, problem = None, str(err)

    name = run_dir.resolve().name
    cards = []
    if ev is not None:
        cards.append(_card(f"{ev['metrics']['accuracy']:.2%}", "test accuracy (final weights)"))
    results_path = run_dir / "results.json"
    best = json.loads(results_path.read_text()).get("best_val") if results_path.exists() else None
    if best is not None:
        cards.append(_card(f"{best['test']['accuracy']:.2%}", "test accuracy of the best "
                                                               "validation checkpoint"))
    if epochs:
        last = epochs[-1]
        val = _column(epochs, "val_accuracy")
        if np.isfinite(val).any():
            best = int(np.nanargmax(val))
            cards.append(_card(f"{val[best]:.2%}", f"best validation (epoch "
                                                    f"{epochs[best]['epoch']})"))
        if last.get("train_accuracy") is not None:
            cards.append(_card(f"{last['train_accuracy']:.2%}", "final train accuracy"))
        cards.append(_card(f"{last['epoch']} / {last['step']}", "epochs / steps"))
        cards.append(_card(f"{last.get('time', 0):.0f} s", "training time"))
    if ev is not None:
        params = sum(p.numel() for p in ev["run"].model.parameters())
        cards.append(_card(f"{params:,}", f"parameters ({ev['run'].config.model.name})"))

    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>gradkit run "
             f"{html.escape(name)}</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(name)}</h1><p class='sub'>gradkit run report, "
             f"{datetime.datetime.now():%Y-%m-%d %H:%M} &middot; {html.escape(str(run_dir))}"
             "</p>", f"<div class='cards'>{''.join(cards)}</div>",
             f"<p class='note'>{html.escape(_reading(epochs))}</p>"]
    if steps:
        s = _column(steps, "step")
        parts.append("<h2>Loss</h2>")
        parts.append(_img(plots.loss_curves(s, _column(steps, "loss"),
                                            _column(epochs, "step"),
                                            _column(epochs, "val_loss") if epochs
                                            and "val_loss" in epochs[0] else ()),
                          "loss per step"))
    if epochs and epochs[0].get("train_accuracy") is not None:
        parts.append("<h2>Accuracy</h2>")
        val = _column(epochs, "val_accuracy") if "val_accuracy" in epochs[0] else None
        parts.append(_img(plots.accuracy_curves(_column(epochs, "epoch"),
                                                _column(epochs, "train_accuracy"), val),
                          "accuracy per epoch"))
        parts.append("<p class='sub'>Train accuracy is averaged over each epoch's batches as "
                     "they were trained on (augmented, dropout active, weights still changing); "
                     "validation accuracy is measured on clean data after the epoch, so it can "
                     "sit above train.</p>")
    if steps and "lr" in steps[0]:
        parts.append("<h2>Learning rate</h2>")
        parts.append(_img(plots.learning_rate(_column(steps, "step"), _column(steps, "lr")),
                          "learning rate"))
    if ev is not None:
        parts.extend(_test_sections(ev))
    else:
        parts.append(f"<h2>Test set</h2><p class='missing'>Not evaluated: "
                     f"{html.escape(problem)}</p>")
    parts.append(f"<h2>Config</h2><pre>{html.escape(config_text)}</pre></body></html>")
    path = run_dir / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
