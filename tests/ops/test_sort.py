"""Sorting and order statistics against PyTorch: sort, argsort, msort, topk, kthvalue,
median, nanmedian, mode, unique, unique_consecutive; values, int64 indices and gradients in
float64 and float32, stable ties, NaN, 0-d, empty and size-1 dims, non-contiguous input."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd.check import gradcheck
from oracle import check

F64, F32 = np.float64, np.float32
NAN = float("nan")


def distinct(shape, dtype=F64, seed=0):
    """Values without ties (a shuffled range), so every op's index choice is unique."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.5 - n / 4).reshape(shape).astype(dtype)


def same_indices(t_out, g_out):
    assert g_out.indices.dtype == np.int64
    np.testing.assert_array_equal(g_out.indices.numpy(), t_out.indices.numpy())


def check_pair(arrays, tfn, gfn, dtype=F64):
    """Values and gradients via the oracle, then the indices compared exactly."""
    check([], tfn, gfn, dtype=dtype, arrays=arrays)
    t_out = tfn(*[torch.tensor(a) for a in arrays])
    g_out = gfn(*[gk.tensor(a) for a in arrays])
    same_indices(t_out, g_out)
    assert type(g_out).__name__ == "values_indices"


CASES = [((5,), -1), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((1, 4), 0), ((3, 1), 1),
         ((0, 3), 0), ((3, 0), 1)]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("shape,dim", CASES, ids=str)
def test_sort(shape, dim, descending, dtype):
    check_pair([distinct(shape, dtype)], lambda x: torch.sort(x, dim, descending),
               lambda x: gk.sort(x, dim, descending), dtype)
    check_pair([distinct(shape, dtype)], lambda x: torch.sort(x, dim=dim, descending=descending,
                                                              stable=True),
               lambda x: gk.sort(x, dim=dim, descending=descending, stable=True), dtype)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_stable_ties_and_nan(descending):
    a = np.array([[2.0, NAN, 1.0, 2.0, NAN, 1.0, 2.0], [0.0, 0.0, -1.0, 0.0, 5.0, 5.0, 0.0]])
    check_pair([a], lambda x: torch.sort(x, dim=-1, descending=descending, stable=True),
               lambda x: gk.sort(x, -1, descending, stable=True))
    ints = np.array([3, 1, 3, 2, 1, 3])
    t, g = torch.sort(torch.tensor(ints), descending=descending, stable=True), gk.sort(
        gk.tensor(ints), descending=descending)
    np.testing.assert_array_equal(g.values.numpy(), t.values.numpy())
    same_indices(t, g)
    bools = np.array([True, False, True, False])
    t, g = torch.sort(torch.tensor(bools), descending=descending, stable=True), gk.sort(
        gk.tensor(bools), descending=descending)
    assert g.values.dtype == np.bool_
    same_indices(t, g)


def test_sort_argsort_msort_non_contiguous_and_0d():
    a = distinct((4, 3))
    check_pair([a], lambda x: torch.sort(x.T, 0), lambda x: gk.sort(x.T, 0))
    check([], lambda x: torch.msort(x.T), lambda x: gk.msort(x.T), arrays=[a])
    for descending in (False, True):
        np.testing.assert_array_equal(
            gk.argsort(gk.tensor(a), 0, descending).numpy(),
            torch.argsort(torch.tensor(a), 0, descending).numpy())
    z = np.array(3.0)
    check_pair([z], lambda x: torch.sort(x), lambda x: gk.sort(x))
    check_pair([z], lambda x: torch.topk(x, 1), lambda x: gk.topk(x, 1))
    check_pair([z], lambda x: torch.kthvalue(x, 1), lambda x: gk.kthvalue(x, 1))
    check_pair([z], lambda x: torch.median(x, 0), lambda x: gk.median(x, 0))
    check_pair([z], lambda x: torch.mode(x), lambda x: gk.mode(x))
    with pytest.raises(IndexError):
        gk.sort(gk.zeros(3, 4), 2)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("shape,dim,k", [((6,), -1, 3), ((3, 5), 0, 2), ((3, 5), 1, 5),
                                         ((2, 3, 4), 1, 1), ((3, 4), 1, 0), ((0, 4), 1, 2)],
                         ids=str)
def test_topk(shape, dim, k, largest, dtype):
    check_pair([distinct(shape, dtype)], lambda x: torch.topk(x, k, dim, largest),
               lambda x: gk.topk(x, k, dim, largest), dtype)


