"""``gradkit datasets``: the built-in datasets, their sizes, and where the data comes from.

    gradkit datasets --root ~/data

Nothing is downloaded; the status column says what is missing (a package or local files).
"""


def add_parser(subparsers):
    p = subparsers.add_parser(
        "datasets", help="list the built-in datasets, their sizes and where the data comes from",
        description="List the built-in datasets: sizes, sample shape, classes, where the data "
                    "comes from, and whether it is available here. Nothing is downloaded.")
    p.add_argument("--root", default=None,
                   help="folder with local datasets such as cifar-10-batches-py "
                        "(default: $GRADKIT_DATA or ./data)")
    p.set_defaults(run=run)


def run(args):
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
