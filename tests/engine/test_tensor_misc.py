"""Tensor's alias, metadata and transpose methods (methods/misc.py) against PyTorch."""

import warnings

import numpy as np
import pytest
import torch

import gradkit as gk
from tests.oracle import check

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name,args", [
    ("absolute", ()), ("negative", ()), ("positive", ()), ("multiply", (1.5,)),
    ("clamp_min", (0.1,)), ("clamp_max", (0.1,)), ("xlogy", (2.0,)), ("sinc", ()),
    ("deg2rad", ()), ("rad2deg", ()), ("float_power", (2,)),
    ("hardshrink", (0.3,)), ("diff", ()), ("logit", (0.1,)),
])
def test_unary_methods(name, args):
    check([(3, 4)], lambda a: getattr(a, name)(*args), low=0.05, high=0.95)


@pytest.mark.parametrize("name", ["subtract", "fmax", "fmin", "logaddexp2", "dist", "xlogy"])
def test_binary_methods(name):
    check([(3, 4), (3, 4)], lambda a, b: getattr(a, name)(b), low=0.1)


@pytest.mark.parametrize("name", ["greater", "greater_equal", "less", "less_equal",
                                  "not_equal", "equal", "is_same_size"])
def test_comparison_methods(name):
    a, b = RNG.integers(0, 3, (3, 4)), RNG.integers(0, 3, (3, 4))
    t = getattr(torch.tensor(a), name)(torch.tensor(b))
    g = getattr(gk.tensor(a), name)(gk.tensor(b))
    np.testing.assert_array_equal(np.asarray(g.numpy() if isinstance(g, gk.Tensor) else g),
                                  t.numpy() if isinstance(t, torch.Tensor) else t)


def test_ldexp_method():
    check([(3, 4), (4,)], lambda a, b: a.ldexp(b))
    e = np.array([1, 0, 2, 3])  # torch: a negative integer exponent gets a 0 gradient
    check([(3, 4)], lambda a: a.ldexp(torch.tensor(e)), lambda a: a.ldexp(gk.tensor(e)))


def test_addcmul_addcdiv_renorm_subtract_alpha():
    check([(3, 4), (3, 4), (4,)], lambda a, b, c: a.addcmul(b, c, value=0.5), low=0.5)
    check([(3, 4), (3, 4), (4,)], lambda a, b, c: a.addcdiv(b, c, value=-2), low=0.5)
    check([(3, 4)], lambda a: a.renorm(2, 1, 1.5))
    check([(3, 4), (4,)], lambda a, b: a.subtract(b, alpha=3))


def test_type_dtype_helpers():
    x = np.array([[1.5, -2.0]])
    for name in ("byte", "char", "short"):
        t = getattr(torch.tensor([[1.0, 2.0]]), name)()
        g = getattr(gk.tensor([[1.0, 2.0]]), name)()
        assert g.dtype == np.dtype(str(t.dtype).replace("torch.", ""))
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    g = gk.tensor(x).type_as(gk.tensor([1], dtype=gk.int64))
    assert g.dtype == np.int64
    for a in (x, x.astype(np.float32), np.array([1, 2]), np.array([True]),
              np.zeros((), np.int32)):
        t, g = torch.tensor(a), gk.tensor(a)
        assert g.element_size() == t.element_size() and g.itemsize == t.itemsize
        assert g.nbytes == t.nbytes and g.nelement() == t.nelement()
        assert g.ndimension() == t.ndimension()
        assert g.is_floating_point() == t.is_floating_point()
        assert g.is_signed() == t.is_signed()
        assert g.is_contiguous() and g.is_cpu


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (0, 2)])
def test_stride(shape):
    t, g = torch.zeros(shape), gk.zeros(*shape)
    assert g.stride() == t.stride()
    for d in range(-len(shape), len(shape)):
        assert g.stride(d) == t.stride(d)


def test_transposes():
    check([(2, 3, 4)], lambda a: a.mT)
    check([(2, 3, 4)], lambda a: a.mH)
    check([(2, 3, 4)], lambda a: a.adjoint())
    check([(3, 4)], lambda a: a.H)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.ones(3).mT
        with pytest.raises(RuntimeError):
            lib.ones(2, 2, 2).H
        with pytest.raises(RuntimeError):
            lib.ones(3).H
        with pytest.raises(IndexError):
            lib.ones(()).stride(0)


