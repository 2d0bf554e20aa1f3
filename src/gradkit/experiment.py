"""From a run config to a trained run, and from a checkpoint back to a model that predicts.

``train(config)`` is what ``gradkit train`` and ``examples/demo.py`` run:

1. data: the dataset's train split (or all of it, less a held-out test share, for a dataset
   without a test split), less a stratified validation share; the test split;
2. preprocessing fitted on the training samples only, applied to every batch after the
   augmentation (so augmentations see raw pixels: a shifted digit is padded with black);
3. the model from the zoo (input size and class count from the data), the optimizer (weight
   decay on weights only, not on biases and norm layers, unless asked), the schedule;
4. a Trainer with a progress bar, NaN guard, optional clipping and EMA, writing
   ``config.yaml`` (the resolved config), ``metrics.jsonl`` and ``checkpoints/`` into the
   run folder; then the final weights, and the best checkpoint by validation accuracy, are
   scored on the test split (``results.json``) and ``report.html`` is written.

Every checkpoint carries the resolved config plus what was fitted to the data (class names,
input shape, the preprocessing statistics) as its ``config`` metadata, so ``load_run(path)``
rebuilds the model for ``gradkit eval`` and ``gradkit predict`` without the training data.
"""

import functools
import inspect
import itertools
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradkit import models, nn, random as gk_random
from gradkit.autograd import no_grad
from gradkit.config import (ConfigError, arguments, build_transform, make_config,
                            optimizer_class, preprocessor_class, save_config, scheduler_class)
from gradkit.data import DataLoader, Subset, train_val_split
from gradkit.data import transforms as T
from gradkit.data.datasets import REGISTRY
from gradkit.nn import functional as F
from gradkit.optim import lr_scheduler
from gradkit.tensor import Tensor
from gradkit.train import Trainer, callbacks as cb, checkpoint_info, load_checkpoint

EVAL_BATCH = 500


# ----- data -----

@dataclass
class Splits:
    """The run's datasets (raw: before preprocessing) and what describes them."""

    train: object
    val: object
    test: object
    classes: list
    input_shape: tuple


def arrays(dataset):
    """(x, y) ndarrays of a whole dataset or Subset."""
    return dataset.get_batch(np.arange(len(dataset)))


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


def make_loaders(config, splits, preprocessor):
    """Train loader (shuffled, augmented, seeded) and validation loader (preprocessed)."""
    n = len(splits.classes)
    train = DataLoader(splits.train, batch_size=config.batch_size, shuffle=True,
                       seed=config.seed, transform=batch_transform(config, preprocessor, n, True))
    plain = batch_transform(config, preprocessor, n, False)
    val = (DataLoader(splits.val, batch_size=EVAL_BATCH, transform=plain)
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


def build_callbacks(config):
    reg = config.regularization
    callbacks = [cb.ProgressBar(), cb.NaNGuard()]
    if reg.clip_norm:
        callbacks.append(cb.GradientClipping(max_norm=reg.clip_norm))
    if reg.ema_decay:
        callbacks.append(cb.EMA(decay=reg.ema_decay))
    return callbacks


def loss_function(config):
    smoothing = config.regularization.label_smoothing
    return functools.partial(F.cross_entropy, label_smoothing=smoothing) if smoothing else None


# ----- the run folder -----

def run_folder(config):
    """``config.out``, or runs/<name> (runs/<name>-2, -3, ... when that already holds a run).
    An explicit ``out`` that holds a run is an error (resume it or pick another)."""
    if config.out is not None:
        out = Path(config.out)
        if (out / "metrics.jsonl").exists():
            raise ConfigError([f"out: {out} already holds a run; continue it with "
                               f"--resume {out}, or choose another folder"])
        return out
    base = Path("runs") / config.run_name()
    for i in itertools.count(1):
        out = base if i == 1 else base.with_name(f"{base.name}-{i}")
        if not (out / "metrics.jsonl").exists():
            return out


def final_checkpoint(run_dir):
    """``checkpoints/last.safetensors``: the run's final weights, what "the model of a run
    folder" means for eval, predict and the report."""
    path = Path(run_dir) / "checkpoints" / "last.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint in {path.parent}: {run_dir} is not a trained "
                                "gradkit run (or its training has not finished an epoch)")
    return path


def best_checkpoint(run_dir):
    """The run's best checkpoint by validation accuracy (the metric in its file name), or
    None when the run kept none (no validation split)."""
    scored = []
    for path in (Path(run_dir) / "checkpoints").glob("epoch*-val_accuracy*.safetensors"):
        try:
            scored.append((float(path.stem.rsplit("val_accuracy", 1)[1]), path.name, path))
        except ValueError:
            continue
    return max(scored)[2] if scored else None


@dataclass
class Experiment:
    """Everything ``train`` builds from a config, ready to fit."""

    config: object
    run_dir: Path
    splits: Splits
    preprocessor: object
    model: object
    trainer: Trainer


