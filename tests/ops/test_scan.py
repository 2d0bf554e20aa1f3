"""cumsum, cumprod, cummax, cummin, logcumsumexp against PyTorch (values, indices, gradients)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from oracle import check

import gradkit as gk
from gradkit.autograd.check import gradcheck

SCANS = ["cumsum", "cumprod", "logcumsumexp"]
EXTREMES = ["cummax", "cummin"]


def both(name, dim, **kw):
    return (lambda a: getattr(torch, name)(a, dim, **kw),
            lambda a: getattr(gk, name)(a, dim, **kw))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", SCANS + EXTREMES)
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), -1),
                                       ((1, 4), 0), ((3, 0), 1), ((0, 3), 0), ((), 0), ((), -1)])
def test_scan_matches_pytorch(name, shape, dim, dtype):
    check([shape], *both(name, dim), dtype=dtype)


@pytest.mark.parametrize("name", SCANS + EXTREMES)
def test_scan_of_a_transposed_tensor(name):
    check([(4, 3)], lambda a: getattr(torch, name)(a.T, 1), lambda a: getattr(gk, name)(a.T, 1))


@pytest.mark.parametrize("name", SCANS + EXTREMES)
def test_scan_gradcheck(name):
    x = gk.tensor(np.random.default_rng(3).uniform(0.5, 2.0, (3, 4)), requires_grad=True)
    assert gradcheck(lambda t: getattr(gk, name)(t, 1), (x,))


@pytest.mark.parametrize("row", [
    [2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 3.0, 1.5], [2.0, 3.0, 1.5, 0.0], [2.0, 0.0, 3.0, 0.0],
    [0.0, 0.0, 0.0, 2.0], [1.5, 0.0, -2.0, 0.0, 3.0, 0.0]])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cumprod_gradient_with_zeros(row, dtype):
    a = np.array([row, row[::-1]], dtype)
    check(None, *both("cumprod", 1), dtype=dtype, arrays=[a])
    check(None, *both("cumprod", 0), dtype=dtype, arrays=[a.T.copy()])


def test_cumprod_gradcheck_with_zeros():
    a = np.array([[2.0, 0.0, 3.0, 4.0], [0.5, 1.5, 0.0, 0.0]])
    assert gradcheck(lambda t: gk.cumprod(t, 1), (gk.tensor(a, requires_grad=True),))


@pytest.mark.parametrize("name", EXTREMES)
@pytest.mark.parametrize("row", [[1.0, 3.0, 3.0, 2.0, 3.0, 1.0], [3.0, 1.0, 1.0, 2.0, 0.5, 0.5],
                                 [1.0, np.nan, 5.0, np.nan, 0.0, 2.0]])
def test_extremes_indices_ties_and_nan(name, row):
    a = np.array([row, row[::-1]])
    t_out, g_out = getattr(torch, name)(torch.tensor(a), 1), getattr(gk, name)(gk.tensor(a), 1)
    np.testing.assert_array_equal(g_out.values.numpy(), t_out.values.numpy())
    np.testing.assert_array_equal(g_out.indices.numpy(), t_out.indices.numpy())
    assert g_out.indices.dtype == np.int64
    if not np.isnan(a).any():
        check(None, *both(name, 1), arrays=[a])


@pytest.mark.parametrize("name", EXTREMES)
def test_extremes_of_integer_tensors_and_tuple_unpacking(name):
    a = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]], np.int32)
    values, indices = getattr(gk, name)(gk.tensor(a), dim=-1)
    expected = getattr(torch, name)(torch.tensor(a), dim=-1)
    assert values.dtype == np.int32
    np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("in_dtype,out_dtype", [
    ("int32", None), ("int64", None), ("bool", None), ("uint8", None), ("int32", "float32"),
    ("float32", "float64"), ("float64", "float32"), ("float32", None)])
def test_cumsum_cumprod_dtypes(name, in_dtype, out_dtype):
    a = np.array([[1, 0, 2], [3, 1, 1]]).astype(in_dtype)
    kw_t = {} if out_dtype is None else {"dtype": getattr(torch, out_dtype)}
    kw_g = {} if out_dtype is None else {"dtype": getattr(gk, out_dtype)}
    t_out = getattr(torch, name)(torch.tensor(a), 1, **kw_t)
    g_out = getattr(gk, name)(gk.tensor(a), 1, **kw_g)
    assert g_out.dtype == np.dtype(str(t_out.dtype).replace("torch.", ""))
    np.testing.assert_array_equal(g_out.numpy(), t_out.numpy())


def test_cumsum_dtype_casts_first_and_gradient_comes_back_in_the_input_dtype():
    x = gk.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
    out = gk.cumsum(x, 1, dtype=gk.float64)
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 2, 1], [3, 2, 1]])


def test_logcumsumexp_is_stable_for_large_and_minus_inf_inputs():
    a = np.array([[1000.0, 1000.0, -1000.0, 0.0], [-np.inf, -np.inf, 2.0, -np.inf]])
    check(None, *both("logcumsumexp", 1), arrays=[a])
    check(None, *both("logcumsumexp", 0), arrays=[a.T.copy()])


def test_logcumsumexp_of_an_integer_tensor_raises_as_pytorch():
    with pytest.raises(NotImplementedError):
        torch.logcumsumexp(torch.tensor([1, 2]), 0)
    with pytest.raises(NotImplementedError, match="logcumsumexp"):
        gk.logcumsumexp(gk.tensor([1, 2]), 0)


@pytest.mark.parametrize("name", SCANS + EXTREMES)
def test_scan_methods_match_functions(name):
    a = np.random.default_rng(1).uniform(-2, 2, (3, 4))
    x = gk.tensor(a)
    np.testing.assert_array_equal(getattr(x, name)(1)[0].numpy() if name in EXTREMES
                                  else getattr(x, name)(1).numpy(),
                                  getattr(gk, name)(x, dim=1)[0].numpy() if name in EXTREMES
                                  else getattr(gk, name)(x, dim=1).numpy())


@pytest.mark.parametrize("name", SCANS + EXTREMES)
def test_bad_dims_raise_as_pytorch(name):
    with pytest.raises(IndexError):
        getattr(torch, name)(torch.ones(2, 3), 2)
    with pytest.raises(IndexError, match=name):
        getattr(gk, name)(gk.ones(2, 3), 2)
    with pytest.raises(TypeError):
        getattr(gk, name)(gk.ones(2, 3), (0, 1))


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_scans_on_drawn_shapes(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    name = data.draw(st.sampled_from(SCANS + EXTREMES))
    check([tuple(shape)], *both(name, dim))
