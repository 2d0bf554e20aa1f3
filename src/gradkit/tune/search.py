"""Running a search: stages one after the other, trials pulled by one or N worker processes.

The master (the process that calls ``search`` or ``resume``) holds ``out/.search.lock`` for the
whole search, so one search runs per folder. For each stage it opens the stage's Optuna study
(creating it with the narrowed space on first visit, see gradkit.tune.stages), marks FAIL the
trials left RUNNING by a killed search (no other process can be running them: the lock was
free), then runs the workers until the stage has its trials. A worker loops: under
``out/.ask.lock`` it counts the stage's trials (finished, failed with an error, running) and
asks Optuna for a new one only while that is below the stage's count, so N workers start
exactly as many trials as planned; then it trains the trial (gradkit.tune.trial) and tells
Optuna the value, PRUNED, or FAIL with the error (a crash or a divergence never stops the
search). Killed at any moment, the search resumes with ``resume(out)`` (or ``search`` with the
same arguments) losing only the trials that were running.

With a shared storage URL (PostgreSQL, MySQL), one search on each machine (the same ``out``
name, the same URL) pulls trials from the same studies; the file locks are per machine, so
the stages may get a trial or two more than planned, and a trial left RUNNING by a killed
machine is not marked failed automatically (``optuna`` can: ``study.tell(n, state=FAIL)``).

Sampling: "random" is Optuna's RandomSampler drawn afresh for each trial from
(seed, stage, trial number, key), so a seeded search draws the same trials whichever worker
runs them and however often it was resumed; "tpe" is Optuna's TPESampler (seeded per worker).
Pruners: "median" (MedianPruner), "halving" (SuccessiveHalvingPruner), "hyperband"
(HyperbandPruner over the stage's epochs), None; ``{"median": {"n_startup_trials": 2}}``
passes Optuna's arguments. Workers run with one thread each.
"""

import fcntl
import json
import multiprocessing
import os
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from gradkit.config import ConfigError, load_config, make_config
from gradkit.train.callbacks.checkpoint import infer_mode
from gradkit.tune.space import check_space, config_data, parse_space, valid, with_values
from gradkit.tune.page import write_tune_page
from gradkit.tune.stages import narrow_space, plan_stages
from gradkit.tune.study import SEARCH_FILE, Study, journal_url, open_storage
from gradkit.tune.trial import train_trial

optuna.logging.set_verbosity(optuna.logging.WARNING)

SAMPLERS = ("random", "tpe")
PRUNERS = {"median": optuna.pruners.MedianPruner,
           "halving": optuna.pruners.SuccessiveHalvingPruner,
           "hyperband": optuna.pruners.HyperbandPruner}


class TrialSeededRandomSampler(optuna.samplers.RandomSampler):
    """Optuna's RandomSampler, reseeded from (seed, stage, trial number, key) for each draw."""

    def __init__(self, seed, stage):
        super().__init__(seed)
        self.seed, self.stage = seed, stage

    def sample_independent(self, study, trial, param_name, param_distribution):
        entropy = [self.seed, self.stage, trial.number, zlib.crc32(param_name.encode())]
        seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
        return optuna.samplers.RandomSampler(seed).sample_independent(
            study, trial, param_name, param_distribution)


def _named(spec, known, what):
    """(name, kwargs) of "name" or {"name": {kwargs}}."""
    name, kwargs = (next(iter(spec.items())) if isinstance(spec, dict) and len(spec) == 1
                    else (spec, {}))
    if name not in known:
        raise ValueError(f"tune: unknown {what} {spec!r}; known: {', '.join(known)}")
    return name, dict(kwargs or {})


def make_sampler(spec, seed, stage, worker):
    name, kwargs = _named(spec, SAMPLERS, "sampler")
    if name == "random":
        return (TrialSeededRandomSampler(seed, stage) if seed is not None
                else optuna.samplers.RandomSampler())
    seed = None if seed is None else seed + 101 * stage + 7919 * worker
    return optuna.samplers.TPESampler(seed=seed, **kwargs)


