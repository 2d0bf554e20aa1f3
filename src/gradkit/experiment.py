"""From a run config to a trained run, and from a checkpoint back to a model that predicts.

``train(config)`` is what ``gradkit train`` and ``examples/demo.py`` run:

1. data: the dataset's train split (or all of it, less a held-out test share, for a dataset
   without a test split), less a stratified validation share; the test split;
2. preprocessing fitted on the training samples only, applied to every batch after the
   augmentation (so augmentations see raw pixels: a shifted digit is padded with black);
3. the model from the zoo (input size and class count from the data), the optimizer (weight
   decay on weights only, not on biases and norm layers, unless asked), the schedule;
4. a Trainer with a progress bar, NaN guard, optional clipping and EMA and the config's
   ``callbacks``, writing ``config.yaml`` (the resolved config, atomically), ``metrics.jsonl``
   and ``checkpoints/`` (``last`` every epoch, or every ``checkpoint_every`` steps) into the
   run folder; then the final weights, and the best checkpoint by validation accuracy, are
   scored on the test split (``results.json``, with ``warnings`` when the run diverged, see
   gradkit.train.divergence) and ``report.html`` is written (gradkit.run_report).

Where and how a run starts (a new folder, ``runs/latest``, resume, restart, RunComplete,
RunLocked, the folder lock) is gradkit.train.runs; its names are re-exported here.

Every checkpoint carries the resolved config plus what was fitted to the data (class names,
input shape, the preprocessing statistics) as its ``config`` metadata, so ``load_run(path)``
rebuilds the model for ``gradkit eval`` and ``gradkit predict`` without the training data
(gradkit.train.trained_run; re-exported here).
"""

import functools
import inspect
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from gradkit import models, nn, random as gk_random
from gradkit.config import (ConfigError, arguments, augmentation_misfit, build_transform,
                            optimizer_class, preprocessor_class, save_config, scheduler_class)
from gradkit.data import DataLoader, Subset, train_val_split
from gradkit.data import transforms as T
from gradkit.data.datasets import REGISTRY
from gradkit.distributed.world import ONE_PROCESS
from gradkit.distributed.world import current as current_world
from gradkit.nn import functional as F
from gradkit.optim import lr_scheduler
from gradkit.train import Trainer, callbacks as cb
from gradkit.train.divergence import divergence_warnings
from gradkit.train.runs import RunComplete, RunLocked, open_run, resume_config
from gradkit.train.trained_run import (EVAL_BATCH, LoadedRun, arrays, best_checkpoint,
                                       evaluate, final_checkpoint, load_run)

__all__ = ["train", "prepare", "resume_config", "RunComplete", "RunLocked", "load_run",
           "evaluate", "final_checkpoint", "best_checkpoint", "load_splits", "Experiment",
           "LoadedRun", "Splits", "arrays"]


# ----- data -----

@dataclass
class Splits:
    """The run's datasets (raw: before preprocessing) and what describes them."""

    train: object
    val: object
    test: object
    classes: list
    input_shape: tuple


def load_splits(config):
    """Train, validation (None when val_fraction is 0) and test datasets of ``config``."""
    ds = config.dataset
    info = REGISTRY[ds.name]
    accepted = arguments(info.loader)
    kwargs = dict(ds.kwargs)
    for key in ("root", "path"):
        if key in accepted and ds.root is not None:
            kwargs[key] = ds.root
        elif key in accepted and accepted[key].default is inspect.Parameter.empty:
            what = "file" if key == "path" else "folder"
            raise ConfigError([f"dataset.root: {ds.name} needs its {what} "
                               "(--set dataset.root=...)"])
    if "split" in inspect.signature(info.loader).parameters:
        train, test = info.loader(split="train", **kwargs), info.loader(split="test", **kwargs)
        classes = list(train.classes)
    else:
        full = info.loader(**kwargs)
        classes = list(full.classes)
        train, test = train_val_split(full, ds.test_fraction, seed=config.seed, stratify=True)
    val = None
    if ds.val_fraction > 0:
        train, val = train_val_split(train, ds.val_fraction, seed=config.seed, stratify=True)
    shape = tuple(int(n) for n in arrays(Subset(test, [0]))[0].shape[1:])
    misfit = augmentation_misfit([a.name for a in config.augmentation], ds.name, shape)
    if misfit is not None:  # datasets whose shape the registry cannot tell (npz)
        raise ConfigError([misfit])
    return Splits(train, val, test, classes, shape)


