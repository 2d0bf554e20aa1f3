"""The run report: one self-contained ``report.html`` (figures embedded as base64 PNGs) that
tells at a glance how a run went, drawn from a ``RunData`` (report/data.py).

    from gradkit.report import RunData, render_report
    html_text = render_report(RunData(name="demo", steps=steps, epochs=epochs))

``gradkit.run_report.write_run_report(run_dir)`` gathers a run folder into a RunData and
writes ``run_dir/report.html``; this module draws what it is given and reads no files.

Sections: warnings (divergence, a NaN-guard stop, skipped metrics lines) first; summary cards,
the headline test accuracy with which checkpoint it is and why, and a one-line reading of the
curves; loss per step (linear and log scale); train vs validation accuracy per epoch, gap
shaded; learning rate; confusion matrix (shares of each true class); decision regions for 2-D
data; misclassified test samples; first-layer weights; the config.
"""

import base64
import datetime
import html

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
.warn{background:#fff4e5;border-left:4px solid #d62728;padding:.6em 1em;margin:1em 0}
.warn ul{margin:.3em 0;padding-left:1.2em}
h2{border-bottom:1px solid #eee;padding-bottom:.2em;margin-top:1.6em}
img{max-width:100%} .missing{color:#a00}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ddd;padding:2px 8px}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.85em}
"""

SIGNAL_MIN_LENGTH = 8  # a 1-D sample this long is drawn as a curve; shorter: a table row


def column(records, key):
    """``records[i][key]`` as floats (NaN where absent or null)."""
    return np.array([np.nan if r.get(key) is None else r[key] for r in records], dtype=float)


def _img(png_bytes, alt):
    data = base64.b64encode(png_bytes).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _card(value, label):
    return f'<div class="card"><b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>'


def diverged(epochs):
    """A sentence when the epochs' training loss ended non-finite or more than twice where it
    started, else None."""
    losses = column(epochs, "train_loss")
    if len(losses) < 2 or not np.isfinite(losses[0]):
        return None
    if np.isfinite(losses[-1]) and losses[-1] <= 2 * losses[0]:
        return None
    return (f"The training loss rose from {losses[0]:.3g} (epoch {epochs[0]['epoch']}) to "
            f"{losses[-1]:.3g} (epoch {epochs[-1]['epoch']}): training diverged; lower the "
            "learning rate or clip the gradients.")


def reading(epochs):
    """One or two sentences on what the curves say."""
    text = diverged(epochs)
    if text:
        return text
    if not epochs or epochs[-1].get("train_accuracy") is None:
        return "No accuracy was recorded."
    train = epochs[-1]["train_accuracy"]
    if epochs[-1].get("val_accuracy") is None:
        return f"Final training accuracy {train:.1%} (no validation split)."
    val = column(epochs, "val_accuracy")
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


def headline(data):
    """(value, label, explanation) of the headline test accuracy, or None: the final weights,
    the ones ``gradkit eval`` and ``predict`` load, compared with the best-validation
    checkpoint when the run kept one."""
    results = data.results or {}
    if data.evaluation is not None:
        accuracy, where = data.evaluation.accuracy, data.evaluation.checkpoint
    elif "final" in results:
        accuracy, where = results["final"]["test"]["accuracy"], results["final"]["checkpoint"]
    else:
        return None
    why = (f"The headline is the final weights ({where or 'the last checkpoint'}): the model "
           "that gradkit eval and gradkit predict load.")
    best = results.get("best_val")
    if best is not None:
        other = best["test"]["accuracy"]
        name = best["checkpoint"].rsplit("/", 1)[-1]
        why += f" The best-validation checkpoint ({name}) scores {other:.2%} on test"
        if other < accuracy:
            why += (", lower than the final weights: the validation split is a small sample, "
                    "so the epoch that scored best on it need not score best on new data.")
        else:
            why += f", {'higher than' if other > accuracy else 'the same as'} the final weights."
    return f"{accuracy:.2%}", "test accuracy (final weights)", why


def _cards(data):
    cards, epochs = [], data.epochs
    top = headline(data)
    if top is not None:
        cards.append(_card(top[0], top[1]))
    best_val = (data.results or {}).get("best_val")
    if best_val is not None:
        cards.append(_card(f"{best_val['test']['accuracy']:.2%}",
                           "test accuracy of the best validation checkpoint"))
    if epochs:
        last = epochs[-1]
        val = column(epochs, "val_accuracy")
        if np.isfinite(val).any():
            i = int(np.nanargmax(val))
            cards.append(_card(f"{val[i]:.2%}", f"best validation (epoch {epochs[i]['epoch']})"))
        if last.get("train_accuracy") is not None:
            cards.append(_card(f"{last['train_accuracy']:.2%}", "final train accuracy"))
        cards.append(_card(f"{last['epoch']} / {last['step']}", "epochs / steps"))
        seconds = last.get("time") or 0.0
        cards.append(_card(f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s",
                           "training time"))
    if data.parameters is not None:
        cards.append(_card(f"{data.parameters:,}", f"parameters ({data.model_name})"))
    parts = [f"<div class='cards'>{''.join(cards)}</div>"]
    if top is not None:
        parts.append(f"<p class='sub'>{html.escape(top[2])}</p>")
    return parts


def _curves(steps, epochs):
    parts = []
    if steps:
        val_loss = column(epochs, "val_loss") if epochs and "val_loss" in epochs[0] else ()
        parts += ["<h2>Loss</h2>", _img(plots.loss_curves(
            column(steps, "step"), column(steps, "loss"), column(epochs, "step"), val_loss),
            "loss per step")]
    if epochs and epochs[0].get("train_accuracy") is not None:
        val = column(epochs, "val_accuracy") if "val_accuracy" in epochs[0] else None
        parts += ["<h2>Accuracy</h2>", _img(plots.accuracy_curves(
            column(epochs, "epoch"), column(epochs, "train_accuracy"), val),
            "accuracy per epoch"),
            "<p class='sub'>Train accuracy is averaged over each epoch's batches as they were "
            "trained on (augmented, dropout active, weights still changing); validation "
            "accuracy is measured on clean data after the epoch, so it can sit above train.</p>"]
    if steps and "lr" in steps[0]:
        parts += ["<h2>Learning rate</h2>", _img(plots.learning_rate(
            column(steps, "step"), column(steps, "lr")), "learning rate")]
    return parts


def _mistake_rows(ev, wrong):
    """A table of misclassified low-dimensional vectors (a tile of 2 numbers shows nothing)."""
    head = "".join(f"<th>x{j}</th>" for j in range(ev.x.shape[1]))
    rows = "".join("<tr>" + "".join(f"<td>{v:.3g}</td>" for v in ev.x[i])
                   + f"<td>{html.escape(str(ev.classes[ev.y[i]]))}</td>"
                   f"<td>{html.escape(str(ev.classes[ev.pred[i]]))}</td>"
                   f"<td>{ev.probs[i, ev.pred[i]]:.0%}</td></tr>" for i in wrong)
    return (f"<table><tr>{head}<th>true</th><th>predicted</th><th>p</th></tr>{rows}</table>")


def _test_sections(data):
    ev = data.evaluation
    classes, x, y = ev.classes, ev.x, ev.y
    parts = ["<h2>Confusion matrix</h2>",
             _img(plots.confusion_matrix(ev.counts(), classes), "confusion matrix")]
    cells = "".join(f"<tr><td>{html.escape(str(c))}</td><td>{a:.1%}</td></tr>"
                    for c, a in ev.per_class_accuracy().items())
    parts.append(f"<details><summary>per-class test accuracy</summary><table><tr><th>class"
                 f"</th><th>accuracy</th></tr>{cells}</table></details>")
    wrong = ev.mistakes(data.max_misclassified)
    vectors = x.ndim == 2 and x.shape[1] < SIGNAL_MIN_LENGTH
    if x.ndim == 2 and x.shape[1] == 2 and ev.predict is not None:
        parts += ["<h2>Decision regions</h2>", _img(plots.decision_regions(
            ev.predict, x, y, classes, wrong=ev.mistakes(len(y))), "decision regions")]
    n_wrong = int((ev.pred != y).sum())
    parts.append(f"<h2>Misclassified test samples ({n_wrong} of {len(y)})</h2>")
    if not n_wrong:
        parts.append("<p>None: every test sample is classified correctly.</p>")
    elif vectors:
        shown = f"the {len(wrong)} most confident" if len(wrong) < n_wrong else "all"
        regions = x.shape[1] == 2 and ev.predict is not None
        circled = " (circled in the decision regions above)" if regions else ""
        parts.append(f"<p class='sub'>{shown} mistakes{circled}:</p>")
        parts.append(_mistake_rows(ev, wrong))
    else:
        conf = ev.probs[wrong, ev.pred[wrong]]
        parts.append(_img(plots.misclassified(x[wrong], y[wrong], ev.pred[wrong], conf,
                                              classes), "misclassified samples"))
    return parts


def _first_layer(data):
    name, weight, input_shape = data.first_layer
    return [f"<h2>First-layer weights <small>({html.escape(name)})</small></h2>",
            _img(plots.first_layer(np.asarray(weight), input_shape), "first-layer weights")]


def _monitor(monitor):
    """The training doctor's monitor section (``gradkit train --monitor``): its findings and
    figures, drawn as doctor.html draws them."""
    from gradkit.report.doctor import EXTRA_CSS, figure_sections, findings_section

    figures = {k: v for k, v in (monitor.get("figures") or {}).items() if k != "first_layer"}
    return ([f"<style>{EXTRA_CSS}</style><h2>Monitors</h2>",
             findings_section(monitor.get("findings") or [])] + figure_sections(figures))


def render_report(data):
    """The report of ``data`` (a RunData) as one HTML string."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>gradkit run "
             f"{html.escape(data.name)}</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(data.name)}</h1><p class='sub'>gradkit run report, "
             f"{datetime.datetime.now():%Y-%m-%d %H:%M} &middot; {html.escape(data.location)}"
             "</p>"]
    if data.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in data.warnings)
        parts.append(f"<div class='warn'><b>Warnings</b><ul>{items}</ul></div>")
    parts += _cards(data)
    parts.append(f"<p class='note'>{html.escape(reading(data.epochs))}</p>")
    parts += _curves(data.steps, data.epochs)
    if data.evaluation is not None:
        parts += _test_sections(data)
    else:
        parts.append(f"<h2>Test set</h2><p class='missing'>Not evaluated: "
                     f"{html.escape(data.not_evaluated or 'no test results were given')}</p>")
    if data.first_layer is not None:
        parts += _first_layer(data)
    if data.monitor:
        parts += _monitor(data.monitor)
    parts.append(f"<h2>Config</h2><pre>{html.escape(data.config_text)}</pre></body></html>")
    return "\n".join(parts)
