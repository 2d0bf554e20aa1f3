"""save_checkpoint / load_checkpoint: round trips, atomic writes, clear errors on bad files."""

import collections
import os

import numpy as np
import pytest
import safetensors.numpy

import gradkit as gk
from gradkit import nn, optim
from gradkit.nn import functional as F
from gradkit.optim import lr_scheduler
from gradkit.train import CheckpointError, checkpoint_info, load_checkpoint, save_checkpoint


def _setup(tk, seed=0):
    model = tk.model(batchnorm=True, seed=seed)
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))
    sched = lr_scheduler.MultiStepLR(opt, milestones=[2, 2, 5], gamma=0.5)
    return model, opt, sched


def _train(model, opt, sched, steps, x, y):
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(gk.tensor(x)), gk.tensor(y)).backward()
        opt.step()
        sched.step()


def _params(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_round_trip_restores_everything(tk, tmp_path):
    x, y = tk.data(n=8)
    model, opt, sched = _setup(tk)
    _train(model, opt, sched, 3, x, y)
    gk.manual_seed(123)
    extra = {"epoch": 3, "step": 30, "config": {"model": "mlp", "lr": 0.01},
             "misc": {"tuple": (1, 2.5), "by_int": {0: "a", 7: "b"}, "array": np.arange(4.0),
                      "inf": float("inf"), "none": None}}
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt, sched, extra)
    expected_rng = gk.get_rng_state()

    model2, opt2, sched2 = _setup(tk, seed=1)
    out = load_checkpoint(path, model2, opt2, sched2)
    for key, value in _params(model).items():
        np.testing.assert_array_equal(model2.state_dict()[key].numpy(), value)
    assert model2.state_dict()["1.num_batches_tracked"].dtype == np.int64
    assert opt2.param_groups[0]["betas"] == (0.8, 0.99)
    assert sched2.milestones == collections.Counter([2, 2, 5]) and sched2.last_epoch == 3
    assert out["misc"]["tuple"] == (1, 2.5) and out["misc"]["by_int"] == {0: "a", 7: "b"}
    np.testing.assert_array_equal(out["misc"]["array"], np.arange(4.0))
    assert out["misc"]["inf"] == float("inf") and out["config"]["lr"] == 0.01
    assert out["rng"] == expected_rng
    # the restored optimizer and scheduler continue exactly like the originals
    _train(model, opt, sched, 3, x, y)
    _train(model2, opt2, sched2, 3, x, y)
    for key, value in _params(model).items():
        np.testing.assert_array_equal(model2.state_dict()[key].numpy(), value)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]

    info = checkpoint_info(path)
    assert (info["model"], info["optimizer"], info["scheduler"]) == ("Sequential", "Adam",
                                                                     ["MultiStepLR"])
    assert (info["epoch"], info["step"], info["config"]) == (3, 30, extra["config"])


def test_tensors_are_named_by_part(tk, tmp_path):
    model, opt, sched = _setup(tk)
    x, y = tk.data(n=8)
    _train(model, opt, sched, 1, x, y)
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt, extra={"w": np.ones(2)})
    keys = set(safetensors.numpy.load_file(path))
    assert {"model.0.weight", "model.1.running_mean", "optim.state.0.exp_avg",
            "optim.state.0.step", "extra.w"} <= keys


@pytest.mark.parametrize("keep", [0, 5, 60, -10])
def test_truncated_file(tk, tmp_path, keep):
    model, opt, _ = _setup(tk)
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt)
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    fresh, fresh_opt, _ = _setup(tk, seed=1)
    before = _params(fresh)
    with pytest.raises(CheckpointError, match=r"c\.safetensors.*(truncated|too short)"):
        load_checkpoint(path, fresh, fresh_opt)
    for key, value in before.items():  # nothing was loaded
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value)


def test_flipped_bytes(tk, tmp_path):
    model, opt, _ = _setup(tk)
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # inside the tensor data
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted.*checksum"):
        load_checkpoint(path, model)
    data = bytearray(save_checkpoint(path, model).read_bytes())
    data[12] = ord("}")  # inside the JSON header
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted safetensors header"):
        load_checkpoint(path, model)


def test_wrong_model(tk, tmp_path):
    model, _, _ = _setup(tk)
    path = save_checkpoint(tmp_path / "c.safetensors", model)
    wider = tk.model(hidden=8, batchnorm=True)
    with pytest.raises(CheckpointError, match=r"different model.*shape mismatch: 0\.weight: "
                                              r"checkpoint \(16, 4\), model \(8, 4\)"):
        load_checkpoint(path, wider)
    no_bn = tk.model()
    with pytest.raises(CheckpointError, match=r"missing in the checkpoint: 2\.weight, 2\.bias; "
                                              r"not in the model: 1\.weight, 1\.bias, "
                                              r"1\.running_mean, 1\.running_var, "
                                              r"1\.num_batches_tracked \(\+2 more\)"):
        load_checkpoint(path, no_bn)


