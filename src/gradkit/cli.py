"""The ``gradkit`` command.

    gradkit --version
    gradkit datasets [--root DIR]

Each subcommand is a function ``add_<name>(subparsers)`` that adds its parser and sets
``run=`` to the function that carries it out (taking the parsed args, returning an exit
code); ``SUBCOMMANDS`` lists them. A new subcommand (train, eval, predict, report) is one more
such function and one more entry in the list.
"""

import argparse
import sys

import gradkit


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


SUBCOMMANDS = [add_datasets]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="gradkit",
        description="gradkit: a transparent deep-learning framework on NumPy.")
    parser.add_argument("--version", action="version", version=f"gradkit {gradkit.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv=None):
    """Run the command line ``argv`` (default: sys.argv[1:]); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