def fit_preprocessor(config, train):
    """The preprocessing of ``config`` fitted on the training samples, or None."""
    cls = preprocessor_class(config.preprocessing.name)
    if cls is None:
        return None
    return cls(**config.preprocessing.params).fit(arrays(train)[0])


def batch_transform(config, preprocessor, num_classes, augment):
    """The loader transform: the augmentations (when ``augment``), then the preprocessing."""
    steps = [build_transform(a, num_classes) for a in config.augmentation] if augment else []
    if preprocessor is not None:
        steps.append(T.Lambda(preprocessor.transform))
    return T.Compose(steps) if steps else None


def make_loaders(config, splits, preprocessor, world=ONE_PROCESS):
    """Train loader (shuffled, augmented, seeded) and validation loader (preprocessed);
    ``world`` shards them over the ranks (gradkit.distributed.world)."""
    n = len(splits.classes)
    train = DataLoader(splits.train, transform=batch_transform(config, preprocessor, n, True),
                       **world.train_loading(splits.train, config.batch_size, config.seed))
    plain = batch_transform(config, preprocessor, n, False)
    val = (DataLoader(splits.val, transform=plain, **world.val_loading(splits.val, EVAL_BATCH))
           if splits.val is not None else None)
    return train, val


# ----- model, optimizer, schedule -----

def model_kwargs(config, input_shape, num_classes):
    """model.kwargs with the sizes the data decides filled in (and the config's dropout)."""
    name = config.model.name
    accepted = arguments(getattr(models, name))
    kwargs = dict(config.model.kwargs)
    if "in_features" in accepted:
        kwargs.setdefault("in_features", int(math.prod(input_shape)))
    if "in_channels" in accepted and len(input_shape) >= 2:
        kwargs.setdefault("in_channels", int(input_shape[0]))
    if "num_classes" in accepted:
        kwargs.setdefault("num_classes", int(num_classes))
    dropout = config.regularization.dropout
    if dropout:
        if "dropout" not in accepted:
            raise ConfigError([f"regularization.dropout: {name} has no dropout argument; "
                               f"models with one: {', '.join(_with_argument('dropout'))}"])
        kwargs.setdefault("dropout", dropout)
    return kwargs


def _with_argument(arg):
    return [m for m in models.list_models() if arg in arguments(getattr(models, m))]


def build_optimizer(config, model):
    opt = config.optimizer
    kwargs = opt.kwargs()
    decay = kwargs.pop("weight_decay", 0.0)
    if config.regularization.decay_bias_and_norm or not decay:
        params = [{"params": list(model.parameters()), "weight_decay": decay}]
    else:
        params = [g for g in nn.utils.param_groups_weight_decay(model, decay) if g["params"]]
    return optimizer_class(opt.name)(params, **kwargs)


def build_scheduler(config, optimizer, steps_per_epoch):
    """(scheduler or None, interval) for ``config.schedule`` over the whole run."""
    sched = config.schedule
    interval = sched.resolved_interval()
    per = steps_per_epoch if interval == "step" else 1
    total = config.epochs * per
    warmup = int(round(sched.warmup_epochs * per))
    cls = scheduler_class(sched.name)
    params = dict(sched.params)
    if sched.name == "cosine":
        params.setdefault("T_max", max(1, total - warmup))
    if sched.name == "onecycle":
        params.setdefault("max_lr", config.optimizer.kwargs()["lr"])
        params.setdefault("total_steps", total)
    warm = (lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup)
            if warmup else None)
    main = cls(optimizer, **params) if cls is not None else None
    if warm is None:
        return main, interval
    if main is None:
        return warm, interval
    return lr_scheduler.SequentialLR(optimizer, [warm, main], milestones=[warmup]), interval


