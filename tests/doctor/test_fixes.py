"""Verified fixes: report.try_fixes() re-runs the probe with each finding's overrides."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import doctor, nn, optim
from gradkit.data import datasets
from gradkit.doctor import fixes
from gradkit.doctor.findings import CheckResult, Finding
from gradkit.doctor.report import DoctorReport
from gradkit.doctor.setup import Setup


def _spiral_net(seed=0):
    gk.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))


def test_try_fixes_cures_a_learning_rate_100x_too_high():
    d = datasets.spiral()
    model = _spiral_net()
    report = doctor.examine(model, (d.x, d.y), optimizer=optim.SGD(model.parameters(), lr=100.0),
                            steps=200, checks=["loss_curve", "lr_range_test"], progress=False)
    assert "lr_too_high" in report.codes()
    state, weights = gk.random.get_rng_state(), [p._data.copy() for p in model.parameters()]
    results = report.try_fixes()
    assert gk.random.get_rng_state() == state
    for before, p in zip(weights, model.parameters()):
        np.testing.assert_array_equal(before, p._data)
    suggested = float(f"{report.setup.cache['lr_suggestion']:.2g}")
    fix = next(r for r in results if r["overrides"] == {"optimizer.lr": suggested})
    assert fix["code"] == "lr_too_high" and fix["applied"] and fix["cured"], fix
    assert 1e-3 < suggested < 1.0
    assert fix["before"]["lr_range_test"] == 100.0
    assert fix["after"]["lr_range_test"] == suggested
    assert fix["after"]["train_loss"] < np.log(3) < 10 * np.log(3) < fix["before"]["train_loss"]
    assert fix["after"]["train_accuracy"] > 0.5 > fix["before"]["train_accuracy"]
    assert fix["new"] == [] and fix["skipped"] == []
    assert report.fixes is results and report.to_dict()["fixes"][0]["code"] == fix["code"]


def _setup(model=None, optimizer=None, val=True):
    d = datasets.digits(flatten=True)
    model = model or nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    val_data = (d.x[300:400] * 16, d.y[300:400]) if val else None
    return Setup(model, (d.x[:300] * 16, d.y[:300]), val_data, optimizer=optimizer, steps=20)


def _opt(setup):
    return setup.optimizer_for(setup.copy_model())


def test_optimizer_overrides_set_every_group_and_keep_the_groups():
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    groups = nn.utils.param_groups_weight_decay(model, 1e-3)
    setup = _setup(model, optim.SGD(groups, lr=0.1, momentum=0.5))
    fixed = fixes.apply_overrides(setup, {"optimizer.lr": 0.01, "optimizer.momentum": 0.9})
    opt = _opt(fixed)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]
    assert [g["weight_decay"] for g in opt.param_groups] == [1e-3, 0.0]
    assert all(g["lr"] == 0.01 and g["momentum"] == 0.9 for g in opt.param_groups)
    switched = _opt(fixes.apply_overrides(setup, {"optimizer.name": "adam"}))
    assert type(switched).__name__ == "Adam"
    assert [g["weight_decay"] for g in switched.param_groups] == [1e-3, 0.0]
    assert switched.param_groups[0]["lr"] == 0.1


def test_overrides_that_do_not_fit_the_configuration_say_why():
    setup = _setup(optimizer=None)  # Adam
    with pytest.raises(fixes.NotApplicable, match="Adam has no hyper-parameter momentum"):
        fixes.apply_overrides(setup, {"optimizer.momentum": 0.9})
    with pytest.raises(fixes.NotApplicable, match="no nn.Dropout layer"):
        fixes.apply_overrides(setup, {"regularization.dropout": 0.5})
    with pytest.raises(fixes.NotApplicable, match="model.kwargs.hidden"):
        fixes.apply_overrides(setup, {"model.kwargs.hidden": [256]})


def test_data_overrides_standardize_on_train_only_and_set_dropout_and_batch_size():
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 10))
    setup = _setup(model)
    fixed = fixes.apply_overrides(setup, {"preprocessing.name": "standardize",
                                          "regularization.dropout": 0.4, "batch_size": 32})
    mean, std = setup.x.mean(0), setup.x.std(0)
    kept = std > 1e-3  # constant pixels (the digits' borders) are only centred
    np.testing.assert_allclose(fixed.x.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(fixed.x_val[:, kept],
                               (setup.x_val[:, kept] - mean[kept]) / std[kept], atol=1e-3)
    assert fixed.batch_size == 32
    assert [m.p for m in fixed.model.modules() if isinstance(m, nn.Dropout)] == [0.4]
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.1]  # untouched


def test_a_report_without_a_configuration_cannot_try_fixes():
    finding = Finding("overfitting", "warning", "val loss rises",
                      overrides={"optimizer.weight_decay": 5e-4})
    report = DoctorReport([finding], {"fit": CheckResult("fail")})
    [result] = report.try_fixes()
    assert result["applied"] is False and result["cured"] is False
    assert "gradkit train --set optimizer.weight_decay=0.0005" in result["reason"]


def test_an_override_that_cannot_apply_is_reported_not_run():
    setup = _setup()
    finding = Finding("overfitting", "warning", "val loss rises",
                      overrides={"regularization.dropout": 0.5})
    report = DoctorReport([finding], {"generalization": CheckResult("fail")}, setup=setup)
    [result] = report.try_fixes()
    assert result["applied"] is False and "no nn.Dropout layer" in result["reason"]


def test_the_saddle_fix_is_verified_on_a_deep_sigmoid_net():
    d = datasets.spiral()
    gk.manual_seed(0)
    layers = [nn.Linear(2, 32), nn.Sigmoid()]
    for _ in range(6):
        layers += [nn.Linear(32, 32), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(32, 3))
    report = doctor.examine(model, (d.x, d.y), optimizer=optim.SGD(model.parameters(), lr=0.05),
                            checks=["critical_point"], progress=False)
    assert report.codes() == ["saddle_point"]
    [fix] = report.try_fixes()
    assert fix["overrides"] == {"optimizer.name": "adam", "optimizer.lr": 1e-3}
    assert fix["cured"] and fix["after"]["train_loss"] < fix["before"]["train_loss"] - 0.1


def test_try_fixes_with_other_steps_measures_before_with_those_steps_too():
    d = datasets.spiral()
    model = _spiral_net()
    report = doctor.examine(model, (d.x, d.y), optimizer=optim.SGD(model.parameters(), lr=100.0),
                            steps=200, checks=["loss_curve", "lr_range_test"], progress=False)
    short = report.try_fixes(steps=60)
    full = report.try_fixes()
    assert short[0]["before"]["train_loss"] != full[0]["before"]["train_loss"]
    assert short[0]["before"]["train_loss"] > np.log(3)  # still diverged: the fault is kept
    assert report.setup.steps == 200
