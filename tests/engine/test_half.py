"""float16 storage: ``.half()``, float16 arrays kept as torch.tensor keeps them, and back."""

import numpy as np
import torch

import gradkit as gk


def test_half_casts_and_back_with_the_gradient_in_the_leaf_dtype():
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x, t = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, u = x.half(), t.half()
    assert y.dtype == np.float16 and str(u.dtype) == "torch.float16"
    np.testing.assert_array_equal(y.numpy(), u.detach().numpy())
    assert y.type() == "gradkit.HalfTensor" and (y * 2 + 1).dtype == np.float16
    (y.float() ** 2).sum().backward()
    (u.float() ** 2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-3)


def test_float16_arrays_stay_float16():
    h = np.ones(3, np.float16)
    assert gk.tensor(h).dtype == gk.from_numpy(h).dtype == np.float16
    assert str(torch.tensor(h).dtype) == "torch.float16"
    assert gk.zeros(2, dtype=gk.float16).dtype == np.float16
    assert gk.tensor([1.5]).dtype == np.float32


def test_a_module_in_half_keeps_its_state_in_float16():
    model = gk.nn.Linear(2, 3).half()
    assert {v.dtype for v in model.state_dict().values()} == {np.dtype(np.float16)}
    assert model(gk.ones(1, 2).half()).dtype == np.float16
    assert model.float().weight.dtype == np.float32
