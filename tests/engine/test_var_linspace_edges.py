"""PyTorch's semantics at the edges: var/std with no degrees of freedom, integer linspace."""

import warnings

import numpy as np
import pytest
import torch

import gradkit as gk


@pytest.mark.parametrize("values, correction", [([3.0], 1), ([1.0, 2.0], 1), ([1.0, 2.0], 2),
                                                ([1.0, 2.0, 4.0], 3)])
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_and_std_without_degrees_of_freedom_warn_and_give_inf_or_nan(values, correction, op):
    a = gk.tensor(values, dtype=gk.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = getattr(a, op)(correction=correction)
        want = getattr(t, op)(correction=correction)
    degenerate = len(values) - correction <= 0
    assert any("degrees of freedom" in str(w.message) for w in caught) == degenerate
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    got.backward()  # never a ZeroDivisionError
    assert a.grad.shape == (len(values),)
    if not degenerate:
        want.backward()
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("start, end, steps", [(-5, 5, 4), (0, 10, 7), (3, -8, 5), (0, 1, 1),
                                               (-7.9, 7.9, 6), (0, 100, 13)])
def test_integer_linspace_truncates_as_pytorch(start, end, steps):
    got = gk.linspace(start, end, steps, dtype=gk.int64)
    want = torch.linspace(start, end, steps, dtype=torch.int64)
    assert got.dtype == np.int64 and got.tolist() == want.tolist()