def test_topk_nan_and_errors():
    a = np.array([4.0, NAN, 3.0, 2.0])
    for largest in (True, False):
        check_pair([a], lambda x: torch.topk(x, 2, largest=largest),
                   lambda x: gk.topk(x, 2, largest=largest))
    with pytest.raises(RuntimeError, match="topk"):
        gk.topk(gk.zeros(3), 4)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim,k", [((6,), -1, 3), ((3, 5), 0, 1), ((3, 5), 1, 5),
                                         ((2, 3, 4), -2, 2), ((4, 1), 1, 1)], ids=str)
def test_kthvalue(shape, dim, k, keepdim, dtype):
    check_pair([distinct(shape, dtype)], lambda x: torch.kthvalue(x, k, dim, keepdim),
               lambda x: gk.kthvalue(x, k, dim, keepdim), dtype)


def test_kthvalue_errors_and_nan():
    for k in (0, 4):
        with pytest.raises(RuntimeError, match="kthvalue"):
            gk.kthvalue(gk.zeros(3), k)
    check_pair([np.array([4.0, NAN, 3.0, 2.0])], lambda x: torch.kthvalue(x, 4),
               lambda x: gk.kthvalue(x, 4))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["median", "nanmedian"])
@pytest.mark.parametrize("shape,dim", [((6,), 0), ((5,), -1), ((3, 4), 0), ((3, 4), 1),
                                       ((2, 3, 5), 1), ((1, 4), 0)], ids=str)
def test_median_dim(shape, dim, keepdim, op, dtype):
    check_pair([distinct(shape, dtype)], lambda x: getattr(torch, op)(x, dim, keepdim),
               lambda x: getattr(gk, op)(x, dim, keepdim), dtype)


@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median_nan_rows(op):
    a = np.array([[1.0, NAN, 3.0, NAN, 0.5], [NAN, NAN, NAN, NAN, NAN], [4.0, 2.0, 1.0, 3.0, 0.0],
                  [2.0, 1.0, NAN, 3.0, 5.0]])
    check_pair([a], lambda x: getattr(torch, op)(x, 1), lambda x: getattr(gk, op)(x, 1))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("op", ["median", "nanmedian"])
@pytest.mark.parametrize("shape", [(2, 3), (1, 7), (3, 4), (2, 3, 5), (1, 1)], ids=str)
def test_median_all(shape, op, dtype):
    check([], lambda x: getattr(torch, op)(x), lambda x: getattr(gk, op)(x), dtype=dtype,
          arrays=[distinct(shape, dtype)])
    check([], lambda x: getattr(torch, op)(x.mT), lambda x: getattr(gk, op)(x.transpose(-1, -2)),
          dtype=dtype, arrays=[distinct(shape, dtype)])


def test_median_all_nan_empty_and_errors():
    a = np.array([1.0, NAN, 3.0, NAN])
    assert np.isnan(gk.median(gk.tensor(a)).item())
    assert gk.nanmedian(gk.tensor(a)).item() == torch.nanmedian(torch.tensor(a)).item()
    assert np.isnan(gk.median(gk.zeros(0)).item())
    assert gk.median(gk.tensor([3, 1, 2, 5])).item() == 2
    with pytest.raises(RuntimeError, match="empty"):
        gk.median(gk.zeros(0, dtype=gk.int64))
    with pytest.raises(IndexError):
        gk.median(gk.zeros(2, 0), 1)
    with pytest.raises(IndexError):
        gk.mode(gk.zeros(0))


def test_median_kthvalue_topk_gradcheck():
    rng = np.random.default_rng(7)
    x = gk.tensor(distinct((3, 5)) + rng.uniform(0, 0.1, (3, 5)), requires_grad=True)
    gradcheck(lambda t: gk.median(t, 1).values, [x])
    gradcheck(lambda t: gk.median(t), [x])
    gradcheck(lambda t: gk.kthvalue(t, 2, 0).values, [x])
    gradcheck(lambda t: gk.topk(t, 3).values, [x])
    gradcheck(lambda t: gk.sort(t, 0, True).values, [x])
    gradcheck(lambda t: gk.mode(t, 1).values, [x])