def make_pruner(spec, epochs):
    if spec is None:
        return optuna.pruners.NopPruner()
    name, kwargs = _named(spec, PRUNERS, "pruner")
    if name == "hyperband":
        kwargs.setdefault("min_resource", 1)
        kwargs.setdefault("max_resource", epochs)
    return PRUNERS[name](**kwargs)


# ----- the search's folder and its locks -----

@contextmanager
def _flock(path, blocking=True):
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            raise ValueError(f"tune: a search is already running in {path.parent} (pid "
                             f"{holder}); watch it with `gradkit tune status "
                             f"{path.parent}`") from None
        if not blocking:
            f.truncate(0)
            f.write(f"{os.getpid()}\n")
            f.flush()
        yield


def _base_config(config):
    if isinstance(config, (str, Path)):
        return load_config(config)
    if isinstance(config, dict):
        return make_config(config)
    return config


def search(config, space, trials=None, stages="coarse-to-fine", sampler="random",
           pruner="median", storage=None, workers=1, out="runs/tune", seed=0,
           metric="val_accuracy", report=True, log=print):
    """Search ``space`` around the run ``config`` (a Config, plain data or a YAML path) and
    return the Study (see gradkit.tune). A folder ``out`` that holds this search already is
    resumed; one that holds another search is refused, naming what differs."""
    base = _base_config(config)
    data = config_data(base)
    params = parse_space(space)
    check_space(data, params)
    planned = plan_stages(stages, trials, base.epochs)
    make_sampler(sampler, seed, 0, 0)  # unknown names fail here, before any trial
    make_pruner(pruner, 1)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"tune: workers must be an int >= 1, got {workers!r}")
    out = Path(out)
    if storage is not None:
        open_storage(storage)
    maximize = infer_mode(metric, None, "tune") == "max"
    spec = {"metric": metric, "direction": "maximize" if maximize else "minimize",
            "storage": storage, "name": out.resolve().name, "stages": planned,
            "space": {k: p.to_spec() for k, p in params.items()}, "sampler": sampler,
            "pruner": pruner, "seed": seed, "report": report, "config": data}
    spec = json.loads(json.dumps(spec))
    out.mkdir(parents=True, exist_ok=True)
    path = out / SEARCH_FILE
    if path.is_file():
        old = json.loads(path.read_text())
        differ = [k for k in spec if old.get(k) != spec[k]]
        if differ:
            raise ConfigError([f"tune: {out} holds another search (its {', '.join(differ)} "
                               "differ); resume it with the same arguments or choose "
                               "another out"])
    else:
        tmp = out / f".{SEARCH_FILE}.tmp"
        tmp.write_text(json.dumps(spec, indent=2) + "\n")
        tmp.replace(path)
    return resume(out, workers=workers, log=log)


def resume(out, workers=1, log=print):
    """Run (or finish) the search in folder ``out`` with its own settings, then write its
    tune.html (gradkit.tune.page) when ``report``; returns the Study."""
    out = Path(out)
    study = Study(out)
    with _flock(out / ".search.lock", blocking=False):
        for i in range(len(study.spec["stages"])):
            _open_stage(study, i, log)
            if workers > 1:
                _run_workers(out, i, workers, log)
            _work(out, i, 0, None, log)  # with workers: what a crashed one left, if any
        study = Study(out)
        if study.spec["report"]:
            log(f"tune: {write_tune_page(study)}")
    return study


