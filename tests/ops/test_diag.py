"""Diagonals and triangles against PyTorch: diag, diagonal, diag_embed, tril, triu, trace:
values and gradients in float64 and float32, gradcheck, offsets past the edge, batched and
negative dims, transposed input, integer dtypes, bad arguments."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd.check import gradcheck
from oracle import check

F64, F32 = np.float64, np.float32

CASES = [
    ("diag_vector", [(4,)], lambda m, x: m.diag(x)),
    ("diag_vector_above", [(3,)], lambda m, x: m.diag(x, 2)),
    ("diag_vector_below", [(3,)], lambda m, x: m.diag(x, -1)),
    ("diag_matrix", [(3, 4)], lambda m, x: m.diag(x)),
    ("diag_matrix_above", [(3, 4)], lambda m, x: m.diag(x, 1)),
    ("diag_matrix_below", [(3, 4)], lambda m, x: m.diag(x, -2)),
    ("diag_matrix_past_edge", [(3, 4)], lambda m, x: m.diag(x, 5)),
    ("diag_empty", [(0,)], lambda m, x: m.diag(x, 1)),
    ("diagonal", [(3, 4)], lambda m, x: m.diagonal(x)),
    ("diagonal_offset", [(3, 4)], lambda m, x: m.diagonal(x, -1)),
    ("diagonal_batched", [(2, 3, 4)], lambda m, x: m.diagonal(x, 1, -1, 0)),
    ("diagonal_dims", [(2, 3, 4, 3)], lambda m, x: m.diagonal(x, 0, 1, 3)),
    ("diagonal_size1", [(1, 5)], lambda m, x: m.diagonal(x, 2)),
    ("diagonal_transposed", [(4, 3)], lambda m, x: m.diagonal(x.t(), 1)),
    ("diag_embed", [(2, 3)], lambda m, x: m.diag_embed(x)),
    ("diag_embed_offset", [(2, 3)], lambda m, x: m.diag_embed(x, 1)),
    ("diag_embed_dims", [(2, 3)], lambda m, x: m.diag_embed(x, -1, 0, 2)),
    ("diag_embed_1d", [(3,)], lambda m, x: m.diag_embed(x, 2, 1, 0)),
    ("tril", [(3, 4)], lambda m, x: m.tril(x)),
    ("tril_batched_offset", [(2, 4, 3)], lambda m, x: m.tril(x, 1)),
    ("triu", [(3, 4)], lambda m, x: m.triu(x)),
    ("triu_negative", [(2, 4, 3)], lambda m, x: m.triu(x, -1)),
    ("triu_transposed", [(4, 3)], lambda m, x: m.triu(x.t(), 1)),
    ("tril_empty", [(0, 3)], lambda m, x: m.tril(x)),
    ("trace", [(3, 4)], lambda m, x: m.trace(x)),
    ("trace_empty", [(0, 3)], lambda m, x: m.trace(x)),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shapes,fn", CASES, ids=[c[0] for c in CASES])
def test_functions_match_torch(name, shapes, fn, dtype):
    check(shapes, lambda x: fn(torch, x), lambda x: fn(gk, x), dtype=dtype)


@pytest.mark.parametrize("name,shapes,fn", CASES, ids=[c[0] for c in CASES])
def test_methods_match_torch(name, shapes, fn):
    method = name.split("_")[0]
    if method == "diag" and name.startswith("diag_embed"):
        method = "diag_embed"
    args = {"diag_vector_above": (2,), "diag_matrix_below": (-2,), "tril_batched_offset": (1,),
            "triu_negative": (-1,), "diagonal_batched": (1, -1, 0)}.get(name, ())
    check(shapes, lambda x: getattr(x, method)(*args))


@pytest.mark.parametrize("name,shapes,fn", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, shapes, fn):
    x = gk.tensor(np.random.default_rng(0).standard_normal(shapes[0]), requires_grad=True)
    assert gradcheck(lambda x: fn(gk, x), (x,))


def test_integer_inputs():
    a = np.arange(12).reshape(3, 4).astype(np.int32)
    for fn in (lambda m, x: m.diag(x), lambda m, x: m.tril(x), lambda m, x: m.triu(x, 1),
               lambda m, x: m.diagonal(x, 1), lambda m, x: m.trace(x),
               lambda m, x: m.diag_embed(x)):
        expected, out = fn(torch, torch.tensor(a)), fn(gk, gk.tensor(a))
        assert out.dtype == np.dtype(str(expected.dtype).replace("torch.", ""))
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_diagonal_is_a_writable_view_and_diag_a_copy():
    x = gk.zeros(3, 3)
    x.diagonal().numpy()[...] = 1.0
    np.testing.assert_array_equal(x.numpy(), np.eye(3))
    gk.diag(x).numpy()[...] = 7.0
    np.testing.assert_array_equal(x.numpy(), np.eye(3))


def test_diagonal_view_shares_the_version_counter():
    x = gk.zeros(3, 3, requires_grad=True) * 1.0
    d = x.diagonal()
    with pytest.raises(RuntimeError, match="view"):
        d.mul_(2.0)
    with gk.no_grad():
        d.add_(1.0)
    assert x._version == 1 and x.numpy().trace() == 3


BAD = [
    (lambda m: m.diag(m.zeros(2, 2, 2)), RuntimeError),
    (lambda m: m.diag(m.zeros(())), RuntimeError),
    (lambda m: m.diagonal(m.zeros(2, 3), 0, 1, 1), RuntimeError),
    (lambda m: m.diagonal(m.zeros(3), 0), IndexError),
    (lambda m: m.diag_embed(m.zeros(3), 0, 0, 0), RuntimeError),
    (lambda m: m.diag_embed(m.zeros(3), 0, 0, 2), IndexError),
    (lambda m: m.tril(m.zeros(3)), RuntimeError),
    (lambda m: m.triu(m.zeros(())), RuntimeError),
    (lambda m: m.trace(m.zeros(3)), RuntimeError),
    (lambda m: m.trace(m.zeros(2, 2, dtype=m.bool)), NotImplementedError),
]


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_arguments_raise_like_torch(case):
    fn, error = BAD[case]
    with pytest.raises(error):
        fn(torch)
    with pytest.raises(error):
        fn(gk)


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=2, max_size=4), offset=st.integers(-4, 4),
       data=st.data())
def test_hypothesis_shapes(shape, offset, data):
    ndim = len(shape)
    d1 = data.draw(st.integers(-ndim, ndim - 1))
    d2 = data.draw(st.integers(-ndim, ndim - 1).filter(lambda d: d % ndim != d1 % ndim))
    check([tuple(shape)], lambda x: x.diagonal(offset, d1, d2).diag_embed(offset, d1, d2)
          .tril(offset).triu(-offset - 1))
