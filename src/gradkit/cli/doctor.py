"""``gradkit doctor``: diagnose a training configuration, or a finished run.

    gradkit doctor --model mlp --dataset digits --lr 3          # a configuration
    gradkit doctor --config run.yaml --set optimizer.lr=1e-5 --try-fixes
    gradkit doctor runs/mlp-digits                               # a finished run, post hoc

A configuration is built as `gradkit train` builds it (the same defaults, file, flags and
``--set``), then examined on its training split (augmentation off: the doctor looks at the data
itself) with its validation split, preprocessing, model, loss and optimizer. It prints the
checks and findings, writes ``doctor.json`` and ``doctor.html`` into ``--out`` (default
runs/doctor-<model>-<dataset>, or the run folder), and exits 0 when the report is ok, 1 when it
has warnings or errors, 2 on bad usage.
"""

import sys
from pathlib import Path

from gradkit.cli._common import add_threads_option, run_folder_of


def add_parser(subparsers):
    p = subparsers.add_parser(
        "doctor", help="diagnose a training setup (or a finished run): what is wrong and how "
                       "to fix it",
        description="Run the training doctor: data checks, checks before training (gradient "
                    "check, initial loss, overfitting a tiny subset, ...), a short probe run "
                    "watched by monitors, and diagnoses (learning-rate range test, critical "
                    "points). Exit code 0: no problem found; 1: warnings or errors; 2: bad "
                    "usage.")
    p.add_argument("run_dir", nargs="?", metavar="RUN",
                   help="a finished run folder (or 'latest') to diagnose from its metrics")
    p.add_argument("--config", metavar="FILE", help="a YAML run config")
    p.add_argument("--model", help="a model of `gradkit models` (model.name)")
    p.add_argument("--dataset", help="a dataset of `gradkit datasets` (dataset.name)")
    p.add_argument("--lr", type=float, help="learning rate (optimizer.lr)")
    p.add_argument("--optimizer", help="sgd, adam, adamw, rmsprop or adagrad")
    p.add_argument("--batch-size", type=int, help="batch size of the probe run")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set any config key, as for gradkit train")
    p.add_argument("--steps", type=int, default=300, help="steps of the probe run (300)")
    p.add_argument("--checks", metavar="A,B", help="run only these checks (comma-separated)")
    p.add_argument("--try-fixes", action="store_true",
                   help="re-run the probe with each finding's fix and say whether it helped")
    p.add_argument("--seed", type=int, default=0, help="random seed of the probes (0)")
    p.add_argument("--out", metavar="DIR", help="where doctor.json and doctor.html go")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_threads_option(p)
    p.set_defaults(run=run)


def build(config):
    """(model, (x, y) train, (x, y) val or None, loss_fn, optimizer) of a run config, as
    `gradkit train` would build them, with the preprocessing applied and no augmentation."""
    from gradkit import experiment, models, random

    random.manual_seed(config.seed)  # the same initial weights as `gradkit train` draws
    splits = experiment.load_splits(config)
    pre = experiment.fit_preprocessor(config, splits.train)

    def data(ds):
        if ds is None:
            return None
        x, y = experiment.arrays(ds)
        return (pre.transform(x) if pre is not None else x), y

    train, val = data(splits.train), data(splits.val)
    kwargs = experiment.model_kwargs(config, train[0].shape[1:], len(splits.classes))
    model = models.get_model(config.model.name, **kwargs)
    optimizer = experiment.build_optimizer(config, model)
    return model, train, val, experiment.loss_function(config), optimizer


def run(args):
    from gradkit import doctor
    from gradkit.config import ConfigError, load_config

    if args.run_dir is not None:
        if args.config or args.model or args.dataset or args.set:
            raise ConfigError(["doctor: give a run folder or a configuration, not both"])
        from gradkit.doctor.posthoc import diagnose_run

        run_dir = run_folder_of(args.run_dir)
        report = diagnose_run(run_dir)
        out = Path(args.out) if args.out else run_dir
    else:
        overrides = {key: value for key, value in (
            ("model.name", args.model), ("dataset.name", args.dataset),
            ("optimizer.lr", args.lr), ("optimizer.name", args.optimizer),
            ("batch_size", args.batch_size)) if value is not None}
        from gradkit.cli.train import _yaml_value

        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError([f"--set {item!r}: expected KEY=VALUE"])
            overrides[key.strip()] = _yaml_value(item, value)
        config = load_config(args.config, overrides)
        model, train, val, loss_fn, optimizer = build(config)
        checks = [c.strip() for c in args.checks.split(",")] if args.checks else None
        report = doctor.examine(model, train, val=val, loss_fn=loss_fn, optimizer=optimizer,
                                batch_size=config.batch_size, steps=args.steps,
                                seed=args.seed, checks=checks, progress=not args.quiet)
        report.meta["config"] = {"model": config.model.name, "dataset": config.dataset.name}
        out = Path(args.out) if args.out else Path("runs") / (
            f"doctor-{config.model.name}-{config.dataset.name}")
        if args.try_fixes:
            report.try_fixes()
    print(report)
    if report.fixes:
        print("fixes tried:")
        for fix in report.fixes:
            print("  " + _fix_line(fix))
    page = report.save(out)
    print(f"report: {page}\n  {page.resolve().as_uri()}")
    sys.stdout.flush()
    return 0 if report.ok else 1


def _fix_line(fix):
    from gradkit.report.doctor import fix_summary

    change = " ".join(f"{k}={v}" for k, v in fix.get("overrides", {}).items())
    return f"{fix['code']}: {change}: {fix_summary(fix)}"
