"""Post-hoc diagnosis of a run folder from its metrics.jsonl and config.yaml."""

import json
import math

import numpy as np
import pytest

from gradkit.doctor.posthoc import diagnose_run, read_metrics

STEPS_PER_EPOCH = 63


def _write_run(tmp_path, train_loss, val=None, train_acc=None, lr=0.05, step_losses=None,
               logged_lr=None):
    """A run folder: config.yaml (10 classes, batch 64, val share 0.1) and metrics.jsonl with
    one step line per step (``step_losses``, or the epoch's train loss repeated with a little
    noise) and one epoch line per epoch; ``logged_lr`` the lr the lines show (a schedule's)."""
    logged = lr if logged_lr is None else logged_lr
    (tmp_path / "config.yaml").write_text(
        "model: {name: mlp, kwargs: {num_classes: 10}}\n"
        "dataset: {name: digits, val_fraction: 0.1}\nbatch_size: 64\n"
        f"optimizer: {{name: sgd, lr: {lr}}}\n")
    rng = np.random.default_rng(0)
    lines, step = [], 0
    for e, loss in enumerate(train_loss):
        for i in range(STEPS_PER_EPOCH):
            step += 1
            value = (step_losses[step - 1] if step_losses is not None
                     else loss * (1 + 0.02 * rng.standard_normal()))
            lines.append({"kind": "step", "epoch": e + 1, "step": step,
                          "loss": None if not math.isfinite(value) else value, "lr": logged})
        record = {"kind": "epoch", "epoch": e + 1, "step": step,
                  "train_loss": loss if math.isfinite(loss) else None, "lr": logged}
        if train_acc is not None:
            record["train_accuracy"] = train_acc[e]
        if val is not None:
            record["val_loss"], record["val_accuracy"] = val[0][e], val[1][e]
        lines.append(record)
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines)
                                            + '{"kind": "epo')  # a torn last line
    return tmp_path


def _falling(n, start=2.3, end=0.05):
    return list(np.geomspace(start, end, n))


def test_healthy_run_gives_no_finding(tmp_path):
    loss = _falling(12)
    acc = list(np.linspace(0.5, 0.99, 12))
    run = _write_run(tmp_path, loss, (_falling(12, 2.3, 0.08), list(np.linspace(0.5, 0.97, 12))),
                     acc)
    report = diagnose_run(run)
    assert report.codes() == [] and report.ok
    assert report.checks["loss_curve"].value == "healthy"
    assert report.meta["epochs"] == 12 and report.meta["post_hoc"] is True
    assert len(report.figures["loss_curve"]["loss"]) == 12 * STEPS_PER_EPOCH


def test_overfitting_run_is_found_and_a_tracking_validation_is_not(tmp_path):
    loss = _falling(15, 2.3, 0.01)
    acc = list(np.linspace(0.5, 1.0, 15))
    val_loss = list(np.linspace(1.5, 0.5, 6)) + list(np.linspace(0.55, 1.2, 9))
    val_acc = list(np.linspace(0.5, 0.85, 15))
    report = diagnose_run(_write_run(tmp_path, loss, (val_loss, val_acc), acc))
    assert report.codes() == ["overfitting"]
    ev = report.findings[0].evidence
    assert ev["val_loss"] == pytest.approx(1.2) and ev["lowest_val_loss"] == pytest.approx(0.5)
    assert report.findings[0].overrides == {"optimizer.weight_decay": 5e-4}


def test_underfitting_run_levels_off_at_a_poor_accuracy(tmp_path):
    loss = list(np.linspace(2.3, 1.8, 5)) + [1.8] * 10
    acc = list(np.linspace(0.1, 0.3, 5)) + [0.3] * 10
    val = ([l + 0.02 for l in loss], [a - 0.01 for a in acc])
    report = diagnose_run(_write_run(tmp_path, loss, val, acc))
    assert report.codes() == ["underfitting"]
    assert report.findings[0].evidence["train_accuracy"] == pytest.approx(0.3)


def test_diverging_run_is_lr_too_high_ranked_before_its_nan(tmp_path):
    steps = 4 * STEPS_PER_EPOCH
    step_losses = list(2.3 * np.geomspace(1, 1e8, steps - 10)) + [math.nan] * 10
    loss = [2.3, 50.0, 1e6, math.nan]
    report = diagnose_run(_write_run(tmp_path, loss, lr=10.0, step_losses=step_losses))
    assert report.codes()[:2] == ["lr_too_high", "nan_loss"]
    assert report.findings[0].severity == "error"
    assert report.findings[0].overrides == {"optimizer.lr": 1.0}
    assert report.checks["non_finite_loss"].value == f"step {steps - 9}"
    assert report.checks["generalization"].status == "skip"


def test_the_override_changes_the_configured_lr_not_the_schedules_last(tmp_path):
    steps = 4 * STEPS_PER_EPOCH
    run = _write_run(tmp_path, [2.3, 50.0, 1e6, 1e9], lr=0.5, logged_lr=0.003,
                     step_losses=list(2.3 * np.geomspace(1, 1e9, steps)))
    assert diagnose_run(run).findings[0].overrides == {"optimizer.lr": 0.05}


def test_too_slow_run_suggests_a_larger_lr(tmp_path):
    loss = list(np.linspace(2.30, 2.0, 10))
    steps = list(np.linspace(2.3, 2.0, 10 * STEPS_PER_EPOCH))
    report = diagnose_run(_write_run(tmp_path, loss, lr=1e-4, step_losses=steps))
    assert report.codes()[0] == "lr_too_low"
    assert report.findings[0].overrides == {"optimizer.lr": 1e-3}
    assert report.checks["loss_curve"].value == "too slow"


def test_run_without_validation_gets_the_info_note_and_stays_ok(tmp_path):
    report = diagnose_run(_write_run(tmp_path, _falling(6), train_acc=[0.5, 0.7, 0.8, 0.9,
                                                                       0.95, 0.97]))
    assert report.codes() == ["no_validation_set"] and report.ok


def test_metrics_reader_skips_torn_lines_and_reads_nulls_as_nan(tmp_path):
    run = _write_run(tmp_path, [2.3, math.nan])
    steps, epochs = read_metrics(run)
    assert len(steps) == 2 * STEPS_PER_EPOCH and len(epochs) == 2
    assert math.isnan(epochs[1]["train_loss"])


def test_a_folder_without_metrics_says_what_it_is_not(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.jsonl not found: .* is not a run "
                                                "folder of gradkit train"):
        diagnose_run(tmp_path)


def test_a_real_run_folder_is_read(tmp_path):
    from gradkit import experiment
    from gradkit.config import make_config

    config = make_config({"model": {"name": "mlp", "kwargs": {"hidden": [32]}},
                          "dataset": {"name": "spiral"}, "epochs": 3, "batch_size": 32,
                          "optimizer": {"name": "sgd", "lr": 0.2},
                          "schedule": {"name": "constant"}, "out": str(tmp_path / "run")})
    experiment.train(config, report=False, log=lambda *args: None)
    report = diagnose_run(tmp_path / "run")
    assert report.meta["epochs"] == 3 and report.meta["model"] == "mlp"
    assert report.meta["steps"] == len(report.figures["loss_curve"]["loss"])  # a line a step
    assert report.checks["validation_set"].status == "pass"
    assert len(report.figures["loss_curve"]["val"]["loss"]) == 3
    assert set(report.checks) == {"loss_curve", "non_finite_loss", "generalization",
                                  "validation_set"}
