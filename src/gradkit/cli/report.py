"""``gradkit report``: write (and optionally open) a run folder's report.html.

    gradkit report runs/lenet5-mnist5k --open
    gradkit report latest

Prints the report's path; ``--open`` also opens it in the default browser (``webbrowser``;
where there is none, the ``file://`` URL to open is printed instead).
"""

import webbrowser

from gradkit.cli._common import run_folder_of


def add_parser(subparsers):
    p = subparsers.add_parser(
        "report", help="write report.html for a run folder",
        description="Write RUN/report.html: curves, confusion matrix, misclassified test "
                    "samples and first-layer weights, all in one self-contained file.")
    p.add_argument("run_dir", metavar="RUN",
                   help="a folder written by gradkit train, or 'latest' (runs/latest)")
    p.add_argument("--open", action="store_true",
                   help="open the report in the default web browser")
    p.set_defaults(run=run)


def run(args):
    from gradkit.run_report import write_run_report

    path = write_run_report(run_folder_of(args.run_dir))
    print(path)
    if args.open:
        url = path.resolve().as_uri()
        if webbrowser.open(url):
            print(f"opened {url}")
        else:
            print(f"no web browser found here; open {url}")
    return 0
