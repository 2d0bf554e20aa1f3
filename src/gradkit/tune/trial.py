"""One trial: a normal run folder trained from its config, reporting to an Optuna trial.

``train_trial`` is ``experiment.train`` with one more callback, ``ReportToTrial``: after every
epoch it reports the validation metric to the trial (Optuna's pruners read these per-epoch
values) and, when the pruner says so, stops the Trainer at the end of that epoch; the epoch's
checkpoint is still written (the Checkpoint callback runs after it), so a pruned trial is a
run folder like the others, without results.json or report.html. The trial's value is the
best value of the metric over its epochs: what its best checkpoint holds.
"""

import math
import time

from gradkit import experiment
from gradkit.config import save_config
from gradkit.train.callbacks.base import PRIORITY_EDITOR, Callback, monitored
from gradkit.train.runs import open_run


class ReportToTrial(Callback):
    """Report ``metric`` to ``trial`` each epoch; stop training when it should be pruned
    (never after the last epoch: a trial that trained all its epochs is complete)."""

    priority = PRIORITY_EDITOR

    def __init__(self, trial, metric):
        self.trial, self.metric = trial, metric
        self.pruned_at = None

    def on_epoch_end(self, trainer):
        value = monitored(trainer, self.metric, "tune")
        epoch = trainer.state.epoch
        self.trial.report(value, epoch)
        last = trainer.max_epochs is not None and epoch >= trainer.max_epochs
        if not last and self.trial.should_prune():
            self.pruned_at = epoch
            trainer.should_stop = True
            trainer.stop_reason = (f"tune: pruned at epoch {epoch} ({self.metric} "
                                   f"{value:.4f})")


def best_value(history, metric, direction):
    """The best finite value of ``metric`` over the epoch records; ValueError when none."""
    values = [r[metric] for r in history if metric in r and math.isfinite(r[metric])]
    if not values:
        raise ValueError(f"tune: no finite {metric} in the run's epochs (it diverged or "
                         "never validated)")
    return max(values) if direction == "maximize" else min(values)


def train_trial(config, trial, metric, direction, report=True, log=print):
    """Train ``config`` (its ``out`` is the trial's run folder) reporting to ``trial``;
    returns (value, pruned_at: the epoch it was pruned at, or None)."""
    reporter = ReportToTrial(trial, metric)
    with open_run(config, None, log) as start:
        exp = experiment.prepare(config, run_dir=start.run_dir)
        exp.trainer.callbacks.append(reporter)
        save_config(exp.config, exp.run_dir / "config.yaml")
        started = time.perf_counter()
        history = exp.trainer.fit()
        if reporter.pruned_at is None:
            exp.results = experiment.score_run(exp, time.perf_counter() - started, log)
    if reporter.pruned_at is None and report:
        experiment.report_run(exp.run_dir, log)
    return best_value(history, metric, direction), reporter.pruned_at
