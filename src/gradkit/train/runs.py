"""Starting a run in its folder: a new one, a resume, a restart, or a refusal that says why.

``gradkit.experiment`` calls these (and re-exports the names):

    config = resume_config("runs/x", {"epochs": 30})   # the run's own config, extended
    with open_run(config, resume="runs/x") as start:   # lock held, ready to train
        start.run_dir, start.checkpoint, start.mode    # mode: "new", "restart" or "resume"

* New run: ``config.out``, or ``runs/<name>`` (``-2``, ``-3``, ... past folders in use). A
  folder holding a run is refused (resume it), one holding files that are not a run's is
  refused (nothing there is overwritten), one where a run stopped before its first checkpoint
  is restarted from scratch, saying so.
* Resume: from ``checkpoints/last.safetensors``, or the newest whole top-k checkpoint when
  ``last`` is missing or corrupt; the config is the one in the checkpoint's metadata (a
  torn ``config.yaml`` is rewritten from it; one that disagrees is refused, naming the keys).
  With no checkpoint at all the run restarts from scratch with its ``config.yaml``. A run
  that is complete raises RunComplete before anything is touched, unless ``epochs`` grows:
  then it continues from its last weights and optimizer state. A schedule planned over the
  run's length (onecycle; cosine without an explicit T_max) has ended by then, so the added
  epochs get a fresh one over their own length, warm-up included (``new_cycle_at``: as
  fastai's repeated ``fit_one_cycle``); other schedules simply go on. A run stopped midway
  through such a schedule cannot be stretched: finish it first, then extend it.
* Either way the folder is locked (``.lock`` with the pid; RunLocked while another process
  trains there), temporary files of dead writers are removed, and a run under ``runs/``
  becomes ``runs/latest``.
"""

import itertools
from dataclasses import dataclass
from pathlib import Path

from gradkit.config import ConfigError, make_config
from gradkit.train.checkpoint import checkpoint_info
from gradkit.train.lock import FolderLocked, RunLock
from gradkit.train.run_folder import (clean_orphans, folder_kind, resume_checkpoint,
                                      update_latest)

RUNS = Path("runs")
# The top-level keys every config.yaml gradkit ever wrote spells out: a file without one of
# them is torn. (Keys added later, such as checkpoint_every, callbacks or monitor, are absent
# from older runs' files and take their defaults.)
_REQUIRED_KEYS = {"name", "out", "seed", "epochs", "batch_size", "model", "dataset",
                  "preprocessing", "augmentation", "optimizer", "schedule", "regularization"}


class RunComplete(Exception):
    """``--resume`` of a run that has trained all its epochs (nothing was changed)."""


class RunLocked(ConfigError):
    """Another live process is training in this run folder; ``pid`` is its process id."""

    def __init__(self, folder, pid):
        self.pid = pid
        super().__init__([f"out: {folder} is in use by another training process (pid {pid}); "
                          "wait for it to finish, or train into another folder"])


def _flat(data, prefix=""):
    out = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _read_config_yaml(path):
    """The plain data of a config.yaml gradkit wrote, or None when it is missing, empty, torn
    or incomplete (gradkit spells out every top-level key; a file without them is not whole)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(data, dict) or not _REQUIRED_KEYS <= set(data):
        return None
    return data


def _saved_config(checkpoint):
    """(config data, epochs done, whole epochs) from a checkpoint's metadata."""
    info = checkpoint_info(checkpoint)
    meta = info["config"]
    if not isinstance(meta, dict) or "fitted" not in meta:
        raise ConfigError([f"resume: {checkpoint} was not written by `gradkit train` (its "
                           "metadata has no run config)"])
    trainer = (info["extra"] or {}).get("trainer") or {}
    whole = trainer.get("batch_idx", 0) == 0
    return {k: v for k, v in meta.items() if k != "fitted"}, info["epoch"] or 0, whole


def resume_config(run_dir, overrides=None, log=None):
    """The config to resume ``run_dir`` with (see the module docstring); ``overrides``
    ({"dotted.key": value}) may only change ``epochs``, to extend the run."""
    run_dir = Path(run_dir)
    overrides = dict(overrides or {})
    for key in overrides:
        if key != "epochs":
            raise ConfigError([f"{key}: --resume continues the run exactly as its config.yaml "
                               "says; only --epochs can change (a larger value extends it)"])
    if not run_dir.is_dir():
        raise ConfigError([f"resume: no run folder {run_dir}"])
    on_disk = _read_config_yaml(run_dir / "config.yaml")
    checkpoint = resume_checkpoint(run_dir, log)
    if checkpoint is None:
        if on_disk is None:
            state = "missing" if not (run_dir / "config.yaml").exists() else "empty or torn"
            raise ConfigError([f"resume: {run_dir} has no checkpoint and its config.yaml is "
                               f"{state}: nothing to resume or restart; start a new run "
                               f"(gradkit train --out {run_dir} with the flags you want)"])
        data, done = on_disk, 0
    else:
        data, done, _ = _saved_config(checkpoint)
        if on_disk is not None:
            theirs, ours = _flat(on_disk), _flat(data)
            differ = sorted(k for k in set(theirs) | set(ours)
                            if k not in ("epochs", "out") and theirs.get(k) != ours.get(k))
            if differ:
                raise ConfigError([f"resume: {run_dir}/config.yaml disagrees with the run's "
                                   f"checkpoint {checkpoint.name} in {', '.join(differ)}; the "
                                   "checkpoint is what was trained: restore config.yaml (or "
                                   "delete it, it is rewritten from the checkpoint)"])
            data = {**data, "epochs": max(data["epochs"], on_disk["epochs"])}
        elif log is not None:
            log(f"{run_dir}/config.yaml is missing or torn: the config comes from "
                f"{checkpoint.name}")
    data = {**data, "out": str(run_dir), **({"epochs": overrides["epochs"]}
                                            if "epochs" in overrides else {})}
    config = make_config(data, run_dir / "config.yaml")
    if config.epochs < done:
        raise ConfigError([f"epochs: {run_dir} has trained {done} epochs; give more than that "
                           "to extend it"])
    return config


