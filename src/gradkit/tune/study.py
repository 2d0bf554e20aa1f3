"""A search folder and what it holds, read back: ``Study`` (best, table, warnings), ``load``.

    out/search.json        the search: metric, direction, storage URL, stages, space, sampler
    out/config.yaml        the base run config every trial starts from
    out/study.journal      Optuna's journal file storage (unless another storage URL is given)
    out/trials/trial-0007/ one normal run folder per trial (config.yaml, metrics.jsonl,
                           checkpoints/epoch002-val_accuracy0.9170.safetensors, report.html)

Each stage is one Optuna study in that storage, named ``<out's name>.stage1``, ...; its user
attributes hold the stage's space (YAML form), epochs, planned trials and how it narrowed.
A trial's number is global (stage 2's first trial follows stage 1's last); its user
attributes hold the run folder and, for a failed trial, the error. A trial RUNNING when its
search was killed is marked FAIL with no error when the search resumes: ``interrupted``.
``load`` works while a search runs (the journal is read, never locked for long).
"""

import json
from pathlib import Path

import optuna

from gradkit.config import ConfigError
from gradkit.tune.space import parse_space
from gradkit.tune.stages import edge_warnings

SEARCH_FILE = "search.json"
INTERRUPTED = "interrupted: its process ended before it finished"


def journal_url(out):
    return f"journal:///{Path(out).resolve() / 'study.journal'}"


def open_storage(url):
    """An Optuna storage from a URL: ``journal:///path`` (a journal file, safe for several
    processes on one machine), or an RDB URL (sqlite, postgresql, mysql: several machines)."""
    try:
        if url.startswith("journal:///"):
            path = Path(url[len("journal://"):])
            if not path.parent.is_dir():
                raise OSError(f"no folder {path.parent}")
            return optuna.storages.JournalStorage(
                optuna.storages.journal.JournalFileBackend(str(path)))
        return optuna.storages.RDBStorage(url)
    except Exception as err:  # Optuna and SQLAlchemy raise many kinds for a bad URL
        raise ConfigError([f"storage: cannot open {url!r}: {str(err).splitlines()[0]}"]) \
            from None


def _seconds(t):
    if t.datetime_start is None or t.datetime_complete is None:
        return None
    return round((t.datetime_complete - t.datetime_start).total_seconds(), 2)


def _row(stage, t):
    state = t.state.name
    error = t.user_attrs.get("error")
    if state == "FAIL" and error is None:
        error = INTERRUPTED
    return {"number": t.user_attrs.get("number"), "stage": stage + 1, "trial": t.number,
            "params": dict(t.params), "value": t.value, "state": state,
            "values": [t.intermediate_values[k] for k in sorted(t.intermediate_values)],
            "seconds": _seconds(t), "run": t.user_attrs.get("run"), "error": error}


class Study:
    """The search in folder ``out`` (see the module docstring)."""

    def __init__(self, out):
        self.out = Path(out)
        spec_path = self.out / SEARCH_FILE
        if not spec_path.is_file():
            raise FileNotFoundError(f"tune: {self.out} holds no search ({SEARCH_FILE} "
                                    "missing); start one with tune.search(..., out=...)")
        self.spec = json.loads(spec_path.read_text())
        self.metric, self.direction = self.spec["metric"], self.spec["direction"]
        self.local = self.spec["storage"] is None
        self.storage = open_storage(self.spec["storage"] or journal_url(self.out))

    def stage_name(self, index):
        """The Optuna study of stage ``index`` (0-based): ``<search name>.stage<n>``."""
        return f"{self.spec['name']}.stage{index + 1}"

    def stages(self):
        """The Optuna studies of the stages begun so far, in order."""
        names = set(optuna.get_all_study_names(self.storage))
        out = []
        for i in range(len(self.spec["stages"])):
            if self.stage_name(i) not in names:
                break
            out.append(optuna.load_study(study_name=self.stage_name(i),
                                         storage=self.storage))
        return out

    def stage_info(self):
        """Per stage begun: trials, epochs, space (YAML form), narrowing lines."""
        return [{"stage": i + 1, **s.user_attrs} for i, s in enumerate(self.stages())]

    def table(self):
        """One dict per trial: number, stage, trial (its number in the stage), params,
        value, state ('COMPLETE' | 'PRUNED' | 'FAIL' | 'RUNNING' | 'WAITING'), values (the
        metric per epoch), seconds, run (its folder), error."""
        rows = [_row(i, t) for i, s in enumerate(self.stages()) for t in s.get_trials(
            deepcopy=False)]
        return sorted(rows, key=lambda r: (r["stage"], r["trial"]))

    def ranked(self):
        """The COMPLETE rows, best first."""
        rows = [r for r in self.table() if r["state"] == "COMPLETE" and r["value"] is not None]
        return sorted(rows, key=lambda r: r["value"], reverse=self.direction == "maximize")

    @property
    def best(self):
        """The best finished trial: {number, stage, params (config overrides), value, run},
        or None before any finished."""
        ranked = self.ranked()
        if not ranked:
            return None
        r = ranked[0]
        return {k: r[k] for k in ("number", "stage", "params", "value", "run")}

    @property
    def warnings(self):
        """Edge warnings on the last stage begun (its ranges, its finished trials)."""
        stages = self.stages()
        if not stages:
            return []
        last = len(stages)
        space = parse_space(stages[-1].user_attrs["space"])
        ranked = [r["params"] for r in self.ranked() if r["stage"] == last]
        return edge_warnings(space, ranked)

    def __repr__(self):
        best = self.best
        return (f"Study({str(self.out)!r}, {len(self.table())} trials, best "
                f"{self.metric} {best['value']:.4f})" if best else
                f"Study({str(self.out)!r}, no finished trial)")


def load(out):
    """Reopen the search in folder ``out`` (also while it runs)."""
    return Study(out)
