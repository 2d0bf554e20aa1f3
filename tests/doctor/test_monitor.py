"""Monitor (a Trainer callback) and the loss-curve classifier."""

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset
from gradkit.doctor import Monitor
from gradkit.doctor.monitor import SHAPES, curve_shape
from gradkit.train import Trainer
from gradkit.train.callbacks.nan_guard import NonFiniteError


def data(n=64, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)


def net(act=nn.ReLU, d=6, hidden=16, seed=0):
    gk.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, hidden), act(), nn.Linear(hidden, 3))


def fit(model, opt, monitor, steps, **kw):
    x, y = data()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0,
                        prefetch=False)
    trainer = Trainer(model, opt, loader, max_steps=steps, callbacks=[monitor], **kw)
    trainer.fit()
    return trainer


def test_records_only_the_monitored_steps_and_removes_its_hooks():
    model, monitor = net(), Monitor(every=5)
    fit(model, optim.SGD(model.parameters(), lr=0.1), monitor, steps=12)
    assert [r["step"] for r in monitor.records] == [1, 6, 11]
    assert len(monitor.losses) == 12 and monitor.nan_step is None
    assert all(not m._forward_hooks for m in model.modules())
    record = monitor.records[0]
    assert set(record["layers"]) == {"0", "1", "2"} and record["layers"]["1"]["type"] == "ReLU"
    assert set(record["params"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert sum(monitor.records[-1]["layers"]["1"]["hist"]["counts"]) == 16 * 16
    assert monitor.weights == ["0.weight", "2.weight"] and len(monitor.epochs) == 3


def test_update_ratio_is_the_measured_step():
    """Plain SGD moves W by lr·g, so the measured ratio is lr·‖g‖/‖W‖."""
    model, monitor = net(), Monitor(every=1)
    fit(model, optim.SGD(model.parameters(), lr=0.05), monitor, steps=3)
    for record in monitor.records:
        for name in monitor.weights:
            entry = record["params"][name]
            expected = 0.05 * entry["grad_norm"] / entry["weight_norm"]
            assert entry["update_ratio"] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda p: optim.Adam(p, lr=1e-3), lambda p: optim.AdamW(p, lr=1e-3),
    lambda p: optim.RMSprop(p, lr=1e-3)])
def test_works_with_any_optimizer(make):
    model, monitor = net(), Monitor(every=2)
    fit(model, make(model.parameters()), monitor, steps=4)
    assert len(monitor.records) == 2
    assert all(e["update_ratio"] > 0 for e in monitor.records[-1]["params"].values())


def test_dead_units_are_the_never_active_ones():
    model, monitor = net(hidden=8), Monitor(every=2)
    model[0].bias._data[:4] = -100.0  # half the units can never fire
    fit(model, optim.SGD(model.parameters(), lr=0.01), monitor, steps=8)
    assert monitor.dead_fractions() == {"1": 0.5}
    assert monitor.records[-1]["layers"]["1"]["inactive"] == 0.5


def test_saturation_of_tanh_and_sigmoid():
    for act in (nn.Tanh, nn.Sigmoid):
        model, monitor = net(act), Monitor(every=1)
        model[0].weight._data *= 200.0
        fit(model, optim.SGD(model.parameters(), lr=1e-4), monitor, steps=2)
        assert monitor.records[0]["layers"]["1"]["saturated"] > 0.9
        codes = [f.code for f in monitor.findings()]
        assert "saturated_activations" in codes


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_stop_on_nan_stops_at_the_first_non_finite_loss():
    model, monitor = net(), Monitor(every=50, stop_on_nan=True)
    trainer = fit(model, optim.SGD(model.parameters(), lr=1e9), monitor, steps=40,
                  nan_guard=False)
    assert monitor.nan_step is not None and trainer.state.step == monitor.nan_step < 40
    assert not math.isfinite(monitor.losses[-1])
    # the explosion before the NaN was watched: extra records after the first step
    assert len(monitor.records) > 1
    assert [f.code for f in monitor.findings()][:1] == ["lr_too_high"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_nan_guard_stop_is_recorded():
    model, monitor = net(), Monitor(every=50)
    with pytest.raises(NonFiniteError):
        fit(model, optim.SGD(model.parameters(), lr=1e9), monitor, steps=40)
    assert monitor.nan_step is not None
    assert all(not m._forward_hooks for m in model.modules())


def test_findings_of_a_healthy_run_are_none():
    model, monitor = net(), Monitor(every=10)
    fit(model, optim.Adam(model.parameters(), lr=1e-2), monitor, steps=60)
    assert monitor.findings() == []


def test_state_dict_survives_a_checkpoint_and_resume(tmp_path):
    model, monitor = net(), Monitor(every=2)
    model[0].bias._data[:8] = -100.0
    trainer = fit(model, optim.SGD(model.parameters(), lr=0.01), monitor, steps=6)
    trainer.save_checkpoint(tmp_path / "last.safetensors")
    again, model2 = Monitor(every=2), net()
    opt2 = optim.SGD(model2.parameters(), lr=0.01)
    x, y = data()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0,
                        prefetch=False)
    Trainer(model2, opt2, loader, max_steps=6, callbacks=[again]).resume(
        tmp_path / "last.safetensors")
    assert again.records == monitor.records and again.losses == monitor.losses
    assert again.dead_fractions() == monitor.dead_fractions() == {"1": 0.5}
    assert again.weights == monitor.weights and again.held == monitor.held