MODE = [
    np.array([3.0, 1.0, 2.0, 1.0, 3.0, 2.0, 5.0]),
    np.array([[1.0, 2.0, 2.0, 1.0], [4.0, 4.0, 3.0, 3.0], [7.0, 6.0, 5.0, 6.0],
              [0.0, 9.0, 9.0, 9.0]]),
    np.array([[5.0], [2.0]]),
    np.array([[2.0, 2.0, 1.0], [3.0, 1.0, 1.0]]),
]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [-1, 0])
@pytest.mark.parametrize("i", range(len(MODE)))
def test_mode(i, dim, keepdim):
    for dtype in (F64, F32):
        check_pair([MODE[i].astype(dtype)], lambda x: torch.mode(x, dim, keepdim),
                   lambda x: gk.mode(x, dim, keepdim), dtype)
    ints = MODE[i].astype(np.int64)
    t, g = torch.mode(torch.tensor(ints), dim, keepdim), gk.mode(gk.tensor(ints), dim, keepdim)
    np.testing.assert_array_equal(g.values.numpy(), t.values.numpy())
    same_indices(t, g)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(0, 2))
def test_order_ops_hypothesis(shape, dim_seed):
    dim = dim_seed % len(shape)
    a = np.random.default_rng(len(shape)).integers(0, 3, shape).astype(F64)
    t, g = torch.tensor(a), gk.tensor(a)
    for tfn, gfn in ((lambda x: torch.sort(x, dim=dim, stable=True), lambda x: gk.sort(x, dim)),
                     (lambda x: torch.sort(x, dim=dim, descending=True, stable=True),
                      lambda x: gk.sort(x, dim, True)),
                     (lambda x: torch.mode(x, dim), lambda x: gk.mode(x, dim))):
        to, go = tfn(t), gfn(g)
        np.testing.assert_array_equal(go.values.numpy(), to.values.numpy())
        same_indices(to, go)
    np.testing.assert_array_equal(gk.median(g).numpy(), torch.median(t).numpy())


def _same(got, expected):
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == np.dtype(str(e.dtype).replace("torch.", ""))
        np.testing.assert_array_equal(g.numpy(), e.numpy())


UNIQUE = [
    np.array([2.0, NAN, 1.0, NAN, 2.0, 1.0, 1.0]),
    np.array([[2, 1], [2, 1], [0, 3], [0, 3], [2, 1]]),
    np.array([[3, 1, 3], [1, 1, 2]]),
    np.zeros((0,), np.float32),
    np.array(4.0),
]


@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("i", range(len(UNIQUE)))
def test_unique_and_consecutive(i, flags):
    a = UNIQUE[i]
    inv, counts = flags
    for fn in ("unique", "unique_consecutive"):
        kw = dict(return_inverse=inv, return_counts=counts)
        _same(getattr(gk, fn)(gk.tensor(a), **kw), getattr(torch, fn)(torch.tensor(a), **kw))
        if a.ndim == 2:
            for dim in (0, 1, -1):
                _same(getattr(gk, fn)(gk.tensor(a), dim=dim, **kw),
                      getattr(torch, fn)(torch.tensor(a), dim=dim, **kw))


@pytest.mark.parametrize("fn", ["unique", "unique_consecutive"])
def test_unique_empty_slices(fn):
    _same(getattr(gk, fn)(gk.zeros(0, 2), dim=0, return_inverse=True, return_counts=True),
          getattr(torch, fn)(torch.zeros(0, 2), dim=0, return_inverse=True, return_counts=True))
    with pytest.raises(RuntimeError, match="0 sized"):
        getattr(gk, fn)(gk.zeros(3, 0), dim=0)


def test_unique_methods_and_no_grad():
    x = gk.tensor([3.0, 1.0, 3.0], requires_grad=True)
    assert not x.unique().requires_grad
    _same(x.unique(return_counts=True), torch.tensor([3.0, 1.0, 3.0]).unique(return_counts=True))
    _same(x.unique_consecutive(return_inverse=True),
          torch.tensor([3.0, 1.0, 3.0]).unique_consecutive(return_inverse=True))


def test_sort_methods():
    a = distinct((3, 4))
    x, t = gk.tensor(a), torch.tensor(a)
    same_indices(t.sort(0, True), x.sort(0, True))
    np.testing.assert_array_equal(x.argsort(1).numpy(), t.argsort(1).numpy())
    np.testing.assert_array_equal(x.msort().numpy(), t.msort().numpy())
    same_indices(t.topk(2), x.topk(2))
    same_indices(t.kthvalue(2, 0), x.kthvalue(2, 0))
    same_indices(t.median(1), x.median(1))
    same_indices(t.nanmedian(0), x.nanmedian(0))
    assert x.median().item() == t.median().item()
    assert x.nanmedian().item() == t.nanmedian().item()
    same_indices(t.mode(0), x.mode(0))