def build_callbacks(config, validates):
    """The run's callbacks: progress, NaN guard, clipping, EMA, the config's ``callbacks`` in
    their order, then the metrics log and the Checkpoint (``last`` every epoch or every
    ``checkpoint_every`` steps; the best by validation). Among callbacks of equal priority
    the checkpoint comes last, so it saves what the others did in the same step."""
    reg = config.regularization
    callbacks = [cb.ProgressBar(), cb.NaNGuard()]
    if reg.clip_norm:
        callbacks.append(cb.GradientClipping(max_norm=reg.clip_norm))
    if reg.ema_decay:
        callbacks.append(cb.EMA(decay=reg.ema_decay))
    callbacks += [c.build() for c in config.callbacks]
    if config.monitor:  # the training doctor's monitors (gradkit train --monitor)
        from gradkit.doctor.monitor import Monitor
        callbacks.append(Monitor(every=config.monitor))
    monitor = ["val_accuracy", "val_loss"] if validates else None
    return callbacks + [cb.MetricsLogger(),
                        cb.Checkpoint(monitor=monitor, save_top_k=1 if validates else 0,
                                      every_n_steps=config.checkpoint_every)]


def loss_function(config):
    smoothing = config.regularization.label_smoothing
    return functools.partial(F.cross_entropy, label_smoothing=smoothing) if smoothing else None


@dataclass
class Experiment:
    """Everything ``train`` builds from a config, ready to fit."""

    config: object
    run_dir: Path
    splits: Splits
    preprocessor: object
    model: object
    trainer: Trainer


def prepare(config, run_dir=None, world=ONE_PROCESS):
    """Build data, model, optimizer, schedule and Trainer for ``config`` (in ``run_dir``,
    default ``config.out`` or runs/<name>); the resolved config (model sizes filled in,
    ``out`` and ``name`` set) is ``experiment.config``. Writes nothing. ``world``: the ranks
    the run is shared by (gradkit.distributed.world; one process by default)."""
    gk_random.manual_seed(config.seed)
    run_dir = Path(run_dir if run_dir is not None else config.out or
                   Path("runs") / config.run_name())
    splits = load_splits(config)
    preprocessor = fit_preprocessor(config, splits.train)
    train_loader, val_loader = make_loaders(config, splits, preprocessor, world)
    sample = arrays(Subset(splits.train, [0]))[0]
    shape = sample.shape[1:] if preprocessor is None else preprocessor.transform(sample).shape[1:]
    resolved = config.model_copy(deep=True)
    resolved.model.kwargs = model_kwargs(config, shape, len(splits.classes))
    resolved.name, resolved.out = config.run_name(), str(run_dir)
    model = world.wrap(models.get_model(resolved.model.name, **resolved.model.kwargs),
                       config.seed)
    optimizer = build_optimizer(resolved, model)
    scheduler, interval = build_scheduler(resolved, optimizer, len(train_loader))
    metadata = {**resolved.to_dict(), "fitted": {
        "classes": splits.classes, "input_shape": list(splits.input_shape),
        "preprocessing": {k: v.tolist() for k, v in preprocessor.state_dict().items()}
        if preprocessor is not None else {}}}
    trainer = Trainer(model, optimizer, train_loader, loss_fn=loss_function(resolved),
                      val_loader=val_loader, scheduler=scheduler, scheduler_interval=interval,
                      max_epochs=resolved.epochs,
                      callbacks=world.callbacks(build_callbacks(resolved, val_loader is not None)),
                      out_dir=world.out_dir(run_dir), config=metadata)
    return Experiment(resolved, run_dir, splits, preprocessor, model, trainer)


