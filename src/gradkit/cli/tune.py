"""``gradkit tune``: a hyper-parameter search around a run config (gradkit.tune), and its view.

    gradkit tune --config run.yaml --space space.yaml --trials 40 --out runs/tune-lenet
    gradkit tune --out runs/tune-lenet --resume --workers 2   # finish a killed search
    gradkit tune status runs/tune-lenet                       # the master view, any time

On a terminal, a live table of the trials (gradkit.tune.live, with rich; ``--no-live``
for none); elsewhere a line per trial as it ends (its value, or pruned, or failed with the
error). Then each stage's narrowing, the best trial, the warnings and the commands that use
the best run.
"""

import shlex

from gradkit.cli._common import add_threads_option

STAGES = ("coarse-to-fine", "single")


def add_parser(subparsers):
    p = subparsers.add_parser(
        "tune", help="search hyper-parameters (random, coarse-to-fine, on Optuna)",
        description="Search the keys of a space file around a run config: random search on "
                    "log scales, coarse-to-fine stages, median pruning; every trial is a run "
                    "folder under OUT/trials/. `gradkit tune status OUT` shows a search, "
                    "also while it runs.")
    p.add_argument("status", nargs="*", metavar="status DIR",
                   help="show the search in DIR: its trials, the best so far, the warnings")
    p.add_argument("--config", metavar="FILE", help="the YAML run config trials start from")
    p.add_argument("--space", metavar="FILE", help="YAML: config key -> {loguniform: [lo, hi]}"
                   ", {uniform: ...}, {intuniform: ...} or {choice: [...]}")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set a key of the run config, as `gradkit train --set`")
    p.add_argument("--trials", type=int, default=20, help="number of trials (default 20)")
    p.add_argument("--stages", choices=STAGES, default="coarse-to-fine",
                   help="coarse-to-fine (default: 3/4 of the trials for 1 epoch, the rest for "
                        "the config's epochs on narrowed ranges) or single")
    p.add_argument("--sampler", choices=("random", "tpe"), default="random")
    p.add_argument("--pruner", choices=("median", "halving", "hyperband", "none"),
                   default="median")
    p.add_argument("--metric", default="val_accuracy", help="the validation metric to optimize")
    p.add_argument("--workers", type=int, default=1, help="worker processes on this machine")
    p.add_argument("--storage", metavar="URL", help="an Optuna storage URL (default: a journal "
                   "file in OUT; postgresql://... to share a study between machines)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", metavar="DIR", default="runs/tune", help="the search folder")
    p.add_argument("--resume", action="store_true", help="finish the search in --out with its "
                   "own settings")
    p.add_argument("--no-report", action="store_true", help="no report.html per trial")
    p.add_argument("--no-live", action="store_true", help="no live table on a terminal: a "
                   "line per trial instead")
    add_threads_option(p)
    p.set_defaults(run=run)


def run(args):
    from gradkit import tune
    from gradkit.cli.train import _yaml_value
    from gradkit.config import ConfigError, load_config
    from gradkit.tune.live import live_log

    if args.status:
        if len(args.status) != 2 or args.status[0] != "status":
            raise ConfigError([f"tune: expected `gradkit tune status DIR`, got "
                               f"{' '.join(args.status)!r}"])
        return status(args.status[1])
    if args.resume:
        with live_log(args.out, enabled=not args.no_live) as log:
            study = tune.resume(args.out, workers=args.workers, log=log)
    else:
        if args.space is None:
            raise ConfigError(["tune: --space FILE is required (or --resume)"])
        overrides = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError([f"--set {item!r}: expected KEY=VALUE"])
            overrides[key.strip()] = _yaml_value(item, value)
        config = load_config(args.config, overrides)
        with live_log(args.out, enabled=not args.no_live) as log:
            study = tune.search(config, args.space, trials=args.trials, stages=args.stages,
                                sampler=args.sampler,
                                pruner=None if args.pruner == "none" else args.pruner,
                                storage=args.storage, workers=args.workers, out=args.out,
                                seed=args.seed, metric=args.metric,
                                report=not args.no_report, log=log)
    summary(study)
    return 0


def _params(params):
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())


def summary(study):
    best = study.best
    if best is not None:
        print(f"best: trial {best['number']} (stage {best['stage']}), {study.metric} "
              f"{best['value']:.4f}: {_params(best['params'])}")
        print(f"  gradkit eval --checkpoint {shlex.quote(best['run'])}")
    for warning in study.warnings:
        print(f"warning: {warning}")


def status(folder):
    from gradkit import tune

    study = tune.load(folder)
    rows = study.table()
    planned = sum(s["trials"] for s in study.spec["stages"])
    counts = {s: sum(r["state"] == s for r in rows) for s in ("COMPLETE", "PRUNED", "FAIL",
                                                             "RUNNING")}
    print(f"{folder}: {len(rows)} trials of {planned} planned (" +
          ", ".join(f"{n} {s.lower()}" for s, n in counts.items()) + ")")
    for info in study.stage_info():
        print(f"stage {info['stage']}: {info['trials']} trials of {info['epochs']} epoch(s)")
        for line in info["narrowing"]:
            print(f"  {line}")
    print(f"{'trial':>5}  {'stage':>5}  {'state':<8}  {study.metric:>12}  params")
    for r in rows:
        value = f"{r['value']:.4f}" if r["value"] is not None else "-"
        extra = f"  ({r['error']})" if r["error"] else ""
        print(f"{r['number'] if r['number'] is not None else '-':>5}  {r['stage']:>5}  "
              f"{r['state']:<8}  {value:>12}  {_params(r['params'])}{extra}")
    summary(study)
    return 0
