"""ops/more_math.py against PyTorch: values, gradients, gradcheck, edge cases."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd.check import gradcheck
from gradkit.ops.more_math import softshrink, tanhshrink
from tests.oracle import check

RNG = np.random.default_rng(0)
DTYPES = [np.float64, np.float32]


def _grad_ok(fn, *shapes, low=-2.0, high=2.0):
    inputs = [gk.tensor(RNG.uniform(low, high, s), requires_grad=True) for s in shapes]
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,low,high", [
    ("sinc", -2, 2), ("deg2rad", -2, 2), ("rad2deg", -2, 2), ("logit", 0.05, 0.95),
    ("hardshrink", -2, 2)])
def test_unary(name, low, high, dtype):
    check([(3, 4)], getattr(torch, name), getattr(gk, name), dtype=dtype, low=low, high=high)
    _grad_ok(getattr(gk, name), (3, 4), low=low, high=high)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["xlogy", "fmax", "fmin", "logaddexp2", "float_power",
                                  "ldexp"])
def test_binary(name, dtype):
    check([(3, 4), (4,)], getattr(torch, name), getattr(gk, name), dtype=dtype, low=0.2)
    check([(4,), (3, 4)], getattr(torch, name), getattr(gk, name), dtype=dtype, low=0.2)
    _grad_ok(getattr(gk, name), (3, 4), (4,), low=0.2)


def test_sinc_and_xlogy_at_zero():
    check([(3,)], torch.sinc, gk.sinc, arrays=[np.array([0.0, 1.0, -0.5])])
    x = np.array([0.0, 0.0, 1.0, 2.0])
    y = np.array([0.0, 3.0, 0.5, np.nan])
    check([], torch.xlogy, gk.xlogy, arrays=[x, y])
    check([], lambda a: torch.xlogy(a, 2.0), lambda a: gk.xlogy(a, 2.0), arrays=[x])
    check([], lambda b: torch.xlogy(2.0, b), lambda b: gk.xlogy(2.0, b), arrays=[y[1:3]])


def test_logit_eps_clamps_and_zero_gradient_outside():
    x = np.array([0.01, 0.3, 0.5, 0.99, 0.0, 1.0])
    check([], lambda a: torch.logit(a, 0.1), lambda a: gk.logit(a, 0.1), arrays=[x])
    check([], lambda a: torch.logit(a, 0.1), lambda a: gk.logit(a, 0.1),
          arrays=[x.astype(np.float32)], dtype=np.float32)


def test_fmax_fmin_nan_and_ties():
    a = np.array([1.0, np.nan, 2.0, np.nan, 3.0])
    b = np.array([1.0, 2.0, np.nan, np.nan, 0.0])
    for name in ("fmax", "fmin"):
        check([], getattr(torch, name), getattr(gk, name), arrays=[a, b])
    check([], torch.fmax, gk.fmax, arrays=[np.array([1, 5]), np.array([3, 2])], grad=False)


def test_float_power_dtypes():
    for a in (np.array([1, 2, 3]), np.array([1.5, 2.0], np.float32)):
        t, g = torch.float_power(torch.tensor(a), 2), gk.float_power(gk.tensor(a), 2)
        assert g.dtype == np.float64 and t.dtype == torch.float64
        np.testing.assert_allclose(g.numpy(), t.numpy())
    x = gk.tensor([1.5, 2.0], requires_grad=True)
    gk.float_power(x, 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(gk.float_power(2, gk.tensor([1.0, 3.0])).numpy(), [2.0, 8.0])


def test_ldexp_integer_exponent():
    e = np.array([0, 1, 3])
    check([(2, 3)], lambda a: torch.ldexp(a, torch.tensor(e)),
          lambda a: gk.ldexp(a, gk.tensor(e)))
    with pytest.raises(TypeError):
        gk.ldexp(gk.ones(2), 2.0)


def test_heaviside_gcd_lcm_signbit():
    x = np.array([-1.5, 0.0, 2.0, -0.0])
    v = np.array([0.5, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(gk.heaviside(gk.tensor(x), gk.tensor(v)).numpy(),
                                  torch.heaviside(torch.tensor(x), torch.tensor(v)).numpy())
    a, b = np.array([12, -18, 0, 7]), np.array([8, 12, 5, 0])
    for name in ("gcd", "lcm"):
        t = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        g = getattr(gk, name)(gk.tensor(a), gk.tensor(b))
        np.testing.assert_array_equal(g.numpy(), t.numpy())
        assert g.dtype == np.int64
        with pytest.raises(RuntimeError):
            getattr(gk, name)(gk.ones(2), gk.ones(2))
    g, t = gk.signbit(gk.tensor(x)), torch.signbit(torch.tensor(x))
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    assert g.dtype == np.bool_
    with pytest.raises(TypeError):
        gk.heaviside(gk.tensor(x), 0.5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_addcmul_addcdiv(dtype):
    check([(3, 4), (3, 1), (4,)], lambda a, b, c: torch.addcmul(a, b, c, value=-0.5),
          lambda a, b, c: gk.addcmul(a, b, c, value=-0.5), dtype=dtype)
    check([(3, 4), (3, 1), (4,)], lambda a, b, c: torch.addcdiv(a, b, c, value=2),
          lambda a, b, c: gk.addcdiv(a, b, c, value=2), dtype=dtype, low=0.5)
    check([(3, 4), (3, 4), (4,)], torch.addcdiv, gk.addcdiv, dtype=dtype, low=0.5)
    _grad_ok(lambda a, b, c: gk.addcdiv(a, b, c, value=0.3), (2, 3), (2, 3), (3,), low=0.5)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.addcdiv(lib.ones(2), lib.ones(2, dtype=lib.int64), lib.ones(2, dtype=lib.int64))


@pytest.mark.parametrize("p", [2, 1, 3.5, 0, float("inf")])
def test_dist(p):
    check([(3, 4), (4,)], lambda a, b: torch.dist(a, b, p), lambda a, b: gk.dist(a, b, p),
          grad=p != 0)


@pytest.mark.parametrize("p,dim,maxnorm", [(2, 0, 1.0), (1, 1, 2.0), (3, -1, 0.5),
                                           (2, 1, 100.0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_renorm(p, dim, maxnorm, dtype):
    check([(3, 4, 2)], lambda a: torch.renorm(a, p, dim, maxnorm),
          lambda a: gk.renorm(a, p, dim, maxnorm), dtype=dtype)
    _grad_ok(lambda a: gk.renorm(a, p, dim, maxnorm), (3, 4))


def test_renorm_errors():
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.renorm(lib.ones(2, 2), 0, 0, 1.0)
        with pytest.raises(RuntimeError):
            lib.renorm(lib.ones(2, 2), 2, 0, -1.0)


def test_shrinks_for_f():
    check([(3, 4)], lambda a: torch.nn.functional.softshrink(a, 0.7),
          lambda a: softshrink(a, 0.7))
    check([(3, 4)], torch.nn.functional.tanhshrink, tanhshrink)
    check([(3, 4)], lambda a: torch.hardshrink(a, 1.0), lambda a: gk.hardshrink(a, 1.0))


@pytest.mark.parametrize("n,dim", [(1, -1), (2, 0), (3, 1), (0, 1), (5, -1)])
def test_diff(n, dim):
    check([(4, 5)], lambda a: torch.diff(a, n, dim), lambda a: gk.diff(a, n, dim))


def test_diff_prepend_append_bool_int_and_errors():
    check([(3, 4), (3, 1), (3, 2)], lambda a, p, q: torch.diff(a, 1, 1, p, q),
          lambda a, p, q: gk.diff(a, 1, 1, p, q))
    for a in (np.array([True, False, False, True]), np.array([1, 4, 9, 16])):
        t, g = torch.diff(torch.tensor(a), 2), gk.diff(gk.tensor(a), 2)
        np.testing.assert_array_equal(g.numpy(), t.numpy())
        assert g.dtype == a.dtype
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.diff(lib.tensor(1.0))
        with pytest.raises(RuntimeError):
            lib.diff(lib.ones(3), -1)


@pytest.mark.parametrize("name", ["trapezoid", "cumulative_trapezoid"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_trapezoid(name, dtype):
    tf, gf = getattr(torch, name), getattr(gk, name)
    check([(3, 5)], tf, gf, dtype=dtype)
    check([(3, 5)], lambda y: tf(y, dx=0.5, dim=0), lambda y: gf(y, dx=0.5, dim=0), dtype=dtype)
    check([(3, 5), (5,)], lambda y, x: tf(y, x), lambda y, x: gf(y, x), dtype=dtype)
    check([(3, 5), (3,)], lambda y, x: tf(y, x, dim=0), lambda y, x: gf(y, x, dim=0),
          dtype=dtype)
    check([(3, 5), (3, 5)], lambda y, x: tf(y, x), lambda y, x: gf(y, x), dtype=dtype)
    check([(3, 1)], tf, gf)
    _grad_ok(lambda y, x: gf(y, x), (2, 4), (4,))


def test_trapz_and_trapezoid_errors():
    check([(3, 5)], lambda y: torch.trapz(y, dx=2.0), lambda y: gk.trapz(y, dx=2.0))
    check([(3, 5), (5,)], torch.trapz, gk.trapz)
    with pytest.raises(RuntimeError):
        gk.trapezoid(gk.ones(3, 5), gk.ones(4))


@pytest.mark.parametrize("N,increasing", [(None, False), (4, True), (1, False), (0, False),
                                          (2, True)])
def test_vander(N, increasing):
    # torch's vander backward raises ("modified by an inplace operation"): values only here,
    # gradcheck below
    check([(3,)], lambda x: torch.vander(x, N, increasing),
          lambda x: gk.vander(x, N, increasing), grad=False)
    check([], lambda x: torch.vander(x, N, increasing), lambda x: gk.vander(x, N, increasing),
          arrays=[np.array([0.0, 1.5, -2.0])], grad=False)
    t, g = torch.vander(torch.tensor([2, 3]), N), gk.vander(gk.tensor([2, 3]), N)
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    assert g.dtype == np.int64


def test_vander_float32_gradcheck_and_errors():
    check([(4,)], torch.vander, gk.vander, dtype=np.float32, grad=False)
    _grad_ok(gk.vander, (4,))
    _grad_ok(lambda x: gk.vander(x * 0.0), (3,))
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.vander(lib.ones(2, 2))


def test_empty_and_non_contiguous():
    check([(0, 3)], torch.sinc, gk.sinc)
    check([(0, 3), (3,)], torch.xlogy, gk.xlogy)
    check([(4, 3)], lambda a: torch.logaddexp2(a.t(), a.t()),
          lambda a: gk.logaddexp2(a.t(), a.t()))
    check([(4, 3)], lambda a: torch.diff(a.t()), lambda a: gk.diff(a.t()))


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), n=st.integers(0, 3))
def test_diff_shapes_hypothesis(shape, n):
    check([tuple(shape)], lambda a: torch.diff(a, n), lambda a: gk.diff(a, n))


@pytest.mark.parametrize("dtype", DTYPES)
def test_frexp_and_nextafter(dtype):
    x = np.array([8.0, 0.3, 0.0, -5.5, 1e-3], dtype)
    t, g = torch.frexp(torch.tensor(x)), gk.frexp(gk.tensor(x))
    for a, b in ((g.mantissa, t.mantissa), (g.exponent, t.exponent), (g[0], t[0])):
        assert a.dtype == np.dtype(str(b.dtype)[6:])
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    y = np.array([9.0, 0.0, 0.0, -6.0, 1.0], dtype)
    t, g = torch.nextafter(torch.tensor(x), torch.tensor(y)), gk.nextafter(gk.tensor(x),
                                                                           gk.tensor(y))
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    assert g.dtype == dtype
    a, b = torch.tensor(x), gk.tensor(x)
    a.nextafter_(torch.tensor(y)), b.nextafter_(gk.tensor(y))
    np.testing.assert_array_equal(b.numpy(), a.numpy())
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.frexp(lib.tensor([1, 2]))


@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": -2, "edge_order": 2},
                                    {"spacing": 2.0}, {"spacing": [0.5, 3.0]},
                                    {"spacing": 0.5, "dim": [1], "edge_order": 2}])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient(kwargs, dtype):
    def run(lib):
        return lambda a: lib.cat([g.reshape(-1) for g in lib.gradient(a, **kwargs)])
    check([(4, 5)], run(torch), run(gk), dtype=dtype)


def test_gradient_coordinates_edges_and_errors():
    coords = np.array([0.0, 0.5, 2.0, 2.5, 4.0])
    for order in (1, 2):
        check([(3, 5)], lambda a: torch.gradient(a, spacing=(torch.tensor(coords),), dim=1,
                                                 edge_order=order)[0],
              lambda a: gk.gradient(a, spacing=(gk.tensor(coords),), dim=1,
                                    edge_order=order)[0])
    check([(2,)], lambda a: torch.gradient(a)[0], lambda a: gk.gradient(a)[0])
    check([(3,)], lambda a: torch.gradient(a, edge_order=2)[0],
          lambda a: gk.gradient(a, edge_order=2)[0])
    t, g = torch.gradient(torch.tensor([1, 2, 4]))[0], gk.gradient(gk.tensor([1, 2, 4]))[0]
    np.testing.assert_allclose(g.numpy(), t.numpy())
    assert g.dtype == np.float32
    _grad_ok(lambda a: gk.gradient(a, spacing=(gk.tensor(coords),), dim=1, edge_order=2)[0],
             (2, 5))
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.gradient(lib.ones(2), edge_order=2)
        with pytest.raises(RuntimeError):
            lib.gradient(lib.ones(3, 3), spacing=[1.0, 2.0, 3.0])
