"""The ``gradkit`` command.

    gradkit [--threads N] COMMAND ...
    gradkit train [--config FILE] [--model NAME] [--dataset NAME] [--epochs N] ... [--resume RUN]
    gradkit train --nproc 2 ...                       (or: mpiexec -n 2 gradkit train ...)
    gradkit eval --checkpoint RUN [--dataset NAME] [--split test]
    gradkit predict --checkpoint RUN [--invert auto|yes|no] FILE...
    gradkit report RUN [--open]
    gradkit doctor [RUN | --config FILE | --model NAME --dataset NAME ...] [--try-fixes]
    gradkit tune --config FILE --space FILE [--trials N] [--workers N] [--resume]
    gradkit tune status DIR
    gradkit ensemble RUN... | --study DIR --top K [--method mean_prob|mean_logits|vote]
    gradkit classic knn|linear [--dataset NAME] [--k 1,3,5] [--loss svm|softmax]
    gradkit datasets [--root DIR]
    gradkit models [NAME [--input-size C,H,W | --dataset NAME]]

Each sub-command is a module of this package with ``add_parser(subparsers)``, which adds its
parser and sets ``run=`` to the function that carries it out (parsed args in, exit code out);
``COMMANDS`` names them in the order of ``--help``. A new sub-command is one more module and
one more name in the list. Mistakes the user can fix (a bad config key, a missing or
unreadable file, a corrupted checkpoint, a diverged run, a run folder in use) end with a
one-paragraph message on stderr and exit code 2, never a traceback; Ctrl-C ends a training
with the command that continues it.

    from gradkit import cli
    cli.main(["train", "--model", "mlp", "--dataset", "spiral", "--epochs", "1"])
"""

import argparse
import importlib
import os
import sys

import gradkit
from gradkit.cli._common import add_threads_option

COMMANDS = ["train", "eval", "predict", "report", "doctor", "datasets", "models", "classic",
            "tune", "ensemble"]

DESCRIPTION = """\
gradkit: a transparent deep-learning framework on NumPy.

gradkit runs on the CPU: NumPy does the arithmetic and no GPU is used. Threads (gradkit's
ops share out their work; each BLAS call runs on one): --threads N (before or after the
command), else $GRADKIT_NUM_THREADS, else the default of gradkit.threads: min(8, CPUs - load
average), at least 1, and 2 on a 2-CPU machine whose load is under 1 (a set OMP_NUM_THREADS /
OPENBLAS_NUM_THREADS / MKL_NUM_THREADS leaves BLAS its threads and the ops one)."""


def build_parser():
    parser = argparse.ArgumentParser(prog="gradkit", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gradkit {gradkit.__version__}")
    add_threads_option(parser, dest="global_threads")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"gradkit.cli.{name}").add_parser(subparsers)
    return parser


def _user_errors():
    """Exceptions that describe a mistake the user can fix (their message says how)."""
    from gradkit.config import ConfigError
    from gradkit.train import CheckpointError, NonFiniteError

    return (ConfigError, CheckpointError, NonFiniteError, FileNotFoundError, PermissionError,
            ImportError, ValueError)


def _rank_prefix():
    """'[rank r] ' in a world of several processes (gradkit train --nproc), else ''."""
    from gradkit.distributed import comm

    world = comm._state["comm"]
    return f"[rank {world.rank}] " if world is not None and world.size > 1 else ""


def main(argv=None):
    """Run the command line ``argv`` (default: sys.argv[1:]); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to relaunch it (train --nproc)
    if args.command is None:
        parser.print_help()
        return 0
    threads = getattr(args, "threads", None) or args.global_threads
    if threads is not None:
        gradkit.set_num_threads(threads)
    try:
        code = args.run(args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below
        return code
    except _user_errors() as err:
        print(f"{_rank_prefix()}gradkit {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `gradkit eval ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
