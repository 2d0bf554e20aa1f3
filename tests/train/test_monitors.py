"""Callbacks that watch a metric: EarlyStopping, LR schedules (ReduceLROnPlateau), Checkpoint."""

import os

import pytest
import torch

from gradkit import optim
from gradkit.nn import functional as F
from gradkit.optim import lr_scheduler
from gradkit.train import Checkpoint, EarlyStopping, LRScheduler, Trainer, checkpoint_info


def _trainer(tk, callbacks, epochs, lr=0.1, n=10, **kwargs):
    x, y = tk.data(n=n)
    model = tk.model()
    opt = optim.SGD(model.parameters(), lr=lr)
    cbs = callbacks(opt) if callable(callbacks) else callbacks
    return Trainer(model, opt, tk.loader(x, y), max_epochs=epochs, callbacks=cbs, **kwargs)


@pytest.mark.parametrize("mode, values, min_delta, stop_epoch", [
    ("min", [1.0, 0.9, 0.95, 0.91, 0.5, 0.4], 0.0, 4),      # no better than 0.9 twice
    ("min", [1.0, 0.9, 0.89, 0.885, 0.7, 0.6], 0.05, 4),    # small gains do not count
    ("max", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 0.0, None),     # always improving
    ("max", [0.5, 0.4, float("nan"), 0.6, 0.7, 0.8], 0.0, 3),  # nan never improves
])
def test_early_stopping_on_a_scripted_metric(tk, mode, values, min_delta, stop_epoch):
    stopper = EarlyStopping("score", mode=mode, patience=2, min_delta=min_delta)
    trainer = _trainer(tk, [tk.Script("score", values), stopper], epochs=6)
    history = trainer.fit()
    assert len(history) == (stop_epoch or 6)
    if stop_epoch:
        assert trainer.should_stop and "score did not improve" in trainer.stop_reason
        assert stopper.stopped_epoch == stop_epoch
    else:
        assert trainer.stop_reason is None and stopper.wait == 0


def test_early_stopping_mode_follows_the_metric_name():
    assert EarlyStopping("val_accuracy").mode == "max"
    assert EarlyStopping("val_loss").mode == "min"
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping("val_loss", mode="up")


def test_reduce_lr_on_plateau_matches_pytorch(tk):
    values = [1.0, 0.8, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77, 0.78]
    trainer = _trainer(tk, lambda opt: [
        tk.Script("score", values),
        LRScheduler(lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1), monitor="score")],
        epochs=len(values))
    history = trainer.fit()
    p = torch.nn.Parameter(torch.zeros(1))
    ref_opt = torch.optim.SGD([p], lr=0.1)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(ref_opt, factor=0.5, patience=1)
    expected = []
    for v in values:
        expected.append(ref_opt.param_groups[0]["lr"])
        ref.step(v)
    assert [h["lr"] for h in history] == pytest.approx(expected)
    assert expected[-1] < expected[0]  # it did reduce


def test_plateau_needs_its_metric(tk):
    trainer = _trainer(tk, lambda opt: [], epochs=2)
    trainer = Trainer(trainer.model, trainer.optimizer, trainer.train_loader, max_epochs=2,
                      scheduler=lr_scheduler.ReduceLROnPlateau(trainer.optimizer, mode="max"))
    with pytest.raises(KeyError, match="'val_accuracy' is not in the record.*val_loader"):
        trainer.fit()


@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_scheduler_interval(tk, interval):
    x, y = tk.data(n=10)
    model = tk.model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    lrs = []

    class Watch(tk.Recorder):
        def on_batch_end(self, trainer):
            lrs.append(trainer.state.record["lr"])

    Trainer(model, opt, tk.loader(x, y), max_epochs=3, scheduler=sched,
            scheduler_interval=interval, callbacks=[Watch()]).fit()
    if interval == "epoch":
        assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    else:
        assert lrs == pytest.approx([0.1 * 0.5 ** k for k in range(6)])