@dataclass
class RunStart:
    """Where and how a run starts; a context manager holding the folder's lock.
    ``new_cycle_at``: the epochs done when an extension needs a fresh schedule, else None."""

    run_dir: Path
    mode: str
    checkpoint: Path | None
    lock: RunLock
    new_cycle_at: int | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.lock.release()


def _new_folder(config):
    if config.out is not None:
        return Path(config.out)
    base = RUNS / config.run_name()
    for i in itertools.count(1):
        out = base if i == 1 else base.with_name(f"{base.name}-{i}")
        if folder_kind(out) in ("absent", "empty"):
            return out


def _check_new(run_dir):
    """("new" or "restart", what to tell the user or None); ConfigError when refused."""
    kind = folder_kind(run_dir)
    if kind == "run":
        raise ConfigError([f"out: {run_dir} already holds a run; continue it with "
                           f"--resume {run_dir}, or choose another folder"])
    if kind == "foreign":
        names = sorted(p.name for p in run_dir.iterdir())[:5] if run_dir.is_dir() else []
        raise ConfigError([f"out: {run_dir} holds files that are not a gradkit run's "
                           f"({', '.join(names) or 'it is a file'}); choose a new or empty folder"])
    if kind == "dead":
        return "restart", (f"{run_dir}: its run stopped before its first checkpoint; "
                           "restarting it from scratch")
    return "new", None


def _check_resume(config, run_dir, log):
    """(mode, checkpoint, message, new_cycle_at); RunComplete or ConfigError when it cannot
    resume."""
    checkpoint = resume_checkpoint(run_dir, log)
    if checkpoint is None:
        return "restart", None, (f"{run_dir} has no checkpoint (its run stopped before the "
                                 "first one): restarting it from scratch in the same "
                                 "folder"), None
    saved, done, whole = _saved_config(checkpoint)
    finished = whole and (done >= saved["epochs"] or (run_dir / "results.json").exists())
    if finished and config.epochs <= max(done, saved["epochs"]):
        more = max(done, saved["epochs"]) + 10
        hint = f"To train longer: gradkit train --resume {run_dir} --epochs {more}"
        if config.schedule.fixed_length():
            hint += (f" (the added epochs get a {config.schedule.name} schedule of their "
                     "own)")
        raise RunComplete(f"{run_dir} is complete: {done}/{saved['epochs']} epochs. {hint}")
    fixed = make_config(saved).schedule.fixed_length()
    if config.epochs > saved["epochs"] and fixed and not finished:
        raise ConfigError([f"epochs: {run_dir} stopped at epoch {done} of the "
                           f"{saved['epochs']} its {config.schedule.name} schedule is planned "
                           "over, which cannot be stretched midway; finish it first "
                           f"(gradkit train --resume {run_dir}), then extend it with --epochs"])
    if finished and fixed:
        return "resume", checkpoint, (f"extending {run_dir} from {done} to {config.epochs} "
                                      f"epochs: a new {config.schedule.name} schedule over "
                                      f"the {config.epochs - done} added"), done
    return "resume", checkpoint, None, None


def open_run(config, resume=None, log=print):
    """Decide where and how the run starts, lock its folder and tidy it (see the module
    docstring); returns a RunStart to use as ``with``. RunComplete, RunLocked or ConfigError
    when it cannot start."""
    run_dir = Path(resume) if resume is not None else _new_folder(config)
    if resume is not None and not run_dir.is_dir():
        raise ConfigError([f"resume: no run folder {run_dir}"])
    if resume is None and (RUNS / config.run_name()).resolve().parent != RUNS.resolve() \
            and config.out is None:
        raise ConfigError([f"name: {config.run_name()!r} would leave runs/"])
    lock = RunLock(run_dir)
    if lock.holder() is not None:  # in use: say so before judging what the folder holds
        raise RunLocked(run_dir, lock.holder())
    if resume is not None:  # read-only checks first: a complete run is left untouched
        mode, checkpoint, message, new_cycle_at = _check_resume(config, run_dir, log)
    else:
        (mode, message), checkpoint, new_cycle_at = _check_new(run_dir), None, None
    try:
        lock.acquire()
    except FolderLocked as held:
        raise RunLocked(run_dir, held.pid) from None
    if message is not None:
        log(message)
    clean_orphans(run_dir)
    if run_dir.resolve().parent == RUNS.resolve():
        update_latest(RUNS, run_dir)
    return RunStart(run_dir, mode, checkpoint, lock, new_cycle_at)