def test_every_must_be_a_positive_int():
    with pytest.raises(ValueError, match="every must be a positive int"):
        Monitor(every=0)


# ----- curve_shape on synthetic curves -----
def noisy(curve, scale=0.02, seed=0):
    rng = np.random.default_rng(seed)
    return curve * (1 + scale * rng.standard_normal(len(curve)))


STEPS = np.arange(300)


@pytest.mark.parametrize("curve, shape", [
    (noisy(2.3 * np.exp(-STEPS / 40) + 0.1), "healthy"),           # decays and levels off
    (noisy(2.3 - 0.0012 * STEPS), "too slow"),                      # a straight, slow line
    (noisy(np.full(300, 2.3)), "flat"),
    (noisy(2.3 + 0.01 * STEPS), "diverging"),
    (np.r_[2.3, 5.0, 40.0, np.full(297, 2.3)], "diverging"),        # exploded, stuck at chance
    (np.r_[2.3, 3.0, np.nan], "diverging"),
    (np.r_[2.3, 30.0, np.linspace(1.0, 0.1, 298)], "oscillating"),  # a spike, recovered
    (2.3 * np.exp(-STEPS / 40) + 0.1 + 0.8 * (STEPS % 2), "oscillating"),
    (np.r_[np.linspace(2.3, 0.5, 150), np.linspace(0.5, 2.0, 150)], "oscillating"),
])
def test_curve_shapes(curve, shape):
    assert curve_shape(curve)[0] == shape and shape in SHAPES


def test_a_curve_that_stays_at_chance_is_flat():
    curve = noisy(np.r_[2.6, 2.45, np.full(298, 2.31)], 0.005)
    assert curve_shape(curve)[0] == "healthy"  # fell 11%, from above chance
    assert curve_shape(curve, chance=math.log(10))[0] == "flat"


def test_short_curves_have_no_shape():
    assert curve_shape([2.3] * 9) == (None, {"steps": 9})
    assert curve_shape([math.nan, math.nan])[0] is None  # non-finite from the start: the data


def test_histograms_stay_in_the_latest_record_only():
    model, monitor = net(), Monitor(every=2)
    fit(model, optim.SGD(model.parameters(), lr=0.1), monitor, steps=6)
    assert all("hist" not in s for r in monitor.records[:-1] for s in r["layers"].values())
    assert "hist" in monitor.records[-1]["layers"]["1"]
    assert "hist" in monitor.records[-1]["params"]["0.weight"]


def test_monitor_figures_of_a_training_run():
    from gradkit.doctor.training import monitor_figures

    model, monitor = net(), Monitor(every=2)
    fit(model, optim.SGD(model.parameters(), lr=0.1), monitor, steps=10)
    fig = monitor_figures(monitor, model, (6,))
    assert fig["update_ratios"]["step"] == [1, 3, 5, 7, 9]
    assert set(fig["update_ratios"]["layers"]) == {"0", "2"}
    assert fig["loss_curve"]["loss"] == monitor.losses and fig["loss_curve"]["shape"] in SHAPES
    assert set(fig["activations"]) == {"0", "1", "2"} and set(fig["gradients"]) == {"0", "2"}
    assert np.array(fig["first_layer"]["weights"]).shape == (16, 6)


def epochs(val_losses, train_acc=0.99, val_acc=0.9):
    return [{"epoch": i + 1, "step": 10 * (i + 1), "train_loss": 1.0 / (i + 1),
             "train_accuracy": train_acc, "val_loss": v, "val_accuracy": val_acc}
            for i, v in enumerate(val_losses)]


def test_overfitting_across_epochs():
    monitor = Monitor()
    monitor.epochs = epochs([1.0, 0.6, 0.5, 0.55, 0.62])
    assert [f.code for f in monitor.findings()] == ["overfitting"]
    assert monitor.findings()[0].evidence["best_epoch"] == 3
    monitor.epochs = epochs([1.0, 0.6, 0.5, 0.49, 0.48])  # still improving
    assert monitor.findings() == []
    monitor.epochs = epochs([1.0, 0.6, 0.5, 0.55, 0.62], val_acc=0.98)  # no accuracy gap
    assert monitor.findings() == []
