"""gk.linalg.vector_norm, matrix_norm, norm and gk.norm / Tensor.norm against PyTorch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from oracle import check

import gradkit as gk
from gradkit.autograd.check import gradcheck

INF = float("inf")
DTYPES = [np.float64, np.float32]
ORDS = [2, 1, INF, -INF, 0, 3, 0.5, -1, 1.5]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ord", ORDS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (-1, True), ((0, 2), False),
                                         ((2, 0), True), ((), False)])
def test_vector_norm_matches_pytorch(ord, dim, keepdim, dtype):
    check([(2, 3, 4)], lambda a: torch.linalg.vector_norm(a, ord, dim, keepdim),
          lambda a: gk.linalg.vector_norm(a, ord, dim, keepdim), dtype=dtype)
    if dim == ():
        check([(2, 3)], lambda a: torch.linalg.vector_norm(a, ord, [], keepdim),
              lambda a: gk.linalg.vector_norm(a, ord, [], keepdim), dtype=dtype)


@pytest.mark.parametrize("ord", ORDS)
def test_vector_norm_gradcheck_and_transposed_input(ord):
    x = gk.tensor(np.random.default_rng(7).uniform(0.3, 2.0, (3, 4)) * [1, -1, 1, -1],
                  requires_grad=True)
    if ord != 0:
        assert gradcheck(lambda t: gk.linalg.vector_norm(t.T, ord, dim=1), (x,))
    check([(4, 3)], lambda a: torch.linalg.vector_norm(a.T, ord, dim=0),
          lambda a: gk.linalg.vector_norm(a.T, ord, dim=0))


@pytest.mark.parametrize("ord", ORDS)
def test_vector_norm_gradient_at_zero_and_with_ties(ord):
    a = np.array([[0.0, 0.0, 0.0], [2.0, -2.0, 1.0], [0.0, 3.0, -1.0]])
    check(None, lambda x: torch.linalg.vector_norm(x, ord, dim=1),
          lambda x: gk.linalg.vector_norm(x, ord, dim=1), arrays=[a])
    check(None, lambda x: torch.linalg.vector_norm(x, ord, dim=1),
          lambda x: gk.linalg.vector_norm(x, ord, dim=1), arrays=[a.astype(np.float32)],
          dtype=np.float32)


@pytest.mark.parametrize("ord", ORDS)
@pytest.mark.parametrize("shape,dim", [((0, 3), None), ((0, 3), 1), ((0, 3), 0), ((1, 3), 0),
                                       ((), None), ((), 0)])
def test_vector_norm_of_empty_and_size_one_dims(ord, shape, dim):
    try:
        expected = torch.linalg.vector_norm(torch.zeros(shape), ord, dim)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="vector_norm"):
            gk.linalg.vector_norm(gk.zeros(shape), ord, dim)
        return
    assert expected is not None
    check([shape], lambda a: torch.linalg.vector_norm(a, ord, dim),
          lambda a: gk.linalg.vector_norm(a, ord, dim))


def test_vector_norm_dtype_and_bad_input():
    x32 = np.random.default_rng(8).standard_normal((3, 4)).astype(np.float32)
    check(None, lambda a: torch.linalg.vector_norm(a, 3, 1, dtype=torch.float64).float(),
          lambda a: gk.linalg.vector_norm(a, 3, 1, dtype=gk.float64).float(),
          arrays=[x32], dtype=np.float32)
    for bad in [lambda lib: lib.linalg.vector_norm(lib.tensor([1, 2])),
                lambda lib: lib.linalg.vector_norm(lib.ones(2), 2, dtype=lib.int64),
                lambda lib: lib.linalg.vector_norm(lib.ones(2, dtype=lib.float64), 2,
                                                   dtype=lib.float32),
                lambda lib: lib.linalg.vector_norm(lib.ones(2, 3), 2, (0, 0)),
                lambda lib: lib.linalg.vector_norm(lib.ones(2, 3), 2, 2)]:
        with pytest.raises((RuntimeError, IndexError)) as expected:
            bad(torch)
        with pytest.raises(expected.type):
            bad(gk)
    with pytest.raises(TypeError):
        gk.linalg.vector_norm(gk.ones(2), "fro")
    for ord in (np.float64(3.0), np.inf, np.int64(1)):
        assert gk.linalg.vector_norm(gk.ones(2, 3), ord, 1).dtype == np.float32


MATRIX_ORDS = ["fro", "nuc", 1, -1, INF, -INF, 2, -2]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 1), False)])
def test_matrix_norm_matches_pytorch(ord, dim, keepdim, dtype):
    check([(3, 4, 5)], lambda a: torch.linalg.matrix_norm(a, ord, dim, keepdim),
          lambda a: gk.linalg.matrix_norm(a, ord, dim, keepdim), dtype=dtype)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_gradcheck_ties_and_transposed(ord):
    x = gk.tensor(np.random.default_rng(9).standard_normal((2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda t: gk.linalg.matrix_norm(t, ord), (x,))
    check([(4, 3)], lambda a: torch.linalg.matrix_norm(a.T, ord),
          lambda a: gk.linalg.matrix_norm(a.T, ord))
    if ord not in ("nuc", 2, -2):  # singular values of a tie matrix are not differentiable
        ties = np.array([[1.0, -2.0, 0.0], [-1.0, 2.0, 3.0], [2.0, 0.0, 0.0]])
        check(None, lambda a: torch.linalg.matrix_norm(a, ord),
              lambda a: gk.linalg.matrix_norm(a, ord), arrays=[ties])


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_of_empty_matrices_and_bad_input(ord):
    for shape in [(0, 3), (3, 0), (2, 0, 3)]:
        try:
            torch.linalg.matrix_norm(torch.zeros(shape), ord)
        except IndexError:  # a min over no elements (ord -1, -inf, -2)
            with pytest.raises(IndexError, match="matrix_norm"):
                gk.linalg.matrix_norm(gk.zeros(shape), ord)
            continue
        check([shape], lambda a: torch.linalg.matrix_norm(a, ord),
              lambda a: gk.linalg.matrix_norm(a, ord))
    for bad in [lambda lib: lib.linalg.matrix_norm(lib.ones(3), ord),
                lambda lib: lib.linalg.matrix_norm(lib.ones(2, 2), ord, (0, 0)),
                lambda lib: lib.linalg.matrix_norm(lib.ones(2, 2), 3),
                lambda lib: lib.linalg.matrix_norm(lib.ones(2, 2), "foo"),
                lambda lib: lib.linalg.matrix_norm(lib.tensor([[1, 2], [3, 4]]), ord)]:
        with pytest.raises(RuntimeError) as expected:
            bad(torch)
        with pytest.raises(expected.type, match="matrix_norm"):
            bad(gk)


@pytest.mark.parametrize("shape,ord,dim", [
    ((3, 4), None, None), ((2, 3, 4), None, None), ((5,), 3, None), ((3, 4), 1, None),
    ((3, 4), "fro", None), ((3, 4), "nuc", None), ((3, 4), INF, None), ((2, 3, 4), None, 1),
    ((2, 3, 4), 2, (0, 1)), ((2, 3, 4), None, (0, 1)), ((2, 3, 4), -1, (2, 0)),
    ((2, 3, 4), 0.5, -1), ((), None, None), ((3, 4), 2, None)])
def test_linalg_norm_matches_pytorch(shape, ord, dim):
    check([shape], lambda a: torch.linalg.norm(a, ord, dim), lambda a: gk.linalg.norm(a, ord, dim))
    check([shape], lambda a: torch.linalg.norm(a, ord, dim, keepdim=True),
          lambda a: gk.linalg.norm(a, ord, dim, keepdim=True), dtype=np.float32)


def test_linalg_norm_bad_arguments_raise_as_pytorch():
    for bad in [lambda lib: lib.linalg.norm(lib.ones(2, 2, 2), 1),
                lambda lib: lib.linalg.norm(lib.ones(2, 2, 2), 2, (0, 1, 2)),
                lambda lib: lib.linalg.norm(lib.ones(3), "fro"),
                lambda lib: lib.linalg.norm(lib.tensor(3.0), 2)]:
        with pytest.raises(RuntimeError) as expected:
            bad(torch)
        with pytest.raises(expected.type, match="norm"):
            bad(gk)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", ["fro", 2, 1, INF, -INF, 3])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (-1, True), ((0, 1), False),
                                         ((0, 2), True)])
def test_torch_norm_and_tensor_norm_match_pytorch(p, dim, keepdim, dtype):
    check([(2, 3, 4)], lambda a: torch.norm(a, p, dim, keepdim),
          lambda a: gk.norm(a, p, dim, keepdim), dtype=dtype)
    check([(2, 3, 4)], lambda a: a.transpose(0, 2).norm(p, dim, keepdim), dtype=dtype)


def test_torch_norm_nuc_dtype_and_integer_input():
    check([(3, 4)], lambda a: torch.norm(a, "nuc"), lambda a: gk.norm(a, "nuc"))
    x32 = np.random.default_rng(10).standard_normal((3, 4)).astype(np.float32)
    check(None, lambda a: torch.norm(a, 2, 1, dtype=torch.float64).float(),
          lambda a: gk.norm(a, 2, 1, dtype=gk.float64).float(), arrays=[x32], dtype=np.float32)
    with pytest.raises(RuntimeError):
        torch.norm(torch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="floating point"):
        gk.norm(gk.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="matrix_norm"):
        gk.norm(gk.ones(2, 2, 2), "fro", (0, 1, 2))


def test_norm_of_a_zero_vector_has_zero_gradient():
    for fn in (lambda lib, t: lib.linalg.vector_norm(t), lambda lib, t: lib.norm(t),
               lambda lib, t: lib.linalg.norm(t), lambda lib, t: lib.linalg.matrix_norm(t)):
        g, t = gk.zeros(2, 3, requires_grad=True), torch.zeros(2, 3, requires_grad=True)
        fn(gk, g).backward()
        fn(torch, t).backward()
        assert g.grad.tolist() == t.grad.tolist() == [[0.0] * 3] * 2


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_vector_norm_on_drawn_shapes(shape, data):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                              unique_by=lambda d: d % ndim))
    ord = data.draw(st.sampled_from(ORDS))
    keepdim = data.draw(st.booleans())
    check([tuple(shape)], lambda a: torch.linalg.vector_norm(a, ord, tuple(dims), keepdim),
          lambda a: gk.linalg.vector_norm(a, ord, tuple(dims), keepdim))


def test_linalg_cross_is_along_the_last_dim():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 4, 3))
    check([], lambda x, y: torch.linalg.cross(x, y), lambda x, y: gk.linalg.cross(x, y),
          arrays=[a, b])
