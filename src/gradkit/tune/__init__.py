"""Hyper-parameter search on Optuna, with the course notes' method as the default.

    from gradkit import tune
    space = {"optimizer.lr": tune.loguniform(1e-5, 1e-1),
             "regularization.dropout": tune.uniform(0.0, 0.5), "batch_size": tune.choice([32, 64])}
    study = tune.search("run.yaml", space, trials=40, out="runs/tune-lenet", seed=0)
    study.best, study.table(), study.warnings    # the best trial; every trial; edge warnings
    study = tune.load("runs/tune-lenet")          # reopen it, also while it runs

The method: random search (not grid) on log scales for rates, one validation split, and
coarse-to-fine stages (``stages="coarse-to-fine"``: three quarters of the trials for 1 epoch
over the full ranges, then the rest for the config's epochs over ranges narrowed to the top
trials, widened instead at an edge where the best sits; gradkit.tune.stages), with Optuna's
median pruner on the per-epoch validation metric. ``metric`` (default "val_accuracy") is the
best validation value of a trial's epochs. Every trial is a normal run folder under
``out/trials/`` (its best checkpoint is named with its val_accuracy), so ``gradkit eval`` and
``gradkit report`` work on it. The storage is Optuna's journal file in ``out`` (safe for several
processes on one machine) or any Optuna storage URL (PostgreSQL/MySQL for several machines);
a killed search resumes where it stopped (``search`` with the same ``out``, or ``resume``),
``workers=N`` runs N processes on one study (gradkit.tune.search). The folder's layout and
what a Study reads back: gradkit.tune.study. Ensembles of the top trials, of seeds or of one
run's checkpoints: gradkit.tune.ensemble; one model trained on an ensemble's soft targets:
gradkit.tune.distill.
"""

from gradkit.tune.distill import distill
from gradkit.tune.ensemble import Ensemble
from gradkit.tune.search import resume, search
from gradkit.tune.space import Choice, Range, choice, intuniform, loguniform, uniform
from gradkit.tune.study import Study, load

__all__ = ["search", "resume", "load", "Study", "Ensemble", "distill", "loguniform", "uniform",
           "intuniform", "choice", "Range", "Choice"]
