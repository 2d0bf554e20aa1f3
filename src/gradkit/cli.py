"""The ``gradkit`` command.

    gradkit --version
    gradkit train [--config FILE] [--model NAME] [--dataset NAME] [--epochs N] ... [--resume DIR]
    gradkit eval --checkpoint PATH [--dataset NAME] [--split test]
    gradkit predict --checkpoint PATH FILE...
    gradkit report RUN_DIR
    gradkit datasets [--root DIR]
    gradkit models

Each subcommand is a function ``add_<name>(subparsers)`` that adds its parser and sets
``run=`` to the function that carries it out (taking the parsed args, returning an exit
code); ``SUBCOMMANDS`` lists them. A new subcommand is one more such function and one more
entry in the list. Mistakes the user can fix (a bad config key, a missing file or package, a
corrupted checkpoint) end with a one-paragraph message on stderr and exit code 2, not a
traceback.
"""

import argparse
import ast
import inspect
import json
import sys
from pathlib import Path

import numpy as np

import gradkit

TRAIN_FLAGS = {  # flag dest -> the config key it sets
    "model": "model.name", "dataset": "dataset.name", "epochs": "epochs",
    "batch_size": "batch_size", "lr": "optimizer.lr", "optimizer": "optimizer.name",
    "weight_decay": "optimizer.weight_decay", "schedule": "schedule.name", "seed": "seed",
    "out": "out",
}


def add_datasets(subparsers):
    p = subparsers.add_parser(
        "datasets", help="list the built-in datasets, their sizes and where the data comes from",
        description="List the built-in datasets: sizes, sample shape, classes, where the data "
                    "comes from, and whether it is available here. Nothing is downloaded.")
    p.add_argument("--root", default=None,
                   help="folder with local datasets such as cifar-10-batches-py "
                        "(default: $GRADKIT_DATA or ./data)")
    p.set_defaults(run=run_datasets)


def run_datasets(args):
    from gradkit.data.datasets import REGISTRY

    rows = [("name", "samples", "x", "classes", "status", "source")]
    for info in REGISTRY.values():
        rows.append((info.name, info.sizes, info.shape,
                     "-" if info.classes is None else str(info.classes),
                     info.status(args.root), info.source))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        print("  ".join(cells).rstrip())
    return 0


# ----- train -----

def add_train(subparsers):
    p = subparsers.add_parser(
        "train", help="train a model (default: the main job, LeNet-5 on MNIST-5k)",
        description="Train a model as a config describes: the main job's defaults, a YAML "
                    "file (--config) merged over them, then the flags below merged over that. "
                    "Writes runs/<name>/ (config.yaml, metrics.jsonl, checkpoints/, "
                    "results.json, report.html).")
    p.add_argument("--config", metavar="FILE", help="a YAML run config")
    p.add_argument("--model", help="a model of `gradkit models` (model.name)")
    p.add_argument("--dataset", help="a dataset of `gradkit datasets` (dataset.name)")
    p.add_argument("--epochs", type=int, help="number of epochs")
    p.add_argument("--batch-size", type=int, help="training batch size")
    p.add_argument("--lr", type=float, help="learning rate (optimizer.lr)")
    p.add_argument("--optimizer", help="sgd, adam, adamw, rmsprop or adagrad")
    p.add_argument("--weight-decay", type=float, help="L2 weight decay (optimizer.weight_decay)")
    p.add_argument("--schedule", help="constant, step, multistep, exponential, inverse_time, "
                                      "cosine, linear, onecycle or plateau")
    p.add_argument("--augment", action="append", metavar="SPEC",
                   help="a batch transform, e.g. RandomHorizontalFlip or "
                        "'RandomCrop(size=32, padding=4)'; repeat for several, 'none' for none "
                        "(the flags replace the config's list)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<model>-<dataset>)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set any config key, e.g. --set model.kwargs.hidden=[200,100] "
                        "(VALUE is read as YAML)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an interrupted run from its last checkpoint, exactly as its "
                        "config.yaml says")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config as YAML and exit without training")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")
    p.set_defaults(run=run_train)


