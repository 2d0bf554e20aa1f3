"""doctor.html: the training doctor's report as one self-contained page, drawn from the data
of ``DoctorReport.to_dict()`` (nothing is recomputed here).

Sections: the verdict; the findings, most important first (evidence, why, fix, the overrides
to try, and whether the fix was verified); the checks table; then the figures the checks left
in ``figures``: the probe's loss curve with its shape label, the learning-rate range test,
update/weight ratios per layer over the probe, activation and gradient histograms per layer,
dead-unit fractions, first-layer weights. A figure whose data is absent is left out.
"""

import html
import math
from pathlib import Path

import numpy as np

from gradkit.report.html import CSS, _img
from gradkit.report.plots import TRAIN, VAL, _figure, png, smooth

COLOURS = {"error": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}
EXTRA_CSS = """
.finding{border:1px solid #ddd;border-left:6px solid var(--c);border-radius:6px;
padding:.5em 1em;margin:.8em 0}
.finding h3{margin:.2em 0;font-size:1.05em} .finding .code{font-family:monospace;color:#555}
.sev{color:var(--c);font-weight:bold;text-transform:uppercase;font-size:.8em}
.ok{color:#2ca02c} .bad{color:#d62728} td.pass{color:#2ca02c} td.fail{color:#d62728}
td.skip{color:#888}
"""


def write_doctor_page(path, data):
    """Write the page for ``data`` (a DoctorReport's to_dict()) to ``path``; returns it."""
    path = Path(path)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>gradkit doctor"
             f"</title><style>{CSS}{EXTRA_CSS}</style></head><body>",
             "<h1>gradkit doctor</h1>", _summary(data), "<h2>Findings</h2>",
             findings_section(data["findings"], data.get("fixes")), "<h2>Checks</h2>",
             _checks(data)]
    parts.extend(figure_sections(data.get("figures") or {}))
    parts.append("</body></html>")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
    return path


def _summary(data):
    meta = data.get("meta") or {}
    verdict = ("<b class='ok'>no problems found</b>" if data["ok"] and not data["findings"]
               else "<b class='ok'>ok</b> (notes only)" if data["ok"]
               else f"<b class='bad'>{len(_serious(data))} problem(s) found</b>")
    facts = ", ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in meta.items()
                      if not isinstance(v, dict))
    return f"<p class='sub'>{facts}</p><p>Verdict: {verdict}</p>"


def _serious(data):
    return [f for f in data["findings"] if f["severity"] in ("error", "warning")]


def findings_section(findings, fixes=None):
    """The findings as cards (severity, code, layer, evidence, why, fix, overrides and the
    result of trying the fix), from their to_dict() form."""
    if not findings:
        return "<p>No findings: every check that applies passed.</p>"
    fixes = {f["code"]: f for f in fixes or []}
    out = []
    for f in findings:
        where = f" &middot; layer <code>{html.escape(f['layer'])}</code>" if f.get("layer") else ""
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}</td></tr>"
                       for k, v in (f.get("evidence") or {}).items())
        body = [f"<div class='finding' style='--c:{COLOURS[f['severity']]}'>",
                f"<span class='sev'>{f['severity']}</span> <span class='code'>{f['code']}"
                f"</span>{where}<h3>{html.escape(f['title'])}</h3>"]
        if rows:
            body.append(f"<table>{rows}</table>")
        if f.get("explanation"):
            body.append(f"<p><b>Why:</b> {html.escape(f['explanation'])}</p>")
        if f.get("fix"):
            body.append(f"<p><b>Fix:</b> {html.escape(f['fix'])}</p>")
        if f.get("overrides"):
            sets = " ".join(f"--set {k}={v}" for k, v in f["overrides"].items())
            body.append(f"<p><b>Try:</b> <code>{html.escape(sets)}</code></p>")
        tried = fixes.get(f["code"])
        if tried is not None:
            body.append(f"<p><b>Fix tried:</b> {html.escape(_tried(tried))}</p>")
        body.append("</div>")
        out.append("".join(body))
    return "\n".join(out)


PROBE_FIGURES = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


def fix_summary(fix):
    """One line for a tried fix: cured or not, and the probe's end figures before -> after."""
    if not fix.get("applied", True):
        return f"not applied ({fix.get('reason', '')})"
    verdict = "cured: the symptom went away" if fix.get("cured") else "not cured"
    before, after = fix.get("before") or {}, fix.get("after") or {}
    figures = [f"{k} {_fmt(before.get(k))} -> {_fmt(after.get(k))}" for k in PROBE_FIGURES
               if k in before or k in after]
    new = f"; new findings: {', '.join(fix['new'])}" if fix.get("new") else ""
    return f"{verdict}" + (f" ({', '.join(figures)})" if figures else "") + new


def _tried(fix):
    return fix_summary(fix)


def _checks(data):
    rows = ["<tr><th>check</th><th>status</th><th>value</th><th>expected</th><th>note</th>"
            "</tr>"]
    for name, r in data["checks"].items():
        rows.append(f"<tr><td>{html.escape(name)}</td><td class='{r['status']}'>{r['status']}"
                    f"</td><td>{html.escape(_fmt(r.get('value')))}</td><td>"
                    f"{html.escape(_fmt(r.get('expected')))}</td><td>"
                    f"{html.escape(r.get('note') or '')}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def _fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v[:8]) + (", ..." if len(v) > 8 else "") + "]"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