def prepare(config, run_dir=None):
    """Build data, model, optimizer, schedule and Trainer for ``config``; the resolved
    config (model sizes filled in, ``out`` and ``name`` set) is ``experiment.config``."""
    gk_random.manual_seed(config.seed)
    run_dir = Path(run_dir) if run_dir is not None else run_folder(config)
    splits = load_splits(config)
    preprocessor = fit_preprocessor(config, splits.train)
    train_loader, val_loader = make_loaders(config, splits, preprocessor)
    sample = arrays(Subset(splits.train, [0]))[0]
    shape = sample.shape[1:] if preprocessor is None else preprocessor.transform(sample).shape[1:]
    resolved = config.model_copy(deep=True)
    resolved.model.kwargs = model_kwargs(config, shape, len(splits.classes))
    resolved.name, resolved.out = config.run_name(), str(run_dir)
    model = models.get_model(resolved.model.name, **resolved.model.kwargs)
    optimizer = build_optimizer(resolved, model)
    scheduler, interval = build_scheduler(resolved, optimizer, len(train_loader))
    metadata = {**resolved.to_dict(), "fitted": {
        "classes": splits.classes, "input_shape": list(splits.input_shape),
        "preprocessing": {k: v.tolist() for k, v in preprocessor.state_dict().items()}
        if preprocessor is not None else {}}}
    trainer = Trainer(model, optimizer, train_loader, loss_fn=loss_function(resolved),
                      val_loader=val_loader, scheduler=scheduler, scheduler_interval=interval,
                      max_epochs=resolved.epochs, callbacks=build_callbacks(resolved),
                      out_dir=run_dir, config=metadata)
    return Experiment(resolved, run_dir, splits, preprocessor, model, trainer)


def train(config, resume=None, report=True, log=print):
    """Train a run end to end (see the module docstring); returns the Experiment, with
    ``results`` (what results.json holds: the test metrics of the final weights and of the
    best validation checkpoint) and ``report`` (its path or None).
    ``resume``: a run folder to continue (its config.yaml is the config)."""
    exp = prepare(config, run_dir=resume)
    save_config(exp.config, exp.run_dir / "config.yaml")
    params = sum(p.numel() for p in exp.model.parameters())
    log(f"run folder: {exp.run_dir}")
    log(f"model: {exp.config.model.name} ({params:,} parameters); data: "
        f"{config.dataset.name}, train {len(exp.splits.train)}, "
        f"val {len(exp.splits.val) if exp.splits.val is not None else 0}, "
        f"test {len(exp.splits.test)}")
    if resume is not None:
        exp.trainer.resume(resume)
    started = time.perf_counter()
    exp.trainer.fit()
    results = {"train_seconds": round(time.perf_counter() - started, 2)}
    for key, path in (("final", final_checkpoint(exp.run_dir)),
                      ("best_val", best_checkpoint(exp.run_dir))):
        if path is not None:
            results[key] = {"checkpoint": str(path.relative_to(exp.run_dir)),
                            "test": evaluate(load_run(path), exp.splits.test)}
    (exp.run_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    final = results["final"]["test"]
    line = f"test accuracy {final['accuracy']:.2%} (loss {final['loss']:.4f}), final weights"
    if "best_val" in results:
        best = results["best_val"]
        line += (f"; {best['test']['accuracy']:.2%} with the best validation checkpoint "
                 f"{Path(best['checkpoint']).name}")
    log(line)
    exp.results, exp.report = results, None
    if report:
        from gradkit.report import write_report
        try:
            exp.report = write_report(exp.run_dir)
            log(f"report: {exp.report}")
        except ImportError as error:  # the run itself is saved; only the figures are missing
            log(f"report skipped ({error}); the run is in {exp.run_dir}")
    return exp


# ----- a trained run from its checkpoint -----

@dataclass
class LoadedRun:
    """A trained model with what it needs to take raw inputs: ``predict(x)`` gives class
    probabilities for raw samples (N, *input_shape) as the dataset gives them."""

    config: object
    model: object
    classes: list
    input_shape: tuple
    preprocessor: object
    checkpoint: Path

    def logits(self, x):
        x = np.asarray(x, dtype=np.float32)
        if self.preprocessor is not None:
            x = self.preprocessor.transform(x)
        self.model.eval()
        with no_grad():
            out = [self.model(Tensor._make(x[i:i + EVAL_BATCH], None))._data
                   for i in range(0, len(x), EVAL_BATCH)]
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)), np.float32)

    def predict(self, x):
        z = self.logits(x)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def load_run(checkpoint):
    """Rebuild the model of a training checkpoint (its config metadata says how) and load
    its weights (the EMA-averaged ones when the run kept an average)."""
    checkpoint = Path(checkpoint)
    meta = checkpoint_info(checkpoint)["config"]
    if not isinstance(meta, dict) or "fitted" not in meta:
        raise ConfigError([f"checkpoint: {checkpoint} was not written by `gradkit train` "
                           "(its metadata has no run config)"])
    fitted = meta["fitted"]
    config = make_config({k: v for k, v in meta.items() if k != "fitted"}, checkpoint)
    model = models.get_model(config.model.name, **config.model.kwargs)
    extra = load_checkpoint(checkpoint, model)
    shadow = (extra.get("callbacks") or {}).get("EMA", {}).get("shadow")
    if shadow:
        params = dict(model.named_parameters())
        for name, array in shadow.items():
            if name in params:
                params[name]._data[...] = np.asarray(array)
    cls = preprocessor_class(config.preprocessing.name)
    preprocessor = None
    if cls is not None:
        state = {k: np.asarray(v) for k, v in fitted["preprocessing"].items()}
        state = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in state.items()}
        preprocessor = cls(**config.preprocessing.params).load_state_dict(state)
    return LoadedRun(config, model, list(fitted["classes"]), tuple(fitted["input_shape"]),
                     preprocessor, checkpoint)


def evaluate(run, dataset):
    """{"loss", "accuracy", "per_class_accuracy": {class: accuracy}, "samples"} of a
    LoadedRun on a dataset of raw samples."""
    x, y = arrays(dataset)
    logits = run.logits(x)
    loss = float(F.cross_entropy(Tensor._make(logits, None), Tensor._make(y, None)).item())
    pred = logits.argmax(axis=1)
    per_class = {}
    for c, name in enumerate(run.classes):
        mask = y == c
        if mask.any():
            per_class[name] = float((pred[mask] == c).mean())
    return {"loss": loss, "accuracy": float((pred == y).mean()), "samples": int(len(y)),
            "per_class_accuracy": per_class}
