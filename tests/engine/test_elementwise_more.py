"""Issue 11, item 1: the elementwise ops against PyTorch (values and gradients, float64 and
float32), gradcheck in float64, hypothesis-drawn shapes, and the integer / bool ops."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import gradkit as gk
from gradkit.autograd.check import gradcheck
from oracle import check

F64, F32 = np.float64, np.float32
S = [(3, 4)]

# (id, shapes, torch_fn, gradkit_fn or None when the same code runs on both, input range)
UNARY = [
    ("sin", S, lambda a: a.sin(), None, (-3, 3)),
    ("cos", S, lambda a: a.cos(), None, (-3, 3)),
    ("tan", S, lambda a: a.tan(), None, (-1.2, 1.2)),
    ("asin", S, lambda a: a.asin(), None, (-0.9, 0.9)),
    ("acos", S, lambda a: a.acos(), None, (-0.9, 0.9)),
    ("atan", S, lambda a: a.atan(), None, (-3, 3)),
    ("sinh", S, lambda a: a.sinh(), None, (-2, 2)),
    ("cosh", S, lambda a: a.cosh(), None, (-2, 2)),
    ("asinh", S, lambda a: a.asinh(), None, (-3, 3)),
    ("acosh", S, lambda a: a.acosh(), None, (1.1, 3)),
    ("atanh", S, lambda a: a.atanh(), None, (-0.9, 0.9)),
    ("exp2", S, lambda a: a.exp2(), None, (-2, 2)),
    ("expm1", S, lambda a: a.expm1(), None, (-2, 2)),
    ("log2", S, lambda a: a.log2(), None, (0.1, 3)),
    ("log10", S, lambda a: a.log10(), None, (0.1, 3)),
    ("log1p", S, lambda a: a.log1p(), None, (-0.9, 3)),
    ("rsqrt", S, lambda a: a.rsqrt(), None, (0.2, 3)),
    ("erf", S, lambda a: a.erf(), None, (-2, 2)),
    ("erfinv", S, lambda a: a.erfinv(), None, (-0.9, 0.9)),
    ("reciprocal", S, lambda a: a.reciprocal(), None, (0.3, 3)),
    ("square", S, lambda a: a.square(), None, (-2, 2)),
    ("frac", S, lambda a: a.frac(), None, (-3, 3)),
    ("sign", S, lambda a: a.sign(), None, (-2, 2)),
    ("trunc", S, lambda a: a.trunc(), None, (-3, 3)),
    ("floor", S, lambda a: a.floor(), None, (-3, 3)),
    ("ceil", S, lambda a: a.ceil(), None, (-3, 3)),
    ("round", S, lambda a: a.round(), None, (-3, 3)),
    ("round_decimals", S, lambda a: torch.round(a, decimals=1), lambda a: gk.round(a, 1), (-3, 3)),
]

BINARY = [
    ("atan2", [(3, 4), (4,)], lambda a, b: torch.atan2(a, b), lambda a, b: gk.atan2(a, b),
     (-2, 2)),
    ("hypot", [(3, 4), (3, 1)], lambda a, b: torch.hypot(a, b), lambda a, b: gk.hypot(a, b),
     (0.2, 2)),
    ("copysign", [(3, 4), (4,)], lambda a, b: torch.copysign(a, b),
     lambda a, b: gk.copysign(a, b), (-2, 2)),
    ("fmod", [(3, 4), (4,)], lambda a, b: torch.fmod(a, b), lambda a, b: gk.fmod(a, b), (0.3, 3)),
    ("remainder", [(3, 4), (4,)], lambda a, b: a % (b - 1.7), None, (0.3, 3)),
    ("rmod", [(3, 4)], lambda a: (a * 0 + 2.5) % a, None, (0.3, 3)),
    ("mod_scalar", [(3, 4)], lambda a: a % -0.7, None, (-3, 3)),
    ("div_trunc", [(3, 4), (4,)], lambda a, b: torch.div(a, b, rounding_mode="trunc"),
     lambda a, b: gk.div(a, b, rounding_mode="trunc"), (-3, 3)),
    ("div_floor", [(3, 4), (4,)], lambda a, b: a.div(b, rounding_mode="floor"), None, (-3, 3)),
    ("logaddexp", [(3, 4), (4,)], lambda a, b: torch.logaddexp(a, b),
     lambda a, b: gk.logaddexp(a, b), (-30, 30)),
    ("lerp_scalar", [(3, 4), (4,)], lambda a, b: torch.lerp(a, b, 0.3),
     lambda a, b: gk.lerp(a, b, 0.3), (-2, 2)),
    ("lerp_tensor", [(3, 4), (4,), (3, 1)], lambda a, b, w: torch.lerp(a, b, w),
     lambda a, b, w: gk.lerp(a, b, w), (-2, 2)),
    ("pow_0_0", [(3,)], lambda a: (a * 0) ** 0 + (a * 0) ** (a * 0), None, (-2, 2)),
]

GRADCHECK = [(n, s, g or t, b) for n, s, t, g, b in UNARY + BINARY
             if n not in ("sign", "trunc", "floor", "ceil", "round", "round_decimals",
                          "div_trunc", "div_floor")]


def _params(table):
    return [pytest.param(*row[1:], id=row[0]) for row in table]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shapes, torch_fn, gk_fn, bounds", _params(UNARY + BINARY))
def test_against_torch(shapes, torch_fn, gk_fn, bounds, dtype):
    check(shapes, torch_fn, gk_fn, dtype=dtype, low=bounds[0], high=bounds[1])


@pytest.mark.parametrize("shapes, fn, bounds", [pytest.param(*r[1:], id=r[0]) for r in GRADCHECK])
def test_gradcheck(shapes, fn, bounds):
    rng = np.random.default_rng(3)
    xs = [gk.tensor(rng.uniform(*bounds, size=s), requires_grad=True) for s in shapes]
    assert gradcheck(fn, tuple(xs))


TRIG = [r for r in UNARY if r[0] in ("sin", "atan", "expm1", "erf", "square", "asinh")]


@settings(max_examples=20, deadline=None)
@given(shape=array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
def test_unary_any_shape(shape):
    for _, _, fn, _, bounds in TRIG:
        check([shape], fn, low=bounds[0], high=bounds[1])


@settings(max_examples=20, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0,
                                            max_side=3))
def test_binary_broadcasting(shapes):
    check(list(shapes.input_shapes), lambda a, b: torch.atan2(a, b) + torch.logaddexp(a, b)
          + a % (b + 3), lambda a, b: gk.atan2(a, b) + gk.logaddexp(a, b) + a % (b + 3),
          low=0.2, high=2)


def test_non_contiguous_and_negative_values():
    base = np.random.default_rng(1).uniform(-2, 2, (4, 6))
    check([], lambda a: (a.T[::2].sin() * a.T[1::2].cos()).sum(0), arrays=[base])


def _same(got, expected):
    assert got.dtype == np.dtype(str(expected.dtype).replace("torch.", "")), (got.dtype,
                                                                              expected.dtype)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


INTS = np.array([[7, -7, 5], [0, 3, -1]])
BOOLS = np.array([True, False, True])


@pytest.mark.parametrize("fn", [
    lambda a: a // 3, lambda a: a % 3, lambda a: -7 % a.clamp(min=1), lambda a: 20 // a.clamp(1),
    lambda a: a.fmod(-3), lambda a: a.div(3, rounding_mode="trunc"),
    lambda a: a.div(-3, rounding_mode="floor"), lambda a: a & 6, lambda a: a | 8, lambda a: a ^ 5,
    lambda a: ~a, lambda a: a << 2, lambda a: a >> 1, lambda a: a & a[[1, 0]],
    lambda a: a.sign(), lambda a: a.floor(), lambda a: a.square(), lambda a: a.abs(),
    lambda a: a.logical_not(), lambda a: a.logical_and(a - 3), lambda a: a.logical_xor(a > 2),
    lambda a: a.sin(), lambda a: a.isfinite(), lambda a: a.nan_to_num(),
], ids=lambda f: "")
def test_integer_ops_match_torch(fn):
    _same(fn(gk.tensor(INTS)), fn(torch.tensor(INTS)))


@pytest.mark.parametrize("fn", [
    lambda a: a & a[[2, 1, 0]], lambda a: a | False, lambda a: a ^ True, lambda a: ~a,
    lambda a: a & 3, lambda a: a.logical_or(a[[2, 1, 0]]), lambda a: a.sign(),
])
def test_bool_ops_match_torch(fn):
    _same(fn(gk.tensor(BOOLS)), fn(torch.tensor(BOOLS)))


def test_float_tests_and_closeness_match_torch():
    v = np.array([1.0, np.nan, np.inf, -np.inf, -0.0, 1e-9])
    for name in ("isnan", "isinf", "isposinf", "isneginf", "isfinite"):
        _same(getattr(gk, name)(gk.tensor(v)), getattr(torch, name)(torch.tensor(v)))
    _same(gk.nan_to_num(gk.tensor(v), nan=2.0, posinf=9.0),
          torch.nan_to_num(torch.tensor(v), nan=2.0, posinf=9.0))
    w = v + 1e-7
    _same(gk.isclose(gk.tensor(v), gk.tensor(w), equal_nan=True),
          torch.isclose(torch.tensor(v), torch.tensor(w), equal_nan=True))
    assert gk.allclose(gk.tensor(v[:1]), gk.tensor(w[:1])) is True
    assert gk.tensor(v).allclose(gk.tensor(w)) is False


def test_nan_to_num_values_and_gradient_match_torch():
    v = np.array([[1.5, np.nan, np.inf], [-np.inf, -0.5, 2.0]])
    check([], lambda a: torch.nan_to_num(a * 2, posinf=7.0),
          lambda a: gk.nan_to_num(a * 2, posinf=7.0), arrays=[v])
    check([], lambda a: a.nan_to_num(), arrays=[v.astype(F32)], dtype=F32)


def test_bitwise_on_float_names_the_dtype():
    with pytest.raises(TypeError, match="bitwise_and: bitwise ops take integer or bool"):
        gk.tensor([1.0]) & gk.tensor([1.0])


def test_bad_rounding_mode_is_value_and_runtime_error():
    with pytest.raises(RuntimeError, match="rounding_mode"):
        gk.div(gk.tensor([1.0]), 2, rounding_mode="ceil")
    with pytest.raises(ValueError):
        gk.div(gk.tensor([1.0]), 2, rounding_mode="ceil")


def test_rounding_ops_have_zero_gradient_like_torch():
    x = gk.tensor([1.5, -2.5], requires_grad=True)
    (x.floor() + x.round() + x.sign() + gk.div(x, 2.0, rounding_mode="floor")).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
