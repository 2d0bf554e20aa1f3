"""gk.save / gk.load (safetensors): round trips, dtypes, order, PyTorch interoperability."""

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from safetensors.torch import load_file as torch_load_file
from safetensors.torch import save_file as torch_save_file

import gradkit as gk
from gradkit import nn
from gradkit.serialization import load, save


def model():
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def test_round_trip_keeps_values_dtypes_and_order(tmp_path):
    m = model()
    m(gk.randn(5, 4))  # one training step moves the running statistics
    path = tmp_path / "m.safetensors"
    save(m.state_dict(), path)
    loaded = load(path)
    sd = m.state_dict()
    assert list(loaded) == list(sd)
    for key, value in sd.items():
        assert isinstance(loaded[key], gk.Tensor)
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy())
    count = loaded["1.num_batches_tracked"]
    assert count.dtype == np.int64 and count.shape == () and count.item() == 1
    loaded["0.weight"].numpy()[0, 0] = 123.0  # loaded arrays are writable and independent
    assert m[0].weight.numpy()[0, 0] != 123.0


def test_non_contiguous_and_zero_dim_arrays(tmp_path):
    t = gk.randn(3, 4).T
    save({"t": t, "s": np.array(2.5)}, tmp_path / "x.safetensors")
    loaded = load(tmp_path / "x.safetensors")
    np.testing.assert_array_equal(loaded["t"].numpy(), t.numpy())
    assert loaded["s"].shape == () and loaded["s"].item() == 2.5


def test_saved_model_reloads_with_same_outputs(tmp_path):
    m = model()
    m(gk.randn(6, 4))
    m.eval()
    x = gk.randn(3, 4)
    save(m.state_dict(), str(tmp_path / "m.safetensors"), metadata={"epoch": 3})
    fresh = model().eval()
    fresh.load_state_dict(load(str(tmp_path / "m.safetensors")))
    np.testing.assert_array_equal(fresh(x).numpy(), m(x).numpy())


def test_pytorch_files_interoperate(tmp_path):
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                            torch.nn.Linear(8, 3))
    t(torch.randn(5, 4))
    t.eval()
    torch_save_file(t.state_dict(), str(tmp_path / "torch.safetensors"))
    g = model().eval()
    g.load_state_dict(load(tmp_path / "torch.safetensors"))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(g(gk.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    save(g.state_dict(), tmp_path / "gk.safetensors")
    back = torch_load_file(str(tmp_path / "gk.safetensors"))
    assert back["1.num_batches_tracked"].dtype == torch.int64
    t2 = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                             torch.nn.Linear(8, 3)).eval()
    t2.load_state_dict(back)
    np.testing.assert_array_equal(t2(torch.tensor(x)).detach().numpy(),
                                  t(torch.tensor(x)).detach().numpy())


def test_file_is_plain_safetensors_without_pickle(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"a": gk.ones(2, 3), "b": np.arange(4)}, path)
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + header_len])
    assert header["a"]["dtype"] == "F32" and header["a"]["shape"] == [2, 3]
    assert header["b"]["dtype"] == "I64"
    assert b"\x80\x04" not in raw[:2]  # not a pickle stream
    save_file({"z": np.zeros(2, np.float64), "y": np.ones(1, np.float32)},
              str(tmp_path / "plain.safetensors"))
    assert list(load(tmp_path / "plain.safetensors")) == ["y", "z"]  # no order: sorted


def test_save_refuses_objects():
    with pytest.raises(TypeError, match="value of 'lr' is a float"):
        save({"lr": 0.1}, "/tmp/never-written.safetensors")
