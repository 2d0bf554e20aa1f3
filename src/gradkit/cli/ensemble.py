"""``gradkit ensemble``: average what several trained runs predict, and say what each member
and the ensemble score.

    gradkit ensemble runs/mlp-digits runs/mlp-digits-2 runs/mlp-digits-3
    gradkit ensemble --study runs/tune-cnn --top 5 --method mean_logits --out runs/ens-cnn

Members are run folders (their final weights, the EMA average when the run kept one) or
checkpoints; ``--study`` takes the top trials of a `gradkit tune` folder. Prints JSON
(``accuracy``, ``loss`` and each member's) scored on the test split of the members' run
config, and saves the ensemble (one checkpoint per member and a manifest) into ``--out``.
"""

import json
from pathlib import Path

from gradkit.cli._common import run_folder_of


def add_parser(subparsers):
    p = subparsers.add_parser(
        "ensemble", help="average the predictions of several runs (or a study's top trials)",
        description="Build an ensemble of trained runs, score it and each member on the test "
                    "split, print JSON and save the ensemble folder.")
    p.add_argument("runs", nargs="*", metavar="RUN",
                   help="run folders ('latest' for runs/latest) or checkpoints")
    p.add_argument("--study", metavar="DIR", help="a `gradkit tune` folder: its top trials")
    p.add_argument("--top", type=int, default=5, help="with --study: how many trials (5)")
    p.add_argument("--method", default="mean_prob", choices=("mean_prob", "mean_logits", "vote"),
                   help="average the probabilities (default), the logits, or count votes")
    p.add_argument("--out", metavar="DIR", help="where to save the ensemble "
                                                "(default runs/ensemble)")
    p.set_defaults(run=run)


def run(args):
    from gradkit.config import ConfigError
    from gradkit.ensemble import Ensemble

    if bool(args.runs) == bool(args.study):
        raise ConfigError(["ensemble: give run folders, or --study DIR, not both or neither"])
    if args.study:
        from gradkit import tune

        ens = Ensemble.from_study(tune.load(args.study), top=args.top, method=args.method)
    else:
        members = [p if Path(p).is_file() else run_folder_of(p) for p in args.runs]
        ens = Ensemble(members, method=args.method)
    scores = ens.evaluate()
    out = Path(args.out or "runs/ensemble")
    ens.save(out)
    print(json.dumps({**scores, "saved": str(out)}, indent=2, allow_nan=False, default=str))
    return 0