def test_wrong_optimizer_or_scheduler(tk, tmp_path):
    model, opt, sched = _setup(tk)
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt, sched)
    with pytest.raises(CheckpointError, match="holds Adam state; this optimizer is a SGD"):
        load_checkpoint(path, model, optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match=r"scheduler\(s\) \['MultiStepLR'\]"):
        load_checkpoint(path, model, opt, lr_scheduler.StepLR(opt, 2))


def test_not_a_training_checkpoint(tk, tmp_path):
    model, _, _ = _setup(tk)
    gk.save(model.state_dict(), tmp_path / "weights.safetensors")
    with pytest.raises(CheckpointError, match="not a gradkit training checkpoint.*gk.load"):
        load_checkpoint(tmp_path / "weights.safetensors", model)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors", model)
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path, model)
    (tmp_path / "text.safetensors").write_text("hello, not a checkpoint at all")
    with pytest.raises(CheckpointError, match="text.safetensors"):
        load_checkpoint(tmp_path / "text.safetensors", model)


def test_interrupted_write_leaves_no_partial_file(tk, tmp_path, monkeypatch):
    model, opt, _ = _setup(tk)
    path = save_checkpoint(tmp_path / "c.safetensors", model, opt, extra={"epoch": 1})
    old = path.read_bytes()
    real_save_file = safetensors.numpy.save_file

    def dies_half_way(arrays, filename, metadata=None):
        real_save_file(arrays, filename, metadata=metadata)
        with open(filename, "r+b") as f:
            f.truncate(os.path.getsize(filename) // 2)
        raise KeyboardInterrupt  # the process is stopped mid-write

    monkeypatch.setattr(safetensors.numpy, "save_file", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model, opt, extra={"epoch": 2})
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "new.safetensors", model, opt)
    assert sorted(os.listdir(tmp_path)) == ["c.safetensors"]  # no temporary, no torn file
    assert path.read_bytes() == old and checkpoint_info(path)["epoch"] == 1


def test_unstorable_values_are_refused(tk, tmp_path):
    model, _, _ = _setup(tk)
    with pytest.raises(TypeError, match="cannot store a builtin_function_or_method.*'extra.fn'"):
        save_checkpoint(tmp_path / "c.safetensors", model, extra={"fn": print})
    assert not os.listdir(tmp_path)


def _make_sched(name, opt):
    L = lr_scheduler
    return {"sequential": lambda: L.SequentialLR(opt, [L.LinearLR(opt, 0.1, total_iters=2),
                                                       L.CosineAnnealingLR(opt, T_max=5)], [2]),
            "onecycle": lambda: L.OneCycleLR(opt, max_lr=0.5, total_steps=20,
                                             cycle_momentum="momentum" in opt.defaults
                                             or "betas" in opt.defaults),
            "plateau": lambda: L.ReduceLROnPlateau(opt, patience=0),
            "lambda": lambda: L.LambdaLR(opt, lambda epoch: 0.9 ** epoch)}[name]()


@pytest.mark.parametrize("opt_name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
@pytest.mark.parametrize("sched_name", ["sequential", "onecycle", "plateau", "lambda"])
def test_every_optimizer_and_schedule_resumes_exactly(tk, tmp_path, opt_name, sched_name):
    x, y = tk.data(n=8, dtype=np.float64)
    options = {"momentum": 0.9} if opt_name in ("SGD", "RMSprop") else {}

    def build(seed):
        model = tk.model(dtype=np.float64, seed=seed)
        opt = getattr(optim, opt_name)(model.parameters(), lr=0.05, **options)
        return model, opt, _make_sched(sched_name, opt)

    def train(model, opt, sched, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(gk.tensor(x)), gk.tensor(y))
            loss.backward()
            opt.step()
            if sched_name == "plateau":
                sched.step(loss.item())
            else:
                sched.step()

    a = build(0)
    train(*a, 3)
    path = save_checkpoint(tmp_path / "c.safetensors", *a)
    b = build(1)
    load_checkpoint(path, *b)
    train(*a, 3)
    train(*b, 3)
    for key, value in _params(a[0]).items():
        np.testing.assert_array_equal(b[0].state_dict()[key].numpy(), value)
    assert a[1].param_groups[0]["lr"] == b[1].param_groups[0]["lr"]
