"""Trainer: fit, evaluate, predict, the records it keeps, and its stopping rules."""

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.nn import functional as F
from gradkit.train import Callback, Trainer, batch_accuracy


def test_overfits_twenty_examples(tk):
    x, _ = tk.data(n=20, features=4)
    y = np.random.default_rng(1).integers(0, 3, 20)  # random labels: only memorizing fits them
    model = tk.model(hidden=64)
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.02), tk.loader(x, y),
                      max_epochs=80)
    history = trainer.fit()
    assert trainer.evaluate(tk.loader(x, y, shuffle=False))["accuracy"] == 1.0
    assert history[-1]["train_accuracy"] == 1.0
    assert history[-1]["train_loss"] < 0.1 < history[0]["train_loss"]


def test_records_and_state(tk):
    x, y = tk.data(n=12)
    model = tk.model()
    seen = []

    class Peek(Callback):
        def on_batch_end(self, trainer):
            seen.append(dict(trainer.state.record))

    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, y),
                      val_loader=tk.loader(x, y, shuffle=False), max_epochs=2, callbacks=[Peek()])
    history = trainer.fit()
    assert [h["epoch"] for h in history] == [1, 2]
    assert [h["step"] for h in history] == [3, 6]
    assert list(history[0]) == ["epoch", "step", "train_loss", "train_accuracy", "val_loss",
                                "val_accuracy", "lr", "time"]
    assert all(list(r) == ["loss", "accuracy", "lr"] for r in seen) and len(seen) == 6
    assert trainer.state.epoch == 2 and trainer.state.step == 6 and trainer.state.batch_idx == 0
    # the epoch's train_loss is the sample-weighted mean of its step losses (batches 5, 5, 2)
    expected = np.average([r["loss"] for r in seen[3:]], weights=[5, 5, 2])
    assert history[1]["train_loss"] == pytest.approx(expected, rel=1e-12)
    assert history[1]["val_loss"] == pytest.approx(
        trainer.evaluate(tk.loader(x, y, shuffle=False))["loss"])


def test_evaluate_weights_batches_by_size_and_restores_mode(tk):
    x, y = tk.data(n=11)
    model = tk.model(dropout=0.5)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, y), max_epochs=1)
    result = trainer.evaluate(tk.loader(x, y, batch_size=4, shuffle=False))
    assert model.training
    model.eval()
    logits = model(gk.tensor(x))
    expected_loss = float(F.cross_entropy(logits, gk.tensor(y)).item())
    expected_acc = float(np.mean(logits.numpy().argmax(1) == y))
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-6)
    assert result["accuracy"] == expected_acc


def test_predict_is_batched_eval_mode_logits(tk):
    x, y = tk.data(n=13)
    model = tk.model(dropout=0.5)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, y), max_epochs=1)
    out = trainer.predict(x, batch_size=4)
    assert model.training and out.shape == (13, 3)
    model.eval()
    np.testing.assert_allclose(out.numpy(), model(gk.tensor(x)).numpy(), rtol=1e-6)
    from_loader = trainer.predict(tk.loader(x, y, batch_size=4, shuffle=False))
    np.testing.assert_allclose(from_loader.numpy(), out.numpy(), rtol=1e-6)


def test_soft_targets_count_the_argmax_class(tk):
    x, y = tk.data(n=10)
    soft = np.eye(3)[y] * 0.7 + 0.1   # MixUp-like: the true class still has the largest weight
    model = tk.model()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1),
                      tk.loader(x, soft.astype(np.float32)), max_epochs=1)
    history = trainer.fit()
    assert 0.0 <= history[0]["train_accuracy"] <= 1.0
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.5, 3.0], [1.0, 2.0, 0.0]])
    assert batch_accuracy(logits, np.array([0, 2, 0])) == (2, 3)
    assert batch_accuracy(logits, np.array([[.6, .4, 0], [.1, .1, .8], [.5, .3, .2]])) == (2, 3)


def test_accuracy_left_out_for_regression(tk):
    x, _ = tk.data(n=10)
    target = x[:, :1] * 2.0
    gk.manual_seed(0)
    model = nn.Linear(4, 1)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.05), tk.loader(x, target),
                      loss_fn=F.mse_loss, max_epochs=3)
    history = trainer.fit()
    assert "train_accuracy" not in history[0]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert batch_accuracy(np.zeros((4, 1)), np.zeros((4, 1))) is None
    assert batch_accuracy(np.zeros((4, 2)), np.full((4, 2), 0.7)) is None  # not probabilities
    assert batch_accuracy(np.zeros((4, 2)), np.full((4, 2), 0.5)) == (4, 4)


def test_max_steps_ends_mid_epoch_and_fit_continues(tk):
    x, y = tk.data(n=20)
    model = tk.model()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, y),
                      max_epochs=10, max_steps=6)
    history = trainer.fit()
    assert trainer.state.step == 6 and [h["step"] for h in history] == [4, 6]
    trainer.max_steps = None
    trainer.max_epochs = 3
    trainer.fit()
    assert [h["epoch"] for h in trainer.state.history] == [1, 2, 3]
    assert trainer.state.step == 10


def test_a_callback_can_stop_training(tk):
    x, y = tk.data(n=20)
    model = tk.model()

    class StopAtStep3(Callback):
        def on_batch_end(self, trainer):
            if trainer.state.step == 3:
                trainer.should_stop = True

    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, y),
                      max_epochs=5, callbacks=[StopAtStep3()])
    history = trainer.fit()
    assert trainer.state.step == 3 and len(history) == 1 and history[0]["step"] == 3


def test_bad_arguments(tk):
    x, y = tk.data()
    model = tk.model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="max_epochs or max_steps"):
        Trainer(model, opt, tk.loader(x, y))
    with pytest.raises(ValueError, match="scheduler_interval"):
        Trainer(model, opt, tk.loader(x, y), max_epochs=1, scheduler_interval="batch")


def test_seed_makes_runs_repeat(tk):
    x, y = tk.data(n=20)
    weights = []
    for _ in range(2):
        model = tk.model(dropout=0.3)
        Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, y, seed=None),
                max_epochs=2, seed=7).fit()
        weights.append([p.numpy().copy() for p in model.parameters()])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
    assert not math.isnan(weights[0][0].sum())
