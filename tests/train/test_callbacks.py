"""The built-in callbacks that act on a step: NaNGuard, EMA, GradientClipping, and the
writers: MetricsLogger and ProgressBar."""

import io
import json
import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.nn import functional as F
from gradkit.train import (EMA, Callback, GradientClipping, MetricsLogger, NaNGuard,
                           NonFiniteError, ProgressBar, Trainer)


def _trainer(tk, model, callbacks=(), lr=0.1, epochs=2, n=10, val=False, dtype=np.float32,
             **kwargs):
    x, y = tk.data(n=n, dtype=dtype)
    return Trainer(model, optim.SGD(model.parameters(), lr=lr), tk.loader(x, y),
                   val_loader=tk.loader(x, y, shuffle=False) if val else None,
                   max_epochs=epochs, callbacks=list(callbacks), **kwargs)


class Snapshots(Callback):
    """Copies of the named tensors (parameters and buffers) at fit start and after each step."""

    def on_fit_start(self, trainer):
        self.seen = [self._copy(trainer)]

    def on_batch_end(self, trainer):
        self.seen.append(self._copy(trainer))

    @staticmethod
    def _copy(trainer):
        named = list(trainer.model.named_parameters()) + list(trainer.model.named_buffers())
        return {n: t.numpy().copy() for n, t in named}


# ----- NaNGuard -----

