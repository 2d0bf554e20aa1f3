"""``gradkit train``: a run config from defaults, a YAML file and flags, trained end to end.

    gradkit train --model mlp --dataset spiral --epochs 5 --callback 'EarlyStopping(patience=2)'
    gradkit train --resume runs/mlp-spiral                 # continue an interrupted run
    gradkit train --resume runs/mlp-spiral --epochs 10     # extend a finished one
    gradkit train --nproc 2 --model lenet5                 # data parallel on 2 processes

The flags are merged over the file (``train_overrides`` turns them into config keys). With
``--resume`` the run's own config is the config (``experiment.resume_config`` refuses flags
that would change it); a finished run is not retrained: the command says it is complete and
how to extend it. At the end, the exact commands to evaluate, predict with and view the run.

``--nproc N`` runs the same command line on N processes under the mpiexec that the
``distributed`` extra installs (gradkit.distributed.launch), each with
``cpus // N`` threads unless --threads or $GRADKIT_NUM_THREADS says otherwise; a
command started by mpiexec itself (``mpiexec -n N gradkit train ...``) joins the MPI world
and trains data parallel (gradkit.distributed.world).
"""

import os
import shlex
import sys
from pathlib import Path

from gradkit.cli._common import add_threads_option, parse_specs, run_folder_of

FLAGS = {  # flag dest -> the config key it sets
    "model": "model.name", "dataset": "dataset.name", "epochs": "epochs",
    "batch_size": "batch_size", "lr": "optimizer.lr", "optimizer": "optimizer.name",
    "weight_decay": "optimizer.weight_decay", "schedule": "schedule.name", "seed": "seed",
    "out": "out", "checkpoint_every": "checkpoint_every", "monitor": "monitor",
}


def add_parser(subparsers):
    p = subparsers.add_parser(
        "train", help="train a model (default: the main job, LeNet-5 on MNIST-5k)",
        description="Train a model as a config describes: the main job's defaults, a YAML "
                    "file (--config) merged over them, then the flags below merged over that. "
                    "Writes runs/<name>/ (config.yaml, metrics.jsonl, checkpoints/, "
                    "results.json, report.html) and points runs/latest at it.")
    p.add_argument("--config", metavar="FILE", help="a YAML run config")
    p.add_argument("--model", help="a model of `gradkit models` (model.name)")
    p.add_argument("--dataset", help="a dataset of `gradkit datasets` (dataset.name)")
    p.add_argument("--epochs", type=int, help="number of epochs (with --resume: extend a "
                                              "finished run to this many)")
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
    p.add_argument("--callback", action="append", metavar="SPEC",
                   help="a callback of gradkit.train.callbacks, e.g. "
                        "'EarlyStopping(patience=5)' or CSVLogger; repeat for several, 'none' "
                        "for none (the flags replace the config's callbacks list)")
    p.add_argument("--checkpoint-every", type=int, metavar="STEPS",
                   help="also save checkpoints/last every STEPS optimizer steps "
                        "(checkpoint_every; default: at the end of each epoch only)")
    p.add_argument("--monitor", nargs="?", type=int, const=50, metavar="EVERY",
                   help="watch the training with the doctor's monitors every EVERY steps "
                        "(default 50): update/weight ratios, gradients, dead units; the "
                        "findings go to results.json and the report")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--out", metavar="DIR", help="run folder (default runs/<model>-<dataset>)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set any config key, e.g. --set model.kwargs.hidden=[200,100] "
                        "(VALUE is read as plain YAML; tags such as !!python are refused)")
    p.add_argument("--resume", metavar="RUN",
                   help="continue a run folder (or 'latest') from its last checkpoint, with "
                        "the config it was started with")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config as YAML and exit without training")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")
    p.add_argument("--nproc", type=process_count, metavar="N",
                   help="train data parallel on N processes (under the bundled mpiexec; "
                        "batch_size stays the global batch and must be a multiple of N)")
    add_threads_option(p)
    p.set_defaults(run=run)


def process_count(text):
    """argparse type of ``--nproc``: a whole number >= 1."""
    import argparse

    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of processes >= 1, got {text!r} (e.g. --nproc 2)")
    return int(text)


def _yaml_value(item, text):
    import yaml

    from gradkit.config import ConfigError

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError([f"--set {item!r}: VALUE is not plain YAML ({problem}); write a "
                           "number, a string, [a, list] or {a: mapping}"]) from None


def train_overrides(args):
    """The config keys the command line sets: {"optimizer.lr": 0.1, ...}."""
    from gradkit.config import ConfigError

    overrides = {key: getattr(args, dest) for dest, key in FLAGS.items()
                 if getattr(args, dest) is not None}
    if args.augment is not None:
        overrides["augmentation"] = parse_specs(args.augment, "--augment", "augmentation")
    if args.callback is not None:
        overrides["callbacks"] = parse_specs(args.callback, "--callback", "callbacks")
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError([f"--set {item!r}: expected KEY=VALUE, e.g. optimizer.lr=0.01"])
        overrides[key.strip()] = _yaml_value(item, value)
    return overrides


def next_steps(exp):
    """The commands that use the run just trained, one per line."""
    run = shlex.quote(str(exp.run_dir))
    shape = tuple(exp.splits.input_shape)
    sample = "IMAGE.png" if len(shape) == 3 and shape[0] in (1, 3) else "SAMPLES.npz"
    lines = ["next:",
             f"  gradkit eval --checkpoint {run} --dataset {exp.config.dataset.name}",
             f"  gradkit predict --checkpoint {run} {sample}",
             f"  gradkit report {run} --open"]
    if exp.report is not None:
        lines.append(f"  {exp.report.resolve().as_uri()}")
    return lines


def without_nproc(argv):
    """The command line ``argv`` less its ``--nproc N`` / ``--nproc=N``."""
    kept, skip = [], False
    for item in argv:
        if skip:
            skip = False
        elif item == "--nproc":
            skip = True
        elif not item.startswith("--nproc="):
            kept.append(item)
    return kept


def launch(args):
    """Run this command line on ``args.nproc`` ranks under mpiexec; mpiexec's exit code."""
    from gradkit.distributed import launch as mpi_launch

    env = dict(os.environ)
    if args.threads is None and args.global_threads is None:
        env.setdefault("GRADKIT_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // args.nproc)))
    return mpi_launch.run(args.nproc, ["-m", "gradkit.cli", *without_nproc(args.argv)],
                          env=env).returncode


def run(args):
    from gradkit import experiment
    from gradkit.config import ConfigError, config_yaml, load_config
    from gradkit.distributed import comm
    from gradkit.train import TrainingInterrupted

    if comm.launched_under_mpi():
        comm.init()
    elif args.nproc is not None and args.nproc > 1 and not args.print_config:
        return launch(args)
    overrides = train_overrides(args)
    resume = None
    if args.resume is not None:
        if args.config:
            raise ConfigError(["config: --resume trains with the run's own config; "
                               "drop --config"])
        resume = run_folder_of(args.resume)
        config = experiment.resume_config(resume, overrides)
    else:
        config = load_config(args.config, overrides)
    if args.print_config:
        print(config_yaml(config), end="")
        return 0
    try:
        exp = experiment.train(config, resume=resume, report=not args.no_report)
    except experiment.RunComplete as done:
        print(done)
        return 0
    except TrainingInterrupted as stop:
        if stop.checkpoint is not None:
            folder = shlex.quote(str(Path(stop.checkpoint).parent.parent))
            print(f"continue with: gradkit train --resume {folder}", file=sys.stderr)
        return stop.code
    if comm.is_main():
        print("\n".join(next_steps(exp)))
    return 0