def _files(folder):
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("mode, k, expected", [
    ("max", 2, ["epoch004-score0.9000", "epoch006-score0.9000"]),
    ("min", 2, ["epoch001-score0.5000", "epoch003-score0.6000"]),
    ("max", -1, ["epoch001-score0.5000", "epoch002-score0.7000", "epoch003-score0.6000",
                 "epoch004-score0.9000", "epoch005-score0.8000", "epoch006-score0.9000"]),
    ("max", 1, ["epoch004-score0.9000"]),   # a tie does not replace the earlier best
])
def test_best_k_files(tk, tmp_path, mode, k, expected):
    values = [0.5, 0.7, 0.6, 0.9, 0.8, 0.9]
    ckpt = Checkpoint(dirpath=tmp_path, monitor="score", mode=mode, save_top_k=k)
    _trainer(tk, [tk.Script("score", values), ckpt], epochs=6).fit()
    assert _files(tmp_path) == sorted([e + ".safetensors" for e in expected] + ["last.safetensors"])
    best = expected[3] if k == -1 else expected[0]   # ties: the earlier file ranks first
    assert ckpt.best_model_path == tmp_path / f"{best}.safetensors"


def test_best_k_without_a_monitor_keeps_the_latest(tk, tmp_path):
    _trainer(tk, [Checkpoint(dirpath=tmp_path, save_top_k=2, save_last=False)], epochs=4).fit()
    assert _files(tmp_path) == ["epoch003.safetensors", "epoch004.safetensors"]


def test_iteration_trigger_names_the_step_and_skips_nan(tk, tmp_path):
    class Loss(tk.Recorder):
        priority = 300

        def on_batch_end(self, trainer):
            trainer.report("fake", [0.4, float("nan"), 0.3, 0.2][trainer.state.step - 1])

    ckpt = Checkpoint(dirpath=tmp_path, monitor="fake", save_top_k=2, trigger=(1, "iteration"))
    _trainer(tk, [Loss(), ckpt], epochs=2).fit()
    assert _files(tmp_path) == ["epoch002-step000003-fake0.3000.safetensors",
                                "epoch002-step000004-fake0.2000.safetensors", "last.safetensors"]


def test_default_checkpoint_in_a_run_folder(tk, tmp_path):
    x, y = tk.data(n=10)
    model = tk.model()
    Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, y),
            val_loader=tk.loader(x, y, shuffle=False), max_epochs=2, out_dir=tmp_path).fit()
    files = _files(tmp_path / "checkpoints")
    assert "last.safetensors" in files and len(files) == 2
    assert files[0].startswith("epoch00") and "-val_accuracy" in files[0]
    assert _files(tmp_path) == ["checkpoints", "metrics.jsonl"]


def test_checkpoint_needs_a_folder(tk):
    with pytest.raises(ValueError, match="dirpath"):
        _trainer(tk, [Checkpoint()], epochs=1).fit()


def test_missing_monitor_names_the_choices(tk, tmp_path):
    with pytest.raises(KeyError, match="'val_accuracy' is not in the record.*train_loss"):
        _trainer(tk, [Checkpoint(dirpath=tmp_path, monitor="val_accuracy")], epochs=1).fit()


def test_default_checkpoint_without_accuracy_monitors_val_loss(tk, tmp_path):
    x, _ = tk.data(n=10)
    target = x[:, :2] * 2.0
    model = tk.model(classes=2)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, target),
                      loss_fn=F.mse_loss, val_loader=tk.loader(x, target, shuffle=False),
                      max_epochs=1, out_dir=tmp_path, config={"out": tmp_path, "lr": 0.1})
    trainer.fit()
    files = _files(tmp_path / "checkpoints")
    assert files[0].startswith("epoch001-val_loss") and files[1] == "last.safetensors"
    info = checkpoint_info(tmp_path / "checkpoints" / "last.safetensors")
    assert info["config"] == {"out": str(tmp_path), "lr": 0.1} and info["epoch"] == 1


def test_monitor_candidates_pick_the_first_present(tk, tmp_path):
    ckpt = Checkpoint(dirpath=tmp_path, monitor=["val_accuracy", "score"], save_top_k=1)
    _trainer(tk, [tk.Script("score", [0.3, 0.2, 0.4]), ckpt], epochs=3).fit()
    assert (ckpt.monitor, ckpt.mode) == ("score", "min")
    assert _files(tmp_path) == ["epoch002-score0.2000.safetensors", "last.safetensors"]
