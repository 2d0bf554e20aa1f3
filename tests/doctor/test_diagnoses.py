"""The doctor's diagnoses: lr range test, critical points, model bias vs optimization issue."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import doctor, models, nn, optim
from gradkit.data import datasets
from gradkit.doctor import diagnoses, hessian, lr_range, variants
from gradkit.doctor.findings import Finding
from gradkit.doctor.setup import Setup


def _spiral():
    d = datasets.spiral()
    return d.x, d.y


def _digits(n=600):
    d = datasets.digits(flatten=True)
    return d.x[:n], d.y[:n]


def _mlp(sizes, act=nn.ReLU, seed=0):
    gk.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def _zeroed(model):
    with gk.no_grad():
        for p in model.parameters():
            p._data[...] = 0
    return model


def _examine(model, train, optimizer, check, steps=300):
    return doctor.examine(model, train, optimizer=optimizer, steps=steps, checks=[check],
                          progress=False)


# ----- learning-rate range test -----

def test_lr_range_suggestion_is_stable_across_seeds_and_reports_its_spread():
    x, y = _digits()
    suggestions = []
    for seed in range(3):
        model = _mlp([64, 64, 10], seed=seed)
        setup = Setup(model, (x, y), seed=seed)
        r = lr_range.lr_range(setup)
        lo, hi = r["spread"]
        assert lo <= r["suggested"] <= hi
        assert 1e-4 < r["suggested"] < 1e-1  # Adam on digits: around 5e-3
        assert setup.cache["lr_suggestion"] == r["suggested"]
        suggestions.append(r["suggested"])
    assert max(suggestions) / min(suggestions) < 3
    figure = setup.cache["figures"]["lr_range"]
    assert len(figure["lr"]) == len(figure["loss"]) == lr_range.SWEEP_STEPS
    assert len(figure["runs"]) == lr_range.SWEEPS
    assert figure["configured"] == pytest.approx(1e-3)


def test_lr_100x_too_high_is_found_by_the_range_test_and_the_usual_lr_is_not():
    x, y = _spiral()
    model = _mlp([2, 100, 3])
    report = _examine(model, (x, y), optim.SGD(model.parameters(), lr=100.0), "lr_range_test")
    assert report.codes() == ["lr_too_high"]
    finding = report.findings[0]
    assert finding.evidence["blow_up_lr"] <= 100.0
    assert 1e-3 < finding.overrides["optimizer.lr"] < 2.0
    assert report.checks["lr_range_test"].status == "fail"
    healthy = _examine(model, (x, y), optim.SGD(model.parameters(), lr=1.0), "lr_range_test")
    assert healthy.codes() == [] and healthy.checks["lr_range_test"].status == "pass"


def test_lr_far_too_low_is_found_and_the_default_is_not():
    x, y = _digits()
    model = _mlp([64, 64, 10])
    report = _examine(model, (x, y), optim.Adam(model.parameters(), lr=1e-7), "lr_range_test")
    assert report.codes() == ["lr_too_low"]
    assert report.findings[0].overrides["optimizer.lr"] > 1e-4
    healthy = _examine(model, (x, y), optim.Adam(model.parameters(), lr=1e-3), "lr_range_test")
    assert healthy.codes() == []


def test_probe_lr_findings_get_the_measured_suggestion_instead_of_a_duplicate():
    x, y = _spiral()
    model = _mlp([2, 100, 3])
    setup = Setup(model, (x, y), optimizer=optim.SGD(model.parameters(), lr=100.0))
    earlier = [Finding("lr_too_high", "error", "the loss diverges",
                       overrides={"optimizer.lr": 10.0}),
               Finding("dead_relu", "warning", "dead units", overrides={"optimizer.lr": 10.0}),
               Finding("lr_too_low", "warning", "odd", overrides={"optimizer.lr": 1000.0})]
    setup.cache["findings"] = earlier
    result, found = diagnoses.lr_range_test(setup)
    assert found == [] and result.status == "fail"
    suggested = float(f"{setup.cache['lr_suggestion']:.2g}")
    assert [f.overrides["optimizer.lr"] for f in earlier] == [suggested, suggested, 1000.0]
    assert earlier[0].evidence["range_test_blow_up_lr"] <= 100.0
    assert "range_test_suggested_lr" not in earlier[2].evidence


# ----- critical points -----

def test_zero_initialized_net_stalls_at_a_saddle_point_and_random_init_does_not():
    x, y = _spiral()
    model = _zeroed(_mlp([2, 20, 3], act=nn.Tanh))
    report = _examine(model, (x, y), optim.SGD(model.parameters(), lr=0.5), "critical_point")
    assert report.codes() == ["saddle_point"]
    ev = report.findings[0].evidence
    assert ev["lambda_min"] < -0.1 * ev["lambda_max"]  # ±: the W1–W2 coupling at zero
    assert ev["gradient_step_gain"] < diagnoses.FLAT
    assert ev["loss_drop_along_escape"] > 0
    assert report.findings[0].overrides == {"optimizer.name": "adam", "optimizer.lr": 1e-3}
    assert len(report.figures["critical_point"]["ritz"]) >= 2
    random_init = _mlp([2, 20, 3], act=nn.Tanh)
    healthy = _examine(random_init, (x, y), optim.SGD(random_init.parameters(), lr=0.5),
                       "critical_point")
    assert healthy.codes() == [] and healthy.checks["critical_point"].status == "pass"


def test_converged_linear_model_is_at_a_local_minimum_and_a_hidden_layer_is_not_stuck():
    x, y = _spiral()
    linear = _mlp([2, 3])
    report = _examine(linear, (x, y), optim.Adam(linear.parameters(), lr=0.05),
                      "critical_point")
    assert report.codes() == ["local_minimum"]
    ev = report.findings[0].evidence
    assert abs(ev["lambda_min"]) < 1e-6 * ev["lambda_max"]  # convex: no negative curvature
    assert ev["end_over_reference"] > diagnoses.HIGH_LOSS
    mlp = _mlp([2, 100, 3])
    healthy = _examine(mlp, (x, y), optim.Adam(mlp.parameters(), lr=0.05), "critical_point")
    assert healthy.codes() == []
    assert "is low" in healthy.checks["critical_point"].note


def test_a_run_stalled_by_a_tiny_lr_is_not_called_a_critical_point():
    x, y = _digits()
    model = _mlp([64, 64, 10])
    setup = Setup(model, (x, y), optimizer=optim.SGD(model.parameters(), lr=1e-7), steps=100)
    for check in (diagnoses.critical_point, diagnoses.model_capacity):
        result, found = check(setup)
        assert result.status == "pass" and found == []
        assert "the steps are too small" in result.note


def test_critical_point_skips_a_model_above_the_size_limit(monkeypatch):
    x, y = _spiral()
    model = _mlp([2, 3])
    monkeypatch.setattr(hessian, "MAX_PARAMETERS", 5)
    setup = Setup(model, (x, y), optimizer=optim.Adam(model.parameters(), lr=0.05))
    result, found = diagnoses.critical_point(setup)
    assert result.status == "skip" and found == []
    assert "9 parameters, above the Hessian check's limit of 5" in result.note


# ----- model bias or optimization issue -----

def test_linear_model_on_spiral_has_model_bias_and_a_wide_mlp_does_not():
    x, y = _spiral()
    linear = _mlp([2, 3])
    report = _examine(linear, (x, y), optim.Adam(linear.parameters(), lr=0.05),
                      "model_capacity")
    assert report.codes() == ["model_bias"]
    ev = report.findings[0].evidence
    assert ev["deeper_end_loss"] < 0.5 * ev["fresh_end_loss"]
    assert set(report.figures["model_capacity"]) == {"model", "fresh", "deeper", "wider"}
    mlp = _mlp([2, 100, 3])
    healthy = _examine(mlp, (x, y), optim.Adam(mlp.parameters(), lr=0.05), "model_capacity")
    assert healthy.codes() == [] and healthy.checks["model_capacity"].status == "pass"


def test_zero_init_is_an_optimization_issue_not_model_bias_and_no_lr_is_suggested():
    x, y = _spiral()
    model = _zeroed(_mlp([2, 20, 3], act=nn.Tanh))
    report = doctor.examine(model, (x, y), optimizer=optim.SGD(model.parameters(), lr=0.5),
                            checks=["lr_range_test", "model_capacity"], progress=False)
    assert report.codes() == ["optimization_issue"]
    ev = report.findings[0].evidence
    assert ev["fresh_end_loss"] < 0.8 * ev["end_loss"]
    assert "fresh initialization" in report.findings[0].title
    assert report.findings[0].overrides == {}  # no lr lowers the loss: none is suggested
    sweep = report.checks["lr_range_test"]
    assert sweep.status == "skip" and sweep.value < lr_range.MIN_DROP
    assert "no learning rate from 1e-06 to 50 lowered the loss by 5%" in sweep.note


def test_a_slow_run_that_has_not_converged_asks_no_capacity_question():
    x, y = _regression()
    setup = Setup(_mlp([3, 8, 1]), (x, y), loss_fn=nn.functional.mse_loss, steps=60)
    result, found = diagnoses.model_capacity(setup)
    assert result.status == "pass" and found == []
    assert "has not converged" in result.note
    assert setup.cache["curvature"]["gain"] >= diagnoses.FLAT


def test_variants_of_an_mlp_have_the_promised_shapes():
    seq = _mlp([4, 8, 6, 3])
    shapes = {kind: [(m.in_features, m.out_features) for m in variants.rebuilt(seq, kind)
                     if isinstance(m, nn.Linear)]
              for kind in (None, "deeper", "wider", "shallower")}
    assert shapes[None] == [(4, 8), (8, 6), (6, 3)]
    assert shapes["deeper"] == [(4, 8), (8, 6), (6, 8), (8, 3)]
    assert shapes["wider"] == [(4, 16), (16, 12), (12, 3)]
    assert shapes["shallower"] == [(4, 8), (8, 3)]


def test_the_zoo_mlp_is_found_inside_its_wrapper_and_replaced_on_a_copy():
    gk.manual_seed(0)
    model = models.mlp(2, hidden=(8,), num_classes=3, dropout=0.1)
    name, seq = variants.find_mlp(model)
    assert name == "layers" and seq is model.layers
    setup = Setup(model, _spiral())
    with gk.random.fork_rng(0):
        wider = variants.with_mlp(setup, name, variants.rebuilt(seq, "wider"))
    assert type(wider) is type(model) and wider.layers[0].out_features == 16
    assert model.layers[0].out_features == 8
    assert wider(gk.tensor(setup.x[:4])).shape == (4, 3)
    assert variants.find_mlp(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(),
                                           nn.Linear(2, 3))) is None


def test_model_capacity_skips_a_model_that_is_not_a_sequential_mlp():
    d = datasets.digits()
    gk.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 10))
    setup = Setup(cnn, (d.x[:200], d.y[:200]), steps=40)
    result, found = diagnoses.model_capacity(setup)
    assert result.status == "skip" and found == []
    assert "nn.Sequential MLP" in result.note


def test_a_plateau_of_dead_units_is_not_classified_as_a_critical_point():
    x, y = _spiral()
    model = _mlp([2, 100, 3])
    report = _examine(model, (x, y), optim.SGD(model.parameters(), lr=100.0), "critical_point")
    result = report.checks["critical_point"]
    assert result.status == "skip" and result.value == 0.0
    assert "flat in every direction" in result.note


def _regression():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3)).astype(np.float32)
    return x, (x @ np.array([1.0, -2.0, 0.5], np.float32))[:, None]


@pytest.mark.parametrize("case", ["nan_input", "regression", "frozen", "batchnorm_dropout",
                                  "zero_regression"])
def test_the_diagnoses_run_on_odd_configurations_without_raising(case):
    x, y = _spiral()
    model, loss_fn, opt = _mlp([2, 16, 3]), None, None
    if case == "nan_input":
        x = x.copy()
        x[0, 0] = np.nan
    elif case in ("regression", "zero_regression"):
        (x, y), model, loss_fn = _regression(), _mlp([3, 8, 1]), nn.functional.mse_loss
        if case == "zero_regression":
            model, opt = _zeroed(model), optim.SGD(model.parameters(), lr=1e-3)
    elif case == "frozen":
        model[0].weight.requires_grad_(False)
    else:
        gk.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(16, 3))
    setup = Setup(model, (x, y), loss_fn=loss_fn, optimizer=opt, steps=60)
    for check in (diagnoses.lr_range_test, diagnoses.critical_point, diagnoses.model_capacity):
        result, found = check(setup)
        assert result.status in ("pass", "fail", "skip")
        assert all(f.code in doctor.CODES or f.code.startswith("lr_") for f in found)