def parse_augment(spec):
    """'RandomCrop(size=32, padding=4)' -> {"name": "RandomCrop", "params": {...}}."""
    from gradkit.config import ConfigError

    try:
        node = ast.parse(spec.strip(), mode="eval").body
        if isinstance(node, ast.Name):
            return {"name": node.id, "params": {}}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
            return {"name": node.func.id,
                    "params": {k.arg: ast.literal_eval(k.value) for k in node.keywords}}
    except (SyntaxError, ValueError):
        pass
    raise ConfigError([f"augmentation: cannot read --augment {spec!r}; write a transform name "
                       "or Name(key=value, ...) with literal values"])


def train_overrides(args):
    """The config keys the command line sets."""
    import yaml

    from gradkit.config import ConfigError

    overrides = {key: getattr(args, dest) for dest, key in TRAIN_FLAGS.items()
                 if getattr(args, dest) is not None}
    if args.augment is not None:
        specs = []
        for spec in args.augment:  # 'none' empties the list built so far
            specs = [] if spec.strip().lower() == "none" else specs + [parse_augment(spec)]
        overrides["augmentation"] = specs
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError([f"--set {item!r}: expected KEY=VALUE, e.g. optimizer.lr=0.01"])
        overrides[key.strip()] = yaml.safe_load(value)
    return overrides


def run_train(args):
    from gradkit.config import ConfigError, config_yaml, load_config
    from gradkit.experiment import train

    overrides = train_overrides(args)
    if args.resume is not None:
        changed = sorted(overrides) + (["config"] if args.config else [])
        if changed:
            raise ConfigError([f"{changed[0]}: --resume continues the run exactly as its "
                               "config.yaml says; flags cannot change it"])
        config_path = Path(args.resume) / "config.yaml"
        if not config_path.exists():
            raise ConfigError([f"resume: no {config_path}; give the folder of a gradkit run"])
        config = load_config(config_path, overrides)
    else:
        config = load_config(args.config, overrides)
    if args.print_config:
        print(config_yaml(config), end="")
        return 0
    from gradkit.train import TrainingInterrupted

    try:
        train(config, resume=args.resume, report=not args.no_report)
    except TrainingInterrupted as stop:
        if stop.checkpoint is not None:
            print(f"continue with: gradkit train --resume {Path(stop.checkpoint).parent.parent}",
                  file=sys.stderr)
        return stop.code
    return 0


# ----- eval, predict -----

def _checkpoint(path):
    """A checkpoint file; for a run folder, its final weights (checkpoints/last)."""
    from gradkit.experiment import final_checkpoint

    path = Path(path)
    return final_checkpoint(path) if path.is_dir() else path


def add_eval(subparsers):
    p = subparsers.add_parser(
        "eval", help="score a checkpoint on a dataset split (prints JSON)",
        description="Rebuild the model of a checkpoint from the config stored in it and score "
                    "it on a split of a dataset: prints JSON with loss, accuracy and per-class "
                    "accuracy.")
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="a .safetensors checkpoint, or a run folder (its final weights)")
    p.add_argument("--dataset", metavar="NAME",
                   help="dataset to score on (default: the one the model was trained on)")
    p.add_argument("--split", choices=("test", "val", "train"), default="test",
                   help="which split (as the run made them; default test)")
    p.add_argument("--root", help="the dataset's folder or file (dataset.root)")
    p.set_defaults(run=run_eval)


def run_eval(args):
    from gradkit.config import ConfigError, make_config, merge
    from gradkit.experiment import evaluate, load_run, load_splits

    run = load_run(_checkpoint(args.checkpoint))
    data = run.config.model_dump(mode="json")
    layer = {k: v for k, v in (("name", args.dataset), ("root", args.root)) if v is not None}
    config = make_config(merge(data, {"dataset": layer}))
    splits = load_splits(config)
    if len(splits.classes) != len(run.classes):
        raise ConfigError([f"dataset: {config.dataset.name} has {len(splits.classes)} classes; "
                           f"the model predicts {len(run.classes)}"])
    dataset = getattr(splits, args.split)
    if dataset is None:
        raise ConfigError([f"split: the run has no {args.split} split "
                           "(dataset.val_fraction is 0)"])
    result = {"checkpoint": str(run.checkpoint), "dataset": config.dataset.name,
              "split": args.split, **evaluate(run, dataset)}
    print(json.dumps(result, indent=2))
    return 0


