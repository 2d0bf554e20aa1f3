"""The probe run and its checks (doctor.training, doctor.rules): each finding code from a
tiny broken setup (top-ranked where it is the only fault), and not from the repaired one."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import doctor, nn, optim
from gradkit.data import datasets
from gradkit.doctor import training
from gradkit.doctor.findings import sort_findings
from gradkit.doctor.setup import Setup

PROBE_CHECKS = ["loss_curve", "gradient_flow", "activations", "parameter_updates",
                "non_finite_loss", "generalization"]


@pytest.fixture(scope="module")
def digits():
    ds = datasets.digits(flatten=True)
    idx = np.random.default_rng(0).permutation(len(ds.x))
    return (ds.x[idx[:1000]], ds.y[idx[:1000]]), (ds.x[idx[1000:1400]], ds.y[idx[1000:1400]])


@pytest.fixture(scope="module")
def spiral():
    ds = datasets.spiral(seed=0)
    idx = np.random.default_rng(0).permutation(len(ds.x))
    return (ds.x[idx[:240]], ds.y[idx[:240]]), (ds.x[idx[240:]], ds.y[idx[240:]])


def mlp(widths, act=nn.ReLU, d_in=64, classes=10, gain=1.0, seed=0):
    gk.manual_seed(seed)
    layers, w = [], d_in
    for width in widths:
        linear = nn.Linear(w, width)
        linear.weight._data *= gain
        layers += [linear] + ([act()] if act else [])
        w = width
    return nn.Sequential(*layers, nn.Linear(w, classes))


def run_checks(model, train, val=None, opt=None, steps=300):
    """(setup, sorted findings, {check: CheckResult}) of the probe checks, called directly."""
    setup = Setup(model, train, val, optimizer=opt, steps=steps, batch_size=64)
    results, found = {}, []
    for name in PROBE_CHECKS:
        results[name], f = doctor.CHECKS[name].fn(setup)
        found += f
    return setup, sort_findings(found), results


def codes(findings):
    return [f.code for f in findings]


def sgd(lr, **kw):
    return lambda params: optim.SGD(params, lr=lr, **kw)


def test_probe_is_cached_and_leaves_the_figures(digits):
    setup = Setup(mlp([32]), *digits, steps=60)
    probe = training.probe(setup)
    assert training.probe(setup) is probe and setup.cache["probe"] is probe
    assert probe.error is None and probe.steps == 60 and len(probe.monitor.losses) == 60
    assert probe.evals["step"] == [0, 15, 30, 45, 60]
    assert probe.sizes == {"train": 512, "val": 400}
    assert 0.09 < probe.chance["val"] < 0.2
    fig = setup.cache["figures"]
    assert fig["loss_curve"]["shape"] == probe.shape and len(fig["loss_curve"]["loss"]) == 60
    assert fig["loss_curve"]["val"]["step"] == [0, 15, 30, 45, 60]
    assert set(fig["update_ratios"]["layers"]) == {"0", "2"}
    assert len(fig["update_ratios"]["layers"]["0"]) == len(fig["update_ratios"]["step"]) == 12
    assert set(fig["activations"]) == {"0", "1", "2"}
    assert len(fig["activations"]["1"]["counts"]) == 20
    assert fig["gradients"]["0"]["norm"] > 0 and set(fig["dead_units"]) == {"1"}
    assert fig["first_layer"]["input_shape"] == [64]
    assert np.array(fig["first_layer"]["weights"]).shape == (32, 64)
    # the user's model is untouched: the probe trained a copy
    assert all(p.grad is None for p in setup.model.parameters())


def test_first_layer_of_a_cnn_draws_its_filters():
    gk.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 10))
    drawn = training.first_layer(cnn, (1, 8, 8))
    assert drawn["input_shape"] == [1, 3, 3] and np.array(drawn["weights"]).shape == (4, 9)


def test_a_probe_that_cannot_run_makes_every_probe_check_skip(digits):
    def broken_loss(out, y):
        raise RuntimeError("loss exploded on purpose")
    setup = Setup(mlp([8]), *digits, steps=20, loss_fn=broken_loss)
    for name in PROBE_CHECKS:
        result, found = doctor.CHECKS[name].fn(setup)
        assert result.status == "skip" and "loss exploded on purpose" in result.note
        assert found == []


def test_lr_too_high_is_found_and_ranked_first(digits):
    _, found, results = run_checks(mlp([100]), *digits, opt=lambda p: optim.Adam(p, lr=1.0))
    assert found[0].code == "lr_too_high" and found[0].severity == "error"
    assert found[0].overrides == {"optimizer.lr": 0.1}
    assert results["loss_curve"].value == "diverging"
    assert found[0].evidence["peak"] > 4
    _, fixed, results = run_checks(mlp([100]), *digits, opt=lambda p: optim.Adam(p, lr=1e-3))
    assert fixed == [] and results["loss_curve"].value == "healthy"


def test_lr_too_low(digits):
    _, found, results = run_checks(mlp([100]), *digits, opt=sgd(1e-4))
    assert codes(found) == ["lr_too_low"] and results["loss_curve"].value == "flat"
    assert found[0].overrides == {"optimizer.lr": 0.001}
    assert 0 < found[0].evidence["max_update_ratio"] < 4e-4
    _, fixed, _ = run_checks(mlp([100]), *digits, opt=sgd(0.1, momentum=0.9))
    assert "lr_too_low" not in codes(fixed) and fixed == []


def test_too_slow_spiral_is_lr_too_low_not_underfitting(spiral):
    net = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))
    _, found, results = run_checks(net, *spiral, opt=sgd(1e-3))
    assert results["loss_curve"].value == "too slow" and codes(found) == ["lr_too_low"]


def test_vanishing_gradients_names_the_first_layer(digits):
    _, found, results = run_checks(mlp([64] * 8, nn.Sigmoid), *digits, opt=sgd(0.1))
    assert codes(found)[0] == "vanishing_gradients" and found[0].layer == "0"
    assert results["gradient_flow"].value < 1e-3
    _, fixed, _ = run_checks(mlp([64] * 6), *digits)
    assert fixed == []


def test_exploding_gradients_and_nan_loss_rank_below_the_learning_rate(digits):
    linear3 = mlp([64] * 3, act=None)
    setup, found, results = run_checks(linear3, *digits, opt=sgd(1.0))
    assert codes(found) == ["lr_too_high", "exploding_gradients", "nan_loss"]
    nan = found[2]
    assert nan.evidence["step"] == setup.cache["probe"].monitor.nan_step == 5
    assert nan.overrides == {"optimizer.lr": 0.1} and "step 5" in nan.title
    assert found[1].evidence["norm_growth"] > 1e3
    assert results["generalization"].status == "skip"
    _, fixed, _ = run_checks(mlp([64] * 3, act=None), *digits, opt=sgd(0.01))
    assert fixed == []


def test_dead_relu_names_the_layer(digits):
    model = mlp([100])
    model[0].bias._data[:] = -20.0
    _, found, results = run_checks(model, *digits)
    assert codes(found)[0] == "dead_relu" and found[0].layer == "1"
    assert found[0].evidence["layer_fractions"] == {"1": 1.0}
    assert "parameters_not_updating" not in codes(found)  # the dead units explain it
    _, fixed, _ = run_checks(mlp([100]), *digits)
    assert fixed == []


def test_saturated_tanh(digits):
    _, found, results = run_checks(mlp([100], nn.Tanh, gain=8.0), *digits)
    assert codes(found) == ["saturated_activations"] and found[0].layer == "1"
    assert results["activations"].value["saturated"] > 0.2
    _, fixed, _ = run_checks(mlp([100], nn.Tanh), *digits)
    assert fixed == []


class Detached(nn.Module):
    def __init__(self, cut):
        super().__init__()
        gk.manual_seed(0)
        self.cut = cut
        self.embed = nn.Linear(64, 32)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        h = self.embed(x).relu()
        return self.head(h.detach() if self.cut else h)


def test_parameters_not_updating_names_the_detached_layer(digits):
    _, found, results = run_checks(Detached(cut=True), *digits)
    assert codes(found) == ["parameters_not_updating"] and found[0].layer == "embed"
    assert found[0].evidence["parameters"] == ["embed.weight", "embed.bias"]
    assert "no gradient reaches it" in found[0].evidence["why"]["embed.bias"]
    assert results["parameter_updates"].value == 2
    _, fixed, _ = run_checks(Detached(cut=False), *digits)
    assert fixed == []


def test_a_group_with_lr_0_is_a_parameter_that_does_not_move(digits):
    def groups(params):
        first, *rest = list(params)
        return optim.Adam([{"params": [first], "lr": 0.0}, {"params": rest}], lr=1e-3)
    _, found, _ = run_checks(mlp([32]), *digits, opt=groups)
    assert codes(found) == ["parameters_not_updating"] and found[0].layer == "0"
    assert found[0].evidence["parameters"] == ["0.weight"]
    assert "optimizer does not move it" in found[0].title


def test_frozen_parameters_are_left_to_the_static_check(digits):
    model = mlp([32])
    model[0].weight.requires_grad_(False)
    _, found, results = run_checks(model, *digits)
    assert "parameters_not_updating" not in codes(found)
    assert results["parameter_updates"].status == "pass"


def test_overfitting(digits):
    train, val = digits
    small = (train[0][:100], train[1][:100])
    _, found, results = run_checks(mlp([400, 400]), small, val)
    assert codes(found) == ["overfitting"]
    assert found[0].evidence["gap"] > 0.05 and found[0].overrides == {
        "optimizer.weight_decay": 5e-4}
    _, fixed, _ = run_checks(mlp([400, 400]), train, val)
    assert fixed == []


def test_underfitting_of_a_linear_model_on_the_spiral(spiral):
    linear = nn.Sequential(nn.Linear(2, 3))
    _, found, results = run_checks(linear, *spiral, opt=sgd(1.0))
    assert codes(found) == ["underfitting"] and results["generalization"].value["fit"] < 0.5
    net = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))
    _, fixed, _ = run_checks(net, *spiral, opt=sgd(1.0))
    assert fixed == []


def test_no_learnable_signal_with_shuffled_labels(digits):
    train, val = digits
    shuffled = (train[0][:100], np.random.default_rng(0).permutation(train[1][:100]))
    _, found, _ = run_checks(mlp([100]), shuffled, val)
    assert codes(found) == ["no_learnable_signal"]
    assert found[0].evidence["val_accuracy"] <= found[0].evidence["chance_band"]
    _, fixed, _ = run_checks(mlp([100]), (train[0][:400], train[1][:400]), val)
    assert "no_learnable_signal" not in codes(fixed)


def test_without_validation_data_only_the_fit_is_checked(digits):
    _, found, results = run_checks(mlp([32]), digits[0], None)
    assert found == [] and results["generalization"].status == "pass"
    assert "no validation data" in results["generalization"].note


def test_examine_runs_the_probe_checks(digits):
    model = mlp([100])
    before = [p._data.copy() for p in model.parameters()]
    report = doctor.examine(model, digits[0], val=digits[1], steps=300, progress=False,
                            optimizer=optim.Adam(model.parameters(), lr=1.0),
                            checks=PROBE_CHECKS)
    assert list(report.checks) == PROBE_CHECKS
    assert report.codes()[0] == "lr_too_high" and not report.ok
    assert "loss_curve" in report.figures and report.figures["loss_curve"]["shape"] == "diverging"
    assert all(np.array_equal(a, p._data) for a, p in zip(before, model.parameters()))
    assert report.to_dict()["checks"]["loss_curve"]["value"] == "diverging"


def test_a_learning_rate_that_kills_the_units_is_lr_too_high(digits):
    _, found, results = run_checks(mlp([100]), *digits, opt=sgd(4.0))
    assert codes(found) == ["lr_too_high", "dead_relu"] and results["loss_curve"].value == "flat"
    assert found[0].evidence["first_update_ratio"] > 0.1 and found[0].overrides == {
        "optimizer.lr": 0.4}


def test_parameters_reported_before_training_are_not_reported_twice(digits):
    setup = Setup(Detached(cut=True), *digits, steps=100)
    earlier = doctor.Finding("parameters_not_updating", "warning", "static", {
        "parameters": ["embed.weight", "embed.bias"]})
    setup.cache["findings"] = [earlier]
    result, found = doctor.CHECKS["parameter_updates"].fn(setup)
    assert found == [] and result.status == "fail" and "reported before" in result.note
