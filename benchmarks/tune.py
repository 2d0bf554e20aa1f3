"""What the notes' search method buys on MNIST-1D with the zoo CNN (gradkit.tune).

    python benchmarks/tune.py [--trials 24] [--epochs 4] [--seeds 0,1,2] [--out runs/bench-tune]
    python benchmarks/tune.py --quick          # 8 trials of 2 epochs, one seed: a few minutes

(a) Best validation accuracy against compute (total epochs trained) for plain random search
    (every trial the full epochs, no pruning), coarse-to-fine with median pruning, and TPE
    with median pruning, each for every seed; and the epochs each needed to first reach the
    best value random search found with that seed (goal: coarse-to-fine with pruning within
    a third of random search's epochs).
(b) Test accuracy of the best single trial (its best checkpoint) against an ensemble of the
    top 5 trials of the coarse-to-fine search and of 5 seeds of the best trial's config
    (goal: +1 point; the MNIST-1D paper reports about 94% for a CNN).
(c) Trials per hour with 1 and 2 workers on the same search (one BLAS thread each; a worker
    process starts by importing gradkit and generating MNIST-1D, a few seconds, so short
    searches favour one worker).
The figures are printed and written to OUT/results.json.
"""

import argparse
import json
import shutil
import time
from pathlib import Path

from gradkit import tune
from gradkit.config import make_config
from gradkit.tune import Ensemble
from gradkit.tune.space import with_values

SPACE = {"optimizer.lr": tune.loguniform(1e-4, 1e-1),
         "optimizer.weight_decay": tune.loguniform(1e-6, 1e-2),
         "batch_size": tune.choice([32, 64, 128])}


def base_config(epochs):
    return make_config({"model": {"name": "mnist1d_cnn"}, "dataset": {"name": "mnist1d"},
                        "epochs": epochs, "optimizer": {"name": "adam"},
                        "schedule": {"name": "cosine"}})


def quiet(*args):
    pass


def compute_curve(study):
    """[(epochs spent so far, best value so far)] in the order the trials ran."""
    spent, best, curve = 0, 0.0, []
    for row in study.table():
        spent += len(row["values"])
        if row["state"] == "COMPLETE":
            best = max(best, row["value"])
        curve.append((spent, best))
    return curve


def epochs_to_reach(curve, target):
    return next((spent for spent, best in curve if best >= target), None)


def part_a(args, out):
    methods = {"random": dict(stages=None, sampler="random", pruner=None),
               "coarse-to-fine+median": dict(stages="coarse-to-fine", sampler="random",
                                             pruner="median"),
               "tpe+median": dict(stages=None, sampler="tpe", pruner="median")}
    rows, studies = [], {}
    for seed in args.seeds:
        target = None
        for name, kwargs in methods.items():
            folder = out / f"{name}-seed{seed}"
            shutil.rmtree(folder, ignore_errors=True)
            study = tune.search(base_config(args.epochs), SPACE, trials=args.trials,
                                out=folder, seed=seed, report=False, log=quiet, **kwargs)
            curve = compute_curve(study)
            target = curve[-1][1] if name == "random" else target
            rows.append({"method": name, "seed": seed, "best_val": study.best["value"],
                         "epochs": curve[-1][0],
                         "epochs_to_random_best": epochs_to_reach(curve, target)})
            studies[(name, seed)] = study
            print(json.dumps(rows[-1]))
    return rows, studies


def part_b(args, study, out):
    best = study.best
    single = json.loads((Path(best["run"]) / "results.json").read_text())["best_val"]["test"]
    top = Ensemble.from_study(study, top=5).evaluate()
    config = with_values(study.spec["config"], best["params"])
    seeds = Ensemble.from_seeds(config, seeds=range(5), out=out / "seeds", log=quiet).evaluate()
    return {"best_single_test": single["accuracy"], "top5_ensemble_test": top["accuracy"],
            "top5_members": [m["accuracy"] for m in top["members"]],
            "seeds5_ensemble_test": seeds["accuracy"],
            "seeds5_members": [m["accuracy"] for m in seeds["members"]]}


def part_c(args, out):
    rates = {}
    for workers in (1, 2):
        folder = out / f"workers{workers}"
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        tune.search(base_config(args.epochs), SPACE, trials=args.workers_trials, stages=None,
                    pruner=None, workers=workers, out=folder, report=False, log=quiet)
        rates[workers] = round(args.workers_trials * 3600 / (time.perf_counter() - start))
    return {"trials_per_hour": rates}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--workers-trials", type=int, default=8)
    parser.add_argument("--out", default="runs/bench-tune")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.epochs, args.seeds, args.workers_trials = 8, 2, "0", 4
    args.seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, studies = part_a(args, out)
    ensembles = part_b(args, studies[("coarse-to-fine+median", args.seeds[0])], out)
    print(json.dumps(ensembles))
    workers = part_c(args, out)
    print(json.dumps(workers))
    results = {"search": rows, "ensembles": ensembles, **workers}
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
