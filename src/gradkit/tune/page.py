"""``tune.html``: a search at a glance, one self-contained page in the search folder.

    write_tune_page(tune.load("runs/tune-lenet"))     # -> runs/tune-lenet/tune.html

Sections: the warnings; the best trial; the validation metric against each hyper-parameter
(a log axis where the range is log; one colour per stage; each stage's range drawn under its
points); the learning curves (the metric per epoch) of the top 5 trials; the stages and how
each narrowed; every trial. ``search`` writes it at the end when ``report`` is on.
"""

import html

import numpy as np

from gradkit.report import plots
from gradkit.report.html import CSS, _img
from gradkit.tune.space import Choice, parse_space

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def _param_figure(study, rows, info):
    spaces = [parse_space(s["space"]) for s in info]
    keys = list(spaces[0])
    fig = plots._figure(4 * len(keys), 3.2)
    finished = [r for r in rows if r["value"] is not None]
    for i, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), i + 1)
        first = spaces[0][key]
        for stage, space in enumerate(spaces):
            colour = COLOURS[stage % len(COLOURS)]
            points = [r for r in finished if r["stage"] == stage + 1]
            xs = [r["params"][key] for r in points]
            if isinstance(first, Choice):
                xs = [first.values.index(x) for x in xs]
            ax.scatter(xs, [r["value"] for r in points], s=18, color=colour,
                       label=f"stage {stage + 1}")
            param = space[key]
            if not isinstance(param, Choice):
                ax.axvspan(param.low, param.high, ymax=0.03 * (stage + 1), color=colour,
                           alpha=0.5)
        if isinstance(first, Choice):
            ax.set_xticks(range(len(first.values)), [str(v) for v in first.values])
        elif first.log:
            ax.set_xscale("log")
        ax.set_xlabel(key)
        ax.set_ylabel(study.metric)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8)
    return plots.png(fig)


def _curves_figure(study):
    fig = plots._figure(6, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    for r in study.ranked()[:5]:
        ax.plot(np.arange(1, len(r["values"]) + 1), r["values"], "o-", ms=3,
                label=f"trial {r['number']} ({r['value']:.4f})")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)  # whole epochs only
    ax.set_ylabel(study.metric)
    ax.set_title("the top 5 trials")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return plots.png(fig)


def _table(rows, metric):
    head = "".join(f"<th>{h}</th>" for h in ("trial", "stage", "state", metric, "params",
                                             "error"))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            r["number"], r["stage"], r["state"],
            "-" if r["value"] is None else f"{r['value']:.4f}",
            ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in r["params"].items()), r["error"] or "")) + "</tr>"
        for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _params(params):
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())


def write_tune_page(study):
    """Write ``study.out/tune.html`` (see the module docstring); returns its path."""
    rows, info, best = study.table(), study.stage_info(), study.best
    parts = [f"<h1>search {html.escape(study.out.name)}</h1>"]
    parts += [f'<p class="warn">warning: {html.escape(w)}</p>' for w in study.warnings]
    if best is not None:
        parts.append(f"<p>best: trial {best['number']} (stage {best['stage']}), {study.metric} "
                     f"{best['value']:.4f} — {html.escape(_params(best['params']))} — "
                     f"{html.escape(best['run'])}</p>")
        parts.append(_img(_param_figure(study, rows, info), "the metric against each key"))
        parts.append(_img(_curves_figure(study), "learning curves of the top trials"))
    for s in info:
        lines = "".join(f"<li>{html.escape(line)}</li>" for line in s["narrowing"])
        parts.append(f"<h2>stage {s['stage']}: {s['trials']} trials of {s['epochs']} "
                     f"epoch(s)</h2><ul>{lines}</ul>")
    parts.append("<h2>trials</h2>" + _table(rows, study.metric))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>search "
            f"{html.escape(study.out.name)}</title><style>{CSS}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")
    path = study.out / "tune.html"
    tmp = path.with_name(".tune.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
