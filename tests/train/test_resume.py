"""Resume: an interrupted and resumed run ends with exactly the weights of an uninterrupted one."""

import json
import os
import signal
import threading

import numpy as np
import pytest

from gradkit import optim
from gradkit.optim import lr_scheduler
from gradkit.train import (EMA, Callback, CheckpointError, EarlyStopping, Trainer,
                           TrainingInterrupted, save_checkpoint)

EPOCHS = 4


def _run(tk, out_dir, epochs, loader_seed=0, callbacks=(), resume=None):
    """A float64 run with everything that carries state: dropout (the gk RNG), a shuffling
    loader, momentum, a schedule, EMA and early stopping."""
    x, y = tk.data(n=18, dtype=np.float64)
    model = tk.model(dropout=0.2, dtype=np.float64)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ema = EMA(decay=0.8)
    trainer = Trainer(model, opt, tk.loader(x, y, batch_size=4, seed=loader_seed),
                      val_loader=tk.loader(x, y, shuffle=False), max_epochs=epochs,
                      scheduler=lr_scheduler.StepLR(opt, step_size=1, gamma=0.7),
                      callbacks=[ema, EarlyStopping(patience=10), *callbacks], out_dir=out_dir,
                      seed=5)
    if resume is not None:
        trainer.resume(resume)
    trainer.fit()
    return trainer, ema


def _same(a, b):
    (ta, ema_a), (tb, ema_b) = a, b
    for (name, p), q in zip(ta.model.named_parameters(), tb.model.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    state_a, state_b = ta.optimizer.state_dict()["state"], tb.optimizer.state_dict()["state"]
    assert state_a.keys() == state_b.keys()
    for i in state_a:
        np.testing.assert_array_equal(state_a[i]["momentum_buffer"].numpy(),
                                      state_b[i]["momentum_buffer"].numpy())
    for name, avg in ema_a.shadow.items():
        np.testing.assert_array_equal(avg, ema_b.shadow[name], err_msg=f"EMA {name}")
    strip = lambda h: [{k: v for k, v in r.items() if k != "time"} for r in h]
    assert strip(ta.state.history) == strip(tb.state.history)
    assert ta.optimizer.param_groups[0]["lr"] == tb.optimizer.param_groups[0]["lr"]


@pytest.mark.parametrize("loader_seed", [0, None])  # its own generator, or the shared gk one
def test_two_plus_two_epochs_equal_four(tk, tmp_path, loader_seed):
    straight = _run(tk, tmp_path / "a", EPOCHS, loader_seed)
    _run(tk, tmp_path / "b", 2, loader_seed)
    resumed = _run(tk, tmp_path / "b", EPOCHS, loader_seed, resume=tmp_path / "b")
    _same(straight, resumed)
    assert resumed[0].state.epoch == EPOCHS and resumed[0].state.step == EPOCHS * 5


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signal handlers need the main thread")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_epoch_writes_last_and_resumes_exactly(tk, tmp_path, signum):
    class Kill(Callback):
        def on_batch_end(self, trainer):
            if trainer.state.step == 7:   # epoch 2, batch 2 of 5
                os.kill(os.getpid(), signum)

    straight = _run(tk, tmp_path / "a", EPOCHS)
    handler = signal.getsignal(signum)
    with pytest.raises(TrainingInterrupted) as info:
        _run(tk, tmp_path / "b", EPOCHS, callbacks=[Kill()])
    assert info.value.code == 128 + signum and info.value.signal == signal.Signals(signum).name
    assert signal.getsignal(signum) is handler   # the previous handler is back
    last = tmp_path / "b" / "checkpoints" / "last.safetensors"
    assert info.value.checkpoint == last and last.exists()
    # steps 8-10 were never trained, the partial line count shows where it stopped
    assert max(r["step"] for r in _lines(tmp_path / "b" / "metrics.jsonl")) == 7
    resumed = _run(tk, tmp_path / "b", EPOCHS, resume=tmp_path / "b")
    _same(straight, resumed)
    lines = _lines(tmp_path / "b" / "metrics.jsonl")
    assert [r["step"] for r in lines if r["kind"] == "step"] == list(range(1, 21))
    assert [r["epoch"] for r in lines if r["kind"] == "epoch"] == [1, 2, 3, 4]


def test_resumed_metrics_drop_lines_after_the_checkpoint(tk, tmp_path):
    _run(tk, tmp_path, 3)
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"kind": "step", "epo')  # torn by the crash
    # as if the run had crashed in epoch 3 with the epoch-2 checkpoint as its last
    _run(tk, tmp_path / "x", 2)
    os.replace(tmp_path / "x" / "checkpoints" / "last.safetensors",
               tmp_path / "checkpoints" / "last.safetensors")
    _run(tk, tmp_path, 3, resume=tmp_path)
    lines = _lines(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in lines if r["kind"] == "step"] == list(range(1, 16))
    assert [r["epoch"] for r in lines if r["kind"] == "epoch"] == [1, 2, 3]


def test_resume_errors(tk, tmp_path):
    with pytest.raises(CheckpointError, match="no usable checkpoint.*nothing to resume"):
        _run(tk, tmp_path / "run", 1, resume=tmp_path)
    trainer, _ = _run(tk, tmp_path / "run", 1)
    plain = save_checkpoint(tmp_path / "plain.safetensors", trainer.model, trainer.optimizer)
    with pytest.raises(CheckpointError, match="not by a Trainer"):
        trainer.resume(plain)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signal handlers need the main thread")
def test_signal_without_a_run_folder_saves_nothing_but_stops(tk):
    class Kill(Callback):
        def on_batch_end(self, trainer):
            os.kill(os.getpid(), signal.SIGINT)

    x, y = tk.data(n=10)
    model = tk.model()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, y),
                      max_epochs=3, callbacks=[Kill()])
    with pytest.raises(TrainingInterrupted, match="nothing saved") as info:
        trainer.fit()
    assert info.value.checkpoint is None and trainer.state.step == 1