def test_split_select_methods():
    check([(4, 6)], lambda a: a.unbind(1)[2])
    check([(4, 6)], lambda a: a.select(0, -1))
    check([(4, 6)], lambda a: a.tensor_split(4, 1)[1])
    check([(4, 6)], lambda a: a.hsplit(2)[1])
    check([(4, 6)], lambda a: a.vsplit([1])[1])
    check([(4, 6)], lambda a: a.split_with_sizes([2, 4], 1)[1])
    check([(4, 6)], lambda a: a.rot90(1, [1, 0]))
    check([(4,)], lambda a: a.diagflat(1))


def test_index_put_method_and_prelu():
    idx = (np.array([0, 0]), np.array([1, 1]))
    check([(2, 3), (2,)], lambda a, v: a.index_put(tuple(map(torch.tensor, idx)), v, True),
          lambda a, v: a.index_put(tuple(map(gk.tensor, idx)), v, True))
    check([(2, 3, 4), (3,)], lambda a, w: a.prelu(w))


@pytest.mark.parametrize("size", [(1, 4), (3, 1), (4,), (1,), (3, 4), ()])
def test_sum_to_size(size):
    check([(3, 4)], lambda a: a.sum_to_size(size))
    if size:
        check([(3, 4)], lambda a: a.sum_to_size(*size))


def test_sum_to_size_error():
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.ones(3, 4).sum_to_size(2, 4)


def test_is_nonzero_method():
    assert gk.tensor([2.0]).is_nonzero()
    with pytest.raises(RuntimeError):
        gk.ones(2).is_nonzero()


def test_counting_and_statistics_methods():
    x = np.random.default_rng(1).standard_normal((3, 6))
    check([(3, 6)], lambda a: a.quantile(0.3, 1))
    check([(3, 6)], lambda a: a.nanquantile(0.6, 0, True, interpolation="nearest"))
    check([(3, 6)], lambda a: a.cov(correction=0))
    check([(3, 6)], lambda a: a.corrcoef())
    t, g = torch.tensor(x), gk.tensor(x)
    np.testing.assert_allclose(g.histc(5).numpy(), t.histc(5).numpy())
    np.testing.assert_allclose(g.histogram(4).hist.numpy(), t.histogram(4).hist.numpy())
    ints = np.array([1, 1, 3])
    np.testing.assert_array_equal(gk.tensor(ints).bincount(minlength=5).numpy(),
                                  torch.tensor(ints).bincount(minlength=5).numpy())
    m, e = gk.tensor(x).frexp()
    np.testing.assert_array_equal(m.numpy(), torch.tensor(x).frexp()[0].numpy())
    zero_t, zero_g = torch.zeros((), dtype=torch.float64), gk.zeros((), dtype=gk.float64)
    np.testing.assert_array_equal(gk.tensor(x).nextafter(zero_g).numpy(),
                                  torch.tensor(x).nextafter(zero_t).numpy())


def test_new_tensors_take_this_dtype():
    for dtype, tdtype in ((gk.float64, torch.float64), (gk.int64, torch.int64)):
        g, t = gk.ones(2, dtype=dtype), torch.ones(2, dtype=tdtype)
        pairs = [(g.new_zeros(2, 3), t.new_zeros(2, 3)), (g.new_ones((3,)), t.new_ones((3,))),
                 (g.new_full((2,), 7), t.new_full((2,), 7)),
                 (g.new_tensor([1, 2]), t.new_tensor([1, 2])),
                 (g.new_empty(4), t.new_empty(4))]
        for a, b in pairs:
            assert a.shape == tuple(b.shape) and a.dtype == np.dtype(str(b.dtype)[6:])
        for a, b in pairs[:4]:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    z = gk.ones(2).new_zeros(2, dtype=gk.float64, requires_grad=True)
    assert z.dtype == np.float64 and z.requires_grad
    for args in ((2, 3), ([1, 2],), ()):
        t, g = torch.ones(2, dtype=torch.float64).new(*args), gk.ones(2, dtype=gk.float64).new(
            *args)
        assert g.shape == tuple(t.shape) and g.dtype == np.float64
    assert gk.ones(1).new([1.5]).tolist() == [1.5]


def test_deprecated_resize_and_resize_as():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check([(2, 3)], lambda a: a.resize(3, 2))
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        assert gk.ones(6).resize((2, 3)).shape == (2, 3)
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        assert gk.ones(6).resize_as(gk.ones(3, 2)).shape == (3, 2)
    for lib in (torch, gk):
        with pytest.warns(UserWarning), pytest.raises(RuntimeError):
            lib.ones(6).resize(2, 2)