def add_predict(subparsers):
    p = subparsers.add_parser(
        "predict", help="top-k classes for image files or an .npz (prints JSON)",
        description="Classify image files (read with Pillow, converted to the model's channels "
                    "and size, scaled to [0, 1]) or the samples of .npz files (array 'x', else "
                    "the first array) with a checkpoint; prints JSON with the top-k classes.")
    p.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="a .safetensors checkpoint, or a run folder (its final weights)")
    p.add_argument("--top-k", type=int, default=3, help="classes to list per input (default 3)")
    p.add_argument("files", nargs="+", metavar="FILE", help="image files or .npz files")
    p.set_defaults(run=run_predict)


def read_inputs(path, input_shape):
    """(samples (N, *input_shape) float32, names) from an image file or an .npz."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"predict: no file {path}")
    shape = tuple(input_shape)
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            if not npz.files:
                raise ValueError(f"predict: {path} holds no arrays")
            x = npz["x"] if "x" in npz.files else npz[npz.files[0]]
        x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
        if x.shape == shape:
            x = x[None]
        elif len(shape) == 3 and shape[0] == 1 and x.shape[1:] == shape[1:]:
            x = x[:, None]
        if x.shape[1:] != shape:
            raise ValueError(f"predict: {path} holds samples of shape {x.shape[1:]}; the "
                             f"model takes {shape}")
        return x, [f"{path}[{i}]" for i in range(len(x))]
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise ValueError(f"predict: the model takes samples of shape {shape}, not images; "
                         "give an .npz with an array x")
    from gradkit.data.datasets._common import require

    image = require("PIL.Image", "Pillow", "gradkit predict")
    with image.open(path) as img:
        img = img.convert("L" if shape[0] == 1 else "RGB")
        if img.size != (shape[2], shape[1]):
            img = img.resize((shape[2], shape[1]), image.Resampling.BILINEAR)
        pixels = np.asarray(img, dtype=np.float32) / 255.0
    x = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
    return x[None], [str(path)]


def run_predict(args):
    from gradkit.experiment import load_run

    run = load_run(_checkpoint(args.checkpoint))
    k = max(1, min(args.top_k, len(run.classes)))
    results = []
    for file in args.files:
        x, names = read_inputs(file, run.input_shape)
        probs = run.predict(x)
        for name, p in zip(names, probs):
            top = np.argsort(-p, kind="stable")[:k]
            results.append({"input": name, "top": [
                {"class": run.classes[i], "index": int(i), "probability": round(float(p[i]), 6)}
                for i in top]})
    print(json.dumps(results, indent=2))
    return 0


# ----- report, models -----

def add_report(subparsers):
    p = subparsers.add_parser(
        "report", help="write report.html for a run folder",
        description="Write RUN_DIR/report.html: curves, confusion matrix, misclassified test "
                    "samples and first-layer weights, all in one self-contained file.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by gradkit train")
    p.set_defaults(run=run_report)


def run_report(args):
    from gradkit.report import write_report

    print(write_report(args.run_dir))
    return 0


def add_models(subparsers):
    p = subparsers.add_parser(
        "models", help="list the model zoo with parameter counts",
        description="List the models of gradkit.models with their parameter counts (built "
                    "with their default arguments; MLPs with 784 inputs) and arguments.")
    p.set_defaults(run=run_models)


def run_models(args):
    from gradkit import models

    rows = [("name", "parameters", "arguments")]
    for name in models.list_models():
        fn = getattr(models, name)
        needs = {"in_features": 784} if "in_features" in inspect.signature(fn).parameters else {}
        count = sum(p.numel() for p in fn(**needs).parameters())
        note = " (784 inputs)" if needs else ""
        rows.append((name, f"{count:,}{note}", str(inspect.signature(fn))[1:-1]))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for name, count, arguments in rows:
        print(f"{name.ljust(widths[0])}  {count.rjust(widths[1])}  {arguments}")
    return 0


SUBCOMMANDS = [add_train, add_eval, add_predict, add_report, add_datasets, add_models]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="gradkit",
        description="gradkit: a transparent deep-learning framework on NumPy.")
    parser.add_argument("--version", action="version", version=f"gradkit {gradkit.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def _user_errors():
    """Exceptions that describe a mistake the user can fix (their message says how)."""
    from gradkit.config import ConfigError
    from gradkit.train import CheckpointError

    return (ConfigError, CheckpointError, FileNotFoundError, ImportError, ValueError)


def main(argv=None):
    """Run the command line ``argv`` (default: sys.argv[1:]); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except _user_errors() as err:
        print(f"gradkit {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