class SqrtScale(nn.Module):
    """Finite output, infinite gradient: d sqrt(s)/ds at s = 0."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.scale = nn.Parameter(gk.zeros(1))

    def forward(self, x):
        return self.fc(x) + self.scale.sqrt()


def test_nan_guard_names_the_parameter_with_a_non_finite_gradient(tk):
    gk.manual_seed(0)
    model = SqrtScale()
    before = model.fc.weight.numpy().copy()
    with np.errstate(divide="ignore"), pytest.raises(NonFiniteError) as info:
        _trainer(tk, model, [NaNGuard()]).fit()
    message = str(info.value)
    assert "epoch 1, step 1" in message and "loss is finite" in message
    assert "parameter 'scale' (1,)" in message and "lower learning rate (now 0.1; e.g. 0.01)" \
        in message
    np.testing.assert_array_equal(model.fc.weight.numpy(), before)  # the step was not taken


def test_nan_guard_stops_a_diverging_run_at_the_first_bad_loss(tk):
    steps = []

    class Count(Callback):
        def on_batch_end(self, trainer):
            steps.append(trainer.state.loss.item())

    gk.manual_seed(0)
    model = nn.Linear(4, 1)
    x, _ = tk.data(n=10)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=50.0),
                      tk.loader(x, x[:, :1] * 3), loss_fn=F.mse_loss, max_epochs=100,
                      callbacks=[NaNGuard(), Count()])
    pattern = (r"(?s)the loss is (inf|nan).*largest \|w\| is .* in '(weight|bias)'.*"
               r"lower learning rate \(now 50; e.g. 5\)")
    with np.errstate(all="ignore"), pytest.raises(NonFiniteError, match=pattern):
        trainer.fit()
    assert all(math.isfinite(v) for v in steps) and len(steps) == trainer.state.step


# ----- EMA -----

def test_ema_equals_the_hand_computed_average(tk):
    model = tk.model(dtype=np.float64)
    ema, snaps = EMA(decay=0.6, validate=False), Snapshots()
    trainer = _trainer(tk, model, [ema, snaps], dtype=np.float64, epochs=2)  # 4 steps
    trainer.fit()
    assert ema.num_updates == 4 and len(snaps.seen) == 5
    for name, _ in model.named_parameters():
        average = snaps.seen[0][name]
        for weights in snaps.seen[1:]:
            average = 0.6 * average + 0.4 * weights[name]
        np.testing.assert_allclose(ema.shadow[name], average, rtol=1e-12, atol=1e-15)
    trained = {n: p.numpy().copy() for n, p in model.named_parameters()}
    with ema.average_parameters():
        for name, p in model.named_parameters():
            np.testing.assert_array_equal(p.numpy(), ema.shadow[name])
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.numpy(), trained[name])
    ema.copy_to()
    np.testing.assert_array_equal(model[0].weight.numpy(), ema.shadow["0.weight"])


@pytest.mark.parametrize("buffers", ["copy", "average"])
def test_ema_batchnorm_buffers(tk, buffers):
    model = tk.model(batchnorm=True, dtype=np.float64)
    ema, snaps = EMA(decay=0.5, buffers=buffers, validate=False), Snapshots()
    _trainer(tk, model, [ema, snaps], dtype=np.float64).fit()
    live = model[1].running_mean.numpy().copy()
    average = snaps.seen[0]["1.running_mean"]
    for weights in snaps.seen[1:]:
        average = 0.5 * average + 0.5 * weights["1.running_mean"]
    with ema.average_parameters():
        expected = live if buffers == "copy" else average
        np.testing.assert_allclose(model[1].running_mean.numpy(), expected, rtol=1e-12)
        assert model[1].num_batches_tracked.item() == 4
    np.testing.assert_array_equal(model[1].running_mean.numpy(), live)


def test_ema_validation_is_reported(tk):
    model = tk.model()
    ema = EMA(decay=0.5)
    trainer = _trainer(tk, model, [ema], val=True)
    history = trainer.fit()
    with ema.average_parameters():
        expected = trainer.evaluate(trainer.val_loader)
    assert history[-1]["ema_val_loss"] == pytest.approx(expected["loss"])
    assert history[-1]["ema_val_accuracy"] == expected["accuracy"]
    assert history[-1]["ema_val_loss"] != history[-1]["val_loss"]


# ----- GradientClipping -----

def _grads(model):
    return [p.grad.numpy().copy() for p in model.parameters()]


def _norm(grads):
    return math.sqrt(sum(float((g * g).sum()) for g in grads))


def test_gradient_clipping_by_norm(tk):
    seen = []

    class Before(Callback):
        priority = 300

        def on_after_backward(self, trainer):
            seen.append({"before": _grads(trainer.model)})

    class After(Callback):
        def on_after_backward(self, trainer):
            seen[-1]["after"] = _grads(trainer.model)

        def on_batch_end(self, trainer):
            seen[-1]["reported"] = trainer.state.record["grad_norm"]

    model = tk.model(dtype=np.float64)
    _trainer(tk, model, [After(), GradientClipping(max_norm=0.05), Before()],
             dtype=np.float64).fit()
    for s in seen:
        before = _norm(s["before"])
        assert before > 0.05 and s["reported"] == pytest.approx(before, rel=1e-12)
        assert _norm(s["after"]) == pytest.approx(0.05, rel=1e-4)
        for a, b in zip(s["after"], s["before"]):
            np.testing.assert_allclose(a, b * 0.05 / (before + 1e-6), rtol=1e-12)


def test_gradient_clipping_by_value(tk):
    largest = []

    class After(Callback):
        def on_after_backward(self, trainer):
            largest.append(max(np.abs(g).max() for g in _grads(trainer.model)))

    _trainer(tk, tk.model(), [After(), GradientClipping(clip_value=0.01)]).fit()
    assert max(largest) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="exactly one"):
        GradientClipping(max_norm=1.0, clip_value=1.0)


# ----- MetricsLogger -----

STEP_KEYS = ["kind", "epoch", "step", "loss", "accuracy", "lr", "time"]
EPOCH_KEYS = ["kind", "epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
              "lr", "time"]


@pytest.mark.parametrize("val", [True, False])
def test_metrics_lines_follow_the_contract(tk, tmp_path, val):
    trainer = _trainer(tk, tk.model(), val=val, epochs=3, out_dir=tmp_path)
    history = trainer.fit()
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in lines if r["kind"] == "step"]
    epochs = [r for r in lines if r["kind"] == "epoch"]
    assert len(steps) + len(epochs) == len(lines) and len(steps) == 6 and len(epochs) == 3
    assert all(list(r) == STEP_KEYS for r in steps)
    keys = EPOCH_KEYS if val else [k for k in EPOCH_KEYS if not k.startswith("val_")]
    assert all(list(r) == keys for r in epochs)
    assert [r["step"] for r in steps] == [1, 2, 3, 4, 5, 6]
    assert [(r["epoch"], r["step"]) for r in epochs] == [(1, 2), (2, 4), (3, 6)]
    assert all(isinstance(r["time"], float) and isinstance(r["epoch"], int) for r in lines)
    assert epochs[-1]["train_loss"] == history[-1]["train_loss"]
    assert lines.index(epochs[0]) == 2   # an epoch's line follows its steps


def test_metrics_every_n_steps_extras_and_null(tk, tmp_path):
    path = tmp_path / "m.jsonl"
    trainer = _trainer(tk, tk.model(), [MetricsLogger(path, every_n_steps=2),
                                        tk.Script("odd", [float("nan"), 2.0, 3.0])],
                       epochs=3, n=15)
    trainer.fit()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["step"] for r in lines if r["kind"] == "step"] == [2, 4, 6, 8]
    epochs = [r for r in lines if r["kind"] == "epoch"]
    assert [r["odd"] for r in epochs] == [None, 2.0, 3.0] and list(epochs[0])[-1] == "odd"


# ----- ProgressBar -----

def test_progress_bar_is_quiet_when_not_a_terminal(tk):
    out = io.StringIO()
    _trainer(tk, tk.model(), [ProgressBar(stream=out)], val=True, epochs=3).fit()
    text = out.getvalue()
    assert "\r" not in text and len(text.splitlines()) == 3
    first = text.splitlines()[0]
    assert first.startswith("epoch 1/3 step 2: train_loss ") and "val_accuracy" in first
    assert "it/s" in first and first.count("lr ") == 1
