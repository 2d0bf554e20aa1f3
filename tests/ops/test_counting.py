"""ops/counting.py against PyTorch: counts, searches, quantiles (with gradients), moments,
block and index builders."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd.check import gradcheck
from tests.oracle import check

RNG = np.random.default_rng(0)


def _same(g, t):
    assert g.shape == tuple(t.shape)
    assert g.dtype == np.dtype(str(t.dtype).replace("torch.", ""))
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6, atol=1e-12)


def test_bincount():
    x = np.array([0, 3, 3, 1, 7])
    _same(gk.bincount(gk.tensor(x)), torch.bincount(torch.tensor(x)))
    _same(gk.bincount(gk.tensor(x), minlength=10), torch.bincount(torch.tensor(x), minlength=10))
    for w in (np.arange(5.0), np.arange(5.0).astype(np.float32), np.arange(5)):
        _same(gk.bincount(gk.tensor(x), gk.tensor(w)), torch.bincount(torch.tensor(x),
                                                                      torch.tensor(w)))
    empty = np.zeros(0, np.int64)
    _same(gk.bincount(gk.tensor(empty)), torch.bincount(torch.tensor(empty)))
    for bad in (np.array([-1, 2]), np.array([[1]]), np.array([1.0])):
        for lib in (torch, gk):
            with pytest.raises(RuntimeError):
                lib.bincount(lib.tensor(bad))


@pytest.mark.parametrize("bins,lo,hi", [(4, 0, 0), (5, -1, 1), (3, 0.5, 0.5), (10, -3, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histc(bins, lo, hi, dtype):
    x = RNG.standard_normal(50).astype(dtype)
    _same(gk.histc(gk.tensor(x), bins, lo, hi), torch.histc(torch.tensor(x), bins, lo, hi))
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.histc(lib.tensor(x), 4, 2, 1)


def test_histogram():
    x = RNG.standard_normal(40)
    w = RNG.uniform(0, 1, 40)
    for kwargs in ({}, {"range": (-1.0, 1.0)}, {"density": True}, {"weight": w}):
        tk = {k: torch.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
        gkw = {k: gk.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
        t, g = torch.histogram(torch.tensor(x), 6, **tk), gk.histogram(gk.tensor(x), 6, **gkw)
        _same(g.hist, t.hist)
        _same(g.bin_edges, t.bin_edges)
    edges = np.array([-2.0, -0.5, 0.0, 3.0])
    t = torch.histogram(torch.tensor(x), torch.tensor(edges))
    g = gk.histogram(gk.tensor(x), gk.tensor(edges))
    _same(g.hist, t.hist)
    _same(g[1], t[1])


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize(right):
    seq = np.array([1, 3, 3, 5, 9])
    v = np.array([[0, 3, 4], [9, 10, 5]])
    _same(gk.searchsorted(gk.tensor(seq), gk.tensor(v), right=right),
          torch.searchsorted(torch.tensor(seq), torch.tensor(v), right=right))
    _same(gk.searchsorted(gk.tensor(seq), gk.tensor(v), side="right" if right else "left",
                          out_int32=True),
          torch.searchsorted(torch.tensor(seq), torch.tensor(v),
                             side="right" if right else "left", out_int32=True))
    rows = np.sort(RNG.standard_normal((2, 3, 6)), -1)
    vals = RNG.standard_normal((2, 3, 4))
    _same(gk.searchsorted(gk.tensor(rows), gk.tensor(vals), right=right),
          torch.searchsorted(torch.tensor(rows), torch.tensor(vals), right=right))
    _same(gk.bucketize(gk.tensor(v), gk.tensor(seq), right=right),
          torch.bucketize(torch.tensor(v), torch.tensor(seq), right=right))


def test_searchsorted_sorter_and_errors():
    seq, order = np.array([5, 1, 3]), np.array([1, 2, 0])
    _same(gk.searchsorted(gk.tensor(seq), gk.tensor([2, 6]), sorter=gk.tensor(order)),
          torch.searchsorted(torch.tensor(seq), torch.tensor([2, 6]),
                             sorter=torch.tensor(order)))
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.searchsorted(lib.ones(2, 3), lib.ones(3, 3))
        with pytest.raises(RuntimeError):
            lib.searchsorted(lib.ones(3), lib.ones(3), right=True, side="left")
        with pytest.raises(RuntimeError):
            lib.bucketize(lib.ones(3), lib.ones(2, 2))


def test_isin():
    a, b = np.array([[1, 2], [3, 4]]), np.array([2, 4, 6])
    for invert in (False, True):
        _same(gk.isin(gk.tensor(a), gk.tensor(b), invert=invert),
              torch.isin(torch.tensor(a), torch.tensor(b), invert=invert))
    _same(gk.isin(gk.tensor(a), 2), torch.isin(torch.tensor(a), 2))
    _same(gk.isin(2, gk.tensor(b)), torch.isin(2, torch.tensor(b)))


QUANTILE_CASES = [(0.3, None, False), (0.5, 1, False), (0.9, 0, True), (0.0, -1, True),
                  (1.0, None, True), ([0.1, 0.5, 0.75], 1, False), ([0.25], None, True),
                  ([0.2, 0.8], 0, True)]


@pytest.mark.parametrize("q,dim,keepdim", QUANTILE_CASES)
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile(q, dim, keepdim, interpolation, name):
    def run(lib):
        def f(x):
            qq = lib.tensor(q, dtype=lib.float64) if isinstance(q, list) else q
            return getattr(lib, name)(x, qq, dim, keepdim, interpolation=interpolation)
        return f
    check([(4, 5)], run(torch), run(gk))


def test_quantile_nan_float32_and_gradcheck():
    x = RNG.standard_normal((3, 5))
    x[0, 2] = np.nan
    for name in ("quantile", "nanquantile"):
        check([], lambda a: getattr(torch, name)(a, 0.4, 1), lambda a: getattr(gk, name)(a, 0.4, 1),
              arrays=[x])
        x_all = x.copy()
        x_all[2, :] = np.nan  # values only: which NaN gets the gradient is the sort's choice
        check([], lambda a: getattr(torch, name)(a, 0.4, 1), lambda a: getattr(gk, name)(a, 0.4, 1),
              arrays=[x_all], grad=False)
    check([(4, 6)], lambda a: torch.quantile(a, 0.35, 1), lambda a: gk.quantile(a, 0.35, 1),
          dtype=np.float32)
    t = gk.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda a: gk.quantile(a, gk.tensor([0.2, 0.7], dtype=gk.float64), 1), (t,))
    check([()], lambda a: torch.quantile(a, 0.5), lambda a: gk.quantile(a, 0.5))
    check([()], lambda a: torch.quantile(a, 0.5, 0, True), lambda a: gk.quantile(a, 0.5, 0, True))
    check([(2, 3)], lambda a: torch.quantile(a, torch.tensor([0.5, 0.2], dtype=torch.float64),
                                             None, True),
          lambda a: gk.quantile(a, gk.tensor([0.5, 0.2], dtype=gk.float64), None, True))
    check([(4, 3)], lambda a: torch.quantile(a.t(), 0.6, 0), lambda a: gk.quantile(a.t(), 0.6, 0))


def test_quantile_errors():
    for lib in (torch, gk):
        for args in ((lib.ones(3), 1.5), (lib.ones(0), 0.5), (lib.ones(3, dtype=lib.int64), 0.5),
                     (lib.ones(3), lib.tensor([0.5], dtype=lib.float64))):
            with pytest.raises(RuntimeError):
                lib.quantile(*args)
    with pytest.raises(ValueError):
        gk.quantile(gk.ones(3), 0.5, interpolation="cubic")


@pytest.mark.parametrize("shape", [(3, 6), (6,), (1, 5), (2, 2)])
@pytest.mark.parametrize("correction", [1, 0, 2])
@pytest.mark.filterwarnings("ignore:cov\\(\\)")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_cov_and_corrcoef(shape, correction):
    check([shape], lambda a: torch.cov(a, correction=correction),
          lambda a: gk.cov(a, correction=correction))
    check([shape], torch.corrcoef, gk.corrcoef)
    check([shape], lambda a: torch.cov(a, correction=correction),
          lambda a: gk.cov(a, correction=correction), dtype=np.float32)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_cov_warns_without_degrees_of_freedom():
    with pytest.warns(UserWarning, match="degrees of freedom"):
        torch.cov(torch.ones(2, 2), correction=2)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        gk.cov(gk.ones(2, 2), correction=2)


def test_cov_weights_and_errors():
    fw = np.array([1, 2, 1, 3, 1])
    check([(3, 5), (5,)], lambda a, w: torch.cov(a, fweights=torch.tensor(fw), aweights=w),
          lambda a, w: gk.cov(a, fweights=gk.tensor(fw), aweights=w), low=0.5)
    check([(3, 5)], lambda a: torch.cov(a, fweights=torch.tensor(fw)),
          lambda a: gk.cov(a, fweights=gk.tensor(fw)))
    x = gk.tensor(RNG.standard_normal((2, 5)), requires_grad=True)
    w = gk.tensor(RNG.uniform(0.5, 1.5, 5), requires_grad=True)
    assert gradcheck(lambda a, b: gk.cov(a, aweights=b), (x, w))
    t, g = torch.cov(torch.tensor([[1, 2, 4]])), gk.cov(gk.tensor([[1, 2, 4]]))
    _same(g, t)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.cov(lib.ones(2, 2, 2))
        with pytest.raises(RuntimeError):
            lib.cov(lib.ones(2, 3), fweights=lib.ones(3))


def test_block_diag():
    check([(2, 3), (1,), (), (2, 2)], torch.block_diag, gk.block_diag)
    check([(2, 3), (3, 1)], torch.block_diag, gk.block_diag, dtype=np.float32)
    t = torch.block_diag(torch.tensor([1, 2]), torch.tensor([[1.0, 2.0]]))
    g = gk.block_diag(gk.tensor([1, 2]), gk.tensor([[1.0, 2.0]]))
    _same(g, t)
    check([(0, 2), (2, 0)], torch.block_diag, gk.block_diag)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.block_diag(lib.ones(2, 2, 2))


def test_cartesian_prod_and_combinations():
    check([(3,), (2,), (2,)], torch.cartesian_prod, gk.cartesian_prod)
    check([(3,)], torch.cartesian_prod, gk.cartesian_prod)
    for r in (0, 1, 2, 3, 5):
        for rep in (False, True):
            check([(4,)], lambda a: torch.combinations(a, r, rep),
                  lambda a: gk.combinations(a, r, rep))
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.combinations(lib.ones(2, 2))
        with pytest.raises(RuntimeError):
            lib.cartesian_prod(lib.ones(2, 2), lib.ones(2))


@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (3, 4, 1), (4, 2, -1), (0, 3, 0),
                                            (3, 5, 7), (5, 3, -7)])
def test_tril_triu_indices(row, col, offset):
    for name in ("tril_indices", "triu_indices"):
        _same(getattr(gk, name)(row, col, offset), getattr(torch, name)(row, col, offset))
    _same(gk.tril_indices(row, col, offset, dtype=gk.int32),
          torch.tril_indices(row, col, offset, dtype=torch.int32))


def test_unravel_index():
    for idx, shape in ((np.array([0, 5, -1, 7]), (2, 4)), (np.array(3), (4,)),
                       (np.array([[1, 2]]), (3, 1, 2))):
        t = torch.unravel_index(torch.tensor(idx), shape)
        g = gk.unravel_index(gk.tensor(idx), shape)
        assert len(t) == len(g)
        for a, b in zip(g, t):
            _same(a, b)
    with pytest.raises(RuntimeError, match="must be in range"):  # torch wraps it round
        gk.unravel_index(gk.tensor([8]), (2, 4))
    for lib in (torch, gk):
        with pytest.raises(TypeError):
            lib.unravel_index(lib.tensor([1.0]), (2, 4))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 7), q=st.floats(0, 1))
def test_quantile_hypothesis(n, q):
    check([(2, n)], lambda a: torch.quantile(a, q, 1), lambda a: gk.quantile(a, q, 1))


@pytest.mark.parametrize("size,fill", [(3, -1), (1, 0), (6, 7), (0, -1)])
def test_nonzero_static(size, fill):
    for x in (np.array([0, 1, 0, 2]), np.array([[0.0, 1.5], [2.0, 0.0]]), np.array([False])):
        t = torch.nonzero_static(torch.tensor(x), size=size, fill_value=fill)
        g = gk.nonzero_static(gk.tensor(x), size=size, fill_value=fill)
        _same(g, t)
        _same(gk.tensor(x).nonzero_static(size=size), torch.tensor(x).nonzero_static(size=size))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogramdd(dtype):
    x = RNG.standard_normal((50, 3)).astype(dtype)
    w = RNG.uniform(0, 1, 50).astype(dtype)
    edges = [np.array([-3.0, 0.0, 3.0], dtype), np.array([-1.0, 1.0], dtype),
             np.linspace(-2, 2, 5).astype(dtype)]
    cases = [(4, {}), ([2, 3, 4], {"range": [-1.0, 1.0, -2.0, 2.0, 0.0, 1.0]}),
             (3, {"density": True}), (2, {"weight": w}), (edges, {})]
    for bins, kw in cases:
        tk = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
        gkw = {k: gk.tensor(v) if k == "weight" else v for k, v in kw.items()}
        tb = [torch.tensor(e) for e in bins] if isinstance(bins, list) and \
            isinstance(bins[0], np.ndarray) else bins
        gb = [gk.tensor(e) for e in bins] if isinstance(bins, list) and \
            isinstance(bins[0], np.ndarray) else bins
        t, g = torch.histogramdd(torch.tensor(x), tb, **tk), gk.histogramdd(gk.tensor(x), gb,
                                                                             **gkw)
        _same(g.hist, t.hist)
        assert len(g.bin_edges) == len(t.bin_edges)
        for a, b in zip(g.bin_edges, t.bin_edges):  # torch's float32 linspace rounds apart
            assert a.dtype == np.dtype(str(b.dtype)[6:])
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError):
        gk.histogramdd(gk.tensor(x), [2, 2])