# ----- figures -----

def figure_sections(figs):
    """One section per figure in ``figs`` (the layouts of doctor/training.py's docstring)."""
    drawers = [("loss_curve", "Loss curve and its shape", _loss_curve),
               ("lr_range", "Learning-rate range test", _lr_range),
               ("update_ratios", "Update / weight ratio per layer", _ratios),
               ("activations", "Activations per layer", _histograms),
               ("gradients", "Gradients per layer", _histograms),
               ("dead_units", "Dead units per layer", _dead_units),
               ("first_layer", "First-layer weights", _first_layer)]
    out = []
    for key, title, draw in drawers:
        data = figs.get(key)
        if not data:
            continue
        try:
            image = draw(data)
        except (KeyError, TypeError, ValueError) as err:  # a malformed figure: say so, go on
            out.append(f"<h2>{title}</h2><p class='missing'>not drawn: {html.escape(str(err))}"
                       "</p>")
            continue
        if image is not None:
            out.append(f"<h2>{title}</h2>{_img(image, title)}")
    return out


def _floats(values):
    return np.array([np.nan if v is None or isinstance(v, str) else v for v in values], float)


def _loss_curve(d):
    fig = _figure(9, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    steps, loss = np.asarray(d["step"]), _floats(d["loss"])
    ax.plot(steps, loss, color="#9ecae1", lw=0.8, label="train loss")
    ax.plot(steps, smooth(loss), color=TRAIN, lw=1.8, label="smoothed")
    val = d.get("val") or {}
    if val.get("step"):
        ax.plot(val["step"], _floats(val["loss"]), "o-", color=VAL, ms=4, label="validation")
    finite = loss[np.isfinite(loss)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 30:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"loss curve: {d.get('shape', '?')}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return png(fig)


def _lr_range(d):
    fig = _figure(7, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(d["lr"], _floats(d["loss"]), color=TRAIN)
    ax.set_xscale("log")
    if d.get("suggested"):
        ax.axvline(d["suggested"], color=VAL, ls="--", label=f"suggested {d['suggested']:.3g}")
    if d.get("spread"):
        ax.axvspan(d["spread"][0], d["spread"][1], color=VAL, alpha=0.12, label="spread")
    if d.get("configured"):
        ax.axvline(d["configured"], color="#555", ls=":", label=f"configured {d['configured']:.3g}")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (smoothed)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return png(fig)


def _ratios(d):
    fig = _figure(9, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    for name, values in d["layers"].items():
        ax.plot(d["step"], _floats(values), marker=".", label=name)
    ax.axhline(1e-3, color="#555", ls="--", lw=1, label="1e-3 (the notes' rule of thumb)")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("‖lr·update‖ / ‖W‖")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    return png(fig)


def _histograms(d):
    names = list(d)[:12]
    if not names:
        return None
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig = _figure(2.6 * cols, 2.1 * rows)
    for i, name in enumerate(names):
        h = d[name]
        ax = fig.add_subplot(rows, cols, i + 1)
        edges, counts = np.asarray(h["edges"], float), np.asarray(h["counts"], float)
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=TRAIN)
        extra = ", ".join(f"{k} {h[k]:.2g}" for k in ("mean", "std", "norm")
                          if isinstance(h.get(k), (int, float)))
        ax.set_title(f"{name}\n{extra}", fontsize=8)
        ax.tick_params(labelsize=6)
    return png(fig)


def _dead_units(d):
    names = list(d)
    fig = _figure(max(4, 0.8 * len(names) + 2), 2.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(range(len(names)), [100 * float(d[n]) for n in names], color=VAL)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("% never active")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3, axis="y")
    return png(fig)


def _first_layer(d):
    w = np.asarray(d["weights"], float)
    shape = [int(s) for s in d.get("input_shape") or []]
    units = w.shape[0]
    if len(shape) == 3 and shape[0] in (1, 3) and int(np.prod(shape)) == w.shape[1]:
        tiles = w.reshape(units, *shape)
    elif len(shape) == 2 and int(np.prod(shape)) == w.shape[1]:
        tiles = w.reshape(units, 1, *shape)
    else:
        side = int(round(math.sqrt(w.shape[1])))
        if side * side != w.shape[1] or side < 3:
            return None
        tiles = w.reshape(units, 1, side, side)
    cols = min(16, units)
    rows = math.ceil(units / cols)
    fig = _figure(cols * 0.7, rows * 0.7 + 0.3)
    for i in range(units):
        ax = fig.add_subplot(rows, cols, i + 1)
        t = tiles[i]
        t = (t - t.min()) / (np.ptp(t) or 1.0)
        ax.imshow(t[0] if t.shape[0] == 1 else t.transpose(1, 2, 0), cmap="gray")
        ax.axis("off")
    fig.suptitle(f"{units} units", fontsize=8)
    return png(fig, tight=False)