def _open_stage(study, i, log):
    """Create (or reopen) stage ``i``'s Optuna study with its space; fail interrupted trials."""
    spec = study.spec
    s = optuna.create_study(study_name=study.stage_name(i), storage=study.storage,
                            direction=spec["direction"], load_if_exists=True)
    if "space" not in s.user_attrs:
        stage = spec["stages"][i]
        if i == 0:
            space, lines, offset = parse_space(spec["space"]), ["the full ranges"], 0
        else:
            prev = optuna.load_study(study_name=study.stage_name(i - 1), storage=study.storage)
            ranked = [r["params"] for r in study.ranked() if r["stage"] == i]
            space, lines = narrow_space(parse_space(prev.user_attrs["space"]), ranked,
                                        stage.get("top"),
                                        lambda k, v: valid(spec["config"], k, v))
            offset = prev.user_attrs["offset"] + len(prev.get_trials(deepcopy=False))
        for key, value in (("offset", offset), ("epochs", stage["epochs"]),
                           ("trials", stage["trials"]), ("narrowing", lines),
                           ("space", {k: p.to_spec() for k, p in space.items()})):
            s.set_user_attr(key, value)
        log(f"tune: stage {i + 1}: {stage['trials']} trials of {stage['epochs']} epoch(s)")
        for line in lines:
            log(f"  {line}")
    running = s.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in running if study.local else ():
        s.tell(t.number, state=TrialState.FAIL)
        log(f"tune: trial {t.user_attrs.get('number')} was interrupted; marked failed")
    return s


def _counted(t):
    """A trial that counts towards its stage's total (not one interrupted by a kill)."""
    return t.state != TrialState.FAIL or "error" in t.user_attrs


def _run_workers(out, i, workers, log):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_work, args=(out, i, w, os.getpid())) for w in range(workers)]
    for p in procs:
        p.start()
    for w, p in enumerate(procs):
        p.join()
        if p.exitcode != 0:
            log(f"tune: worker {w} ended with exit code {p.exitcode}; this process finishes "
                "the stage")


def _work(out, i, worker, parent, log=print):
    """Pull stage ``i``'s trials until it has them all (see the module docstring)."""
    if parent is not None:
        import gradkit
        gradkit.set_num_threads(1)
    study = Study(out)
    spec, stage = study.spec, study.spec["stages"][i]
    s = optuna.load_study(study_name=study.stage_name(i), storage=study.storage,
                          sampler=make_sampler(spec["sampler"], spec["seed"], i, worker),
                          pruner=make_pruner(spec["pruner"], stage["epochs"]))
    space = parse_space(s.user_attrs["space"])
    distributions = {k: p.to_optuna() for k, p in space.items()}
    while parent is None or os.getppid() == parent:  # an orphaned worker stops
        with _flock(out / ".ask.lock"):
            started = sum(_counted(t) for t in s.get_trials(deepcopy=False))
            if started >= stage["trials"]:
                return
            trial = s.ask(distributions)
        _run_trial(s, trial, s.user_attrs["offset"] + trial.number, spec, stage, out, log)


def _quiet(*args, **kwargs):
    """The log of a trial's own run (its folder, its test score): not the search's."""


def _run_trial(s, trial, number, spec, stage, out, log):
    name = f"trial-{number:04d}"
    run = out / "trials" / name
    trial.set_user_attr("number", number)
    trial.set_user_attr("run", str(run))
    overrides = {**trial.params, "epochs": stage["epochs"], "out": str(run), "name": name}
    try:
        value, pruned_at = train_trial(with_values(spec["config"], overrides), trial,
                                       spec["metric"], spec["direction"], spec["report"],
                                       _quiet)
    except Exception as err:
        error = f"{type(err).__name__}: {err}".splitlines()[0]
        trial.set_user_attr("error", error)
        s.tell(trial, state=TrialState.FAIL)
        log(f"tune: trial {number} failed: {error}")
        return
    params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in trial.params.items())
    if pruned_at is not None:
        s.tell(trial, state=TrialState.PRUNED)
        log(f"tune: trial {number} pruned at epoch {pruned_at} ({params})")
    else:
        s.tell(trial, value)
        log(f"tune: trial {number}: {spec['metric']} {value:.4f} ({params})")