def train(config, resume=None, report=True, log=print, customize=None):
    """Train a run end to end (see the module docstring); returns the Experiment, with
    ``results`` (what results.json holds: the test metrics of the final weights and of the
    best validation checkpoint, and ``warnings``) and ``report`` (its path or None).

    ``resume``: a run folder to continue, with the config of its checkpoint
    (``resume_config(resume, {"epochs": config.epochs})``: only a larger ``epochs`` of
    ``config`` is taken, to extend it). RunComplete when it has nothing left to train,
    RunLocked when another process trains there (see gradkit.train.runs).

    Under a launcher with several ranks, every rank calls this and they train the run
    together; rank 0 writes and prints (gradkit.distributed.world). ``customize(exp)``, when
    given, may change the Trainer after it is built and before it fits (gradkit.tune.distill
    gives it the ensemble's soft targets and the distillation loss)."""
    world = current_world()
    log = world.log(log)
    if resume is not None:
        config = resume_config(resume, {"epochs": config.epochs}, log)
    with world.open_run(config, resume, log) as start:
        exp = prepare(config, run_dir=start.run_dir, world=world)
        if world.is_main:
            save_config(exp.config, exp.run_dir / "config.yaml")
        params = sum(p.numel() for p in exp.model.parameters())
        log(f"run folder: {exp.run_dir}")
        log(f"model: {exp.config.model.name} ({params:,} parameters); data: "
            f"{config.dataset.name}, train {len(exp.splits.train)}, "
            f"val {len(exp.splits.val) if exp.splits.val is not None else 0}, "
            f"test {len(exp.splits.test)}")
        if customize is not None:
            customize(exp)
        if start.checkpoint is not None:
            exp.trainer.resume(start.checkpoint)
        if start.new_cycle_at is not None:
            _new_schedule(exp, start.new_cycle_at)
        started = time.perf_counter()
        exp.trainer.fit()
        exp.results = (score_run(exp, time.perf_counter() - started, log) if world.is_main
                       else None)
    exp.report = report_run(exp.run_dir, log) if report and world.is_main else None
    return exp


def _new_schedule(exp, done):
    """Extending a run past the end of a schedule planned over its length: the same schedule
    (warm-up included) built afresh over the added epochs, from the lr the config names.
    Checkpoints then hold it, so a resume of the extension continues it exactly."""
    added = exp.config.model_copy(update={"epochs": exp.config.epochs - done})
    scheduler, _ = build_scheduler(added, exp.trainer.optimizer, len(exp.trainer.train_loader))
    for callback in exp.trainer.callbacks:
        if isinstance(callback, cb.LRScheduler):
            callback.scheduler = scheduler


def score_run(exp, seconds, log=print):
    """Score the final and best checkpoints on the test split, check for divergence, write
    results.json and say what it holds."""
    results = {"train_seconds": round(seconds, 2)}
    for key, path in (("final", final_checkpoint(exp.run_dir)),
                      ("best_val", best_checkpoint(exp.run_dir))):
        if path is not None:
            results[key] = {"checkpoint": str(path.relative_to(exp.run_dir)),
                            "test": evaluate(load_run(path), exp.splits.test)}
    warnings = divergence_warnings(exp.trainer.state.history, len(exp.splits.classes),
                                   exp.config.optimizer.kwargs().get("lr"))
    warnings += _monitor_findings(exp)
    if warnings:
        warnings.append(f"diagnose it: gradkit doctor {exp.run_dir}")
    results["warnings"] = warnings
    (exp.run_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    final = results["final"]["test"]
    line = f"test accuracy {final['accuracy']:.2%} (loss {final['loss']:.4f}), final weights"
    if "best_val" in results:
        best = results["best_val"]
        line += (f"; {best['test']['accuracy']:.2%} with the best validation checkpoint "
                 f"{Path(best['checkpoint']).name}")
    log(line)
    for warning in results["warnings"]:
        log(f"warning: {warning}")
    return results


def _monitor_findings(exp):
    """With ``monitor`` set: write the monitors' findings and figures to monitor.json (the run
    report draws them) and return the serious findings as warning lines."""
    from gradkit.doctor.findings import _plain
    from gradkit.doctor.monitor import Monitor
    from gradkit.doctor.training import monitor_figures

    monitors = [c for c in exp.trainer.callbacks if isinstance(c, Monitor)]
    if not monitors:
        return []
    found = monitors[0].findings(lr=exp.config.optimizer.kwargs().get("lr"))
    data = _plain({"findings": [f.to_dict() for f in found],
                   "figures": monitor_figures(monitors[0], exp.model, exp.splits.input_shape)})
    tmp = exp.run_dir / "monitor.json.tmp"
    tmp.write_text(json.dumps(data, allow_nan=False) + "\n")
    tmp.replace(exp.run_dir / "monitor.json")
    return [f"{f.code}: {f.title}" for f in found if f.severity in ("error", "warning")]


def report_run(run_dir, log=print):
    from gradkit.run_report import write_run_report
    try:
        path = write_run_report(run_dir)
    except ImportError as error:  # the run itself is saved; only the figures are missing
        log(f"report skipped ({error}); the run is in {run_dir}")
        return None
    log(f"report: {path}")
    return path
