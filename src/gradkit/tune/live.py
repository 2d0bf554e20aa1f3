"""A live table of a search's trials in the terminal (rich), for ``gradkit tune``.

    with live_log("runs/tune-lenet") as log:     # a LiveTable on a terminal, else print
        tune.search(config, space, out="runs/tune-lenet", log=log)

Twice a second the table reads the study folder (``tune.load``: the view ``gradkit tune
status`` gives, so the trials of other worker processes appear too) and redraws it: the
newest trials with their stage, state, value, the metric per epoch, seconds and parameters,
the best so far in bold, and the counts per state. The search's own lines (a stage's
narrowing, a failed trial) print above the table. Where rich is missing or stdout is not a
terminal (a log file, CI), ``live_log`` gives plain ``print``: one line per event.
"""

import contextlib
import sys
from pathlib import Path

ROWS = 15  # the newest trials shown; `gradkit tune status DIR` lists them all


def _params(params):
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())


class LiveTable:
    """The rich renderable of the search in ``out`` (``render()``) and its Live display."""

    def __init__(self, out, console=None):
        from rich.console import Console

        self.out = Path(out)
        self.console = console or Console()
        self._live = None

    def render(self):
        """The study as it is now: a header line, the table, the best trial (or one line of
        text while the folder holds no study yet)."""
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from gradkit import tune

        try:
            study = tune.load(self.out)
            rows = study.table()
        except Exception as error:  # noqa: BLE001 - the folder is being created, or is not one
            return Text(f"tune: waiting for the study in {self.out} ({type(error).__name__})")
        best = study.best
        counts = {s: sum(r["state"] == s for r in rows)
                  for s in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")}
        planned = sum(s["trials"] for s in study.spec["stages"])
        header = Text(f"{self.out}: {len(rows)} of {planned} trials (" +
                      ", ".join(f"{n} {s.lower()}" for s, n in counts.items()) + ")")
        table = Table()
        for name, justify in (("trial", "right"), ("stage", "right"), ("state", "left"),
                              (study.metric, "right"), ("per epoch", "left"),
                              ("s", "right"), ("params", "left")):
            table.add_column(name, justify=justify)
        for r in rows[-ROWS:]:
            is_best = best is not None and r["number"] == best["number"]
            table.add_row(
                str(r["number"] if r["number"] is not None else "-"), str(r["stage"]),
                r["state"].lower(), f"{r['value']:.4f}" if r["value"] is not None else "-",
                " ".join(f"{v:.3f}" for v in r["values"][-6:]),
                f"{r['seconds']:.1f}" if r["seconds"] else "-",
                _params(r["params"]) + (f" ({r['error']})" if r["error"] else ""),
                style="bold green" if is_best else None)
        if best is None:
            return Group(header, table)
        return Group(header, table, Text(f"best: trial {best['number']}, {study.metric} "
                                         f"{best['value']:.4f}: {_params(best['params'])}"))

    def log(self, *args, **kwargs):
        """print() above the table."""
        self.console.print(*args, highlight=False, markup=False)

    def __enter__(self):
        from rich.live import Live

        self._live = Live(get_renderable=self.render, console=self.console,
                          refresh_per_second=2, transient=False)
        self._live.__enter__()
        return self

    def __exit__(self, *exc_info):
        self._live.__exit__(*exc_info)


@contextlib.contextmanager
def live_log(out, enabled=True):
    """Yield the search's log: a LiveTable's on a terminal with rich, else ``print``."""
    try:
        import rich  # noqa: F401
    except ImportError:
        enabled = False
    if not (enabled and sys.stdout.isatty()):
        yield print
        return
    with LiveTable(out) as table:
        yield table.log
