"""The Trainer refuses what cannot work, guards against NaN by default, checkpoints every N
steps and falls back to a top-k checkpoint when ``last`` is missing or corrupt."""

import numpy as np
import pytest

from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset
from gradkit.nn import functional as F
from gradkit.train import (Callback, Checkpoint, NaNGuard, NonFiniteError, Trainer,
                           checkpoint_info)
from gradkit.train.run_folder import resume_checkpoint
from tests.train.test_resume import EPOCHS, _run, _same


class Crash(Callback):
    """Dies (like a SIGKILL: no checkpoint written on the way out) after step ``at``."""

    def __init__(self, at):
        self.at = at

    def on_batch_end(self, trainer):
        if trainer.state.step == self.at:
            raise RuntimeError("killed")


def test_checkpoint_every_n_steps_resumes_bit_identically_mid_epoch(tk, tmp_path):
    straight = _run(tk, tmp_path / "a", EPOCHS)
    every = lambda: Checkpoint(monitor="val_accuracy", every_n_steps=3)
    with pytest.raises(RuntimeError, match="killed"):
        _run(tk, tmp_path / "b", EPOCHS, callbacks=[every(), Crash(at=8)])
    info = checkpoint_info(tmp_path / "b" / "checkpoints" / "last.safetensors")
    assert (info["epoch"], info["step"], info["extra"]["trainer"]["batch_idx"]) == (2, 6, 1)
    resumed = _run(tk, tmp_path / "b", EPOCHS, callbacks=[every()], resume=tmp_path / "b")
    _same(straight, resumed)


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_resume_falls_back_to_the_newest_top_k_checkpoint(tk, tmp_path, damage):
    straight = _run(tk, tmp_path / "a", 3)
    trainer, _ = _run(tk, tmp_path / "b", 2)
    last = tmp_path / "b" / "checkpoints" / "last.safetensors"
    if damage == "missing":
        last.unlink()
    else:
        last.write_bytes(last.read_bytes()[:200])
    best = next(c for c in trainer.callbacks if isinstance(c, Checkpoint)).best_model_path
    assert resume_checkpoint(tmp_path / "b") == best
    resumed = _run(tk, tmp_path / "b", 3, resume=tmp_path / "b")
    _same(straight, resumed)


def _trainer(tk, loader, loss_fn=None, **kw):
    model = tk.model()
    return Trainer(model, optim.SGD(model.parameters(), lr=0.1), loader, loss_fn=loss_fn,
                   max_epochs=1, **kw)


def test_a_nan_guard_is_there_by_default(tk, tmp_path):
    x, y = tk.data(n=10)
    nan_loss = lambda out, target: F.cross_entropy(out, target) * float("nan")
    trainer = _trainer(tk, tk.loader(x, y), nan_loss, out_dir=tmp_path)
    with pytest.raises(NonFiniteError, match="try a lower learning rate"):
        trainer.fit()
    assert not (tmp_path / "checkpoints" / "last.safetensors").exists()
    assert sum(isinstance(c, NaNGuard) for c in trainer.callbacks) == 1
    assert not any(isinstance(c, NaNGuard)
                   for c in _trainer(tk, tk.loader(x, y), nan_guard=False).callbacks)
    given = NaNGuard()
    assert [c for c in _trainer(tk, tk.loader(x, y), callbacks=[given]).callbacks
            if isinstance(c, NaNGuard)] == [given]


def test_a_loader_with_no_batches_is_refused(tk):
    x, y = tk.data(n=4)
    empty = DataLoader(TensorDataset(x, y), batch_size=8, drop_last=True, prefetch=False)
    with pytest.raises(ValueError, match=r"yields no batches \(4 samples, batch_size 8, "
                                         r"drop_last True\)"):
        _trainer(tk, empty).fit()


def test_an_iterable_with_no_batches_is_refused_after_its_epoch(tk):
    with pytest.raises(ValueError, match="epoch 1 had no batches"):
        _trainer(tk, iter([])).fit()


def test_a_regression_pair_of_different_shapes_is_refused(tk):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 4)).astype(np.float32), rng.normal(size=8).astype(np.float32)
    model = nn.Linear(4, 1)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1),
                      tk.loader(x, y, batch_size=4), loss_fn=F.mse_loss, max_epochs=1)
    with pytest.raises(ValueError, match=r"output has shape \(4, 1\) but the float targets "
                                         r"have shape \(4,\)"):
        trainer.fit()
    assert trainer.state.step == 0
    fine = tk.loader(x, y.reshape(-1, 1), batch_size=4)
    Trainer(model, optim.SGD(model.parameters(), lr=0.1), fine, loss_fn=F.mse_loss,
            max_epochs=1).fit()
