"""scatter_reduce against PyTorch 2.13: every reduce, include_self both ways, gradients."""

import numpy as np
import pytest
import torch
from oracle import check, random_inputs

import gradkit as gk
from gradkit.autograd.check import gradcheck

REDUCES = ["sum", "prod", "mean", "amax", "amin"]
RNG = np.random.default_rng(11)


def _call(lib, dim, reduce, include_self):
    return lambda a, i, s: getattr(lib, "scatter_reduce")(a, dim, i, s, reduce,
                                                          include_self=include_self)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("shape,dim,ishape,sshape", [
    ((4, 3), 0, (6, 3), (6, 3)), ((3, 5), -1, (3, 7), (3, 7)), ((2, 3, 4), 1, (2, 5, 2),
                                                               (2, 5, 2)),
    ((3, 4), 0, (0, 4), (0, 4)), ((), 0, (), ())])
def test_scatter_reduce_matches_pytorch(shape, dim, ishape, sshape, reduce, include_self,
                                        dtype):
    x, src = random_inputs([shape, sshape], dtype, low=0.5, high=2.0)
    idx = RNG.integers(0, shape[dim] if shape else 1, ishape).astype(np.int64)
    check(None, _call(torch, dim, reduce, include_self), _call(gk, dim, reduce, include_self),
          dtype=dtype, arrays=[x, idx, src])


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_with_zeros(include_self):
    x = np.array([[0.0, 2.0, 3.0], [1.5, 0.0, -1.0]])
    src = np.array([[0.0, 4.0, 0.0], [2.0, 0.0, 0.0], [0.5, 3.0, 2.0], [0.0, 1.0, 5.0]])
    idx = np.array([[0, 1, 0], [0, 1, 0], [1, 1, 1], [1, 0, 1]])
    check(None, _call(torch, 0, "prod", include_self), _call(gk, 0, "prod", include_self),
          arrays=[x, idx, src])


@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_ties_share_the_gradient(reduce):
    x = np.array([1.0, 2.0, 3.0])
    src = np.array([1.0, 1.0, 2.0, 0.5, 3.0])
    idx = np.array([0, 0, 1, 1, 2])
    for include_self in (True, False):
        check(None, _call(torch, 0, reduce, include_self),
              _call(gk, 0, reduce, include_self), arrays=[x, idx, src])


def test_scatter_reduce_integer_mean_rounds_down_and_transposed_input():
    a = gk.tensor([1, 2, 3]).scatter_reduce(0, gk.tensor([0, 0]), gk.tensor([2, 2]), "mean")
    assert a.tolist() == [1, 2, 3] and a.dtype == np.int64
    x, src = random_inputs([(3, 4), (3, 4)])
    check(None, lambda a, i, s: a.T.scatter_reduce(1, i, s, "mean"),
          arrays=[x, RNG.integers(0, 3, (4, 3)), src.T.copy()])


@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_reduce_gradcheck(reduce):
    x = gk.tensor(RNG.uniform(0.5, 2.0, (4, 3)), requires_grad=True)
    s = gk.tensor(RNG.uniform(0.5, 2.0, (5, 3)), requires_grad=True)
    i = gk.tensor(RNG.integers(0, 4, (5, 3)))
    for include_self in (True, False):
        assert gradcheck(lambda a, b: gk.scatter_reduce(a, 0, i, b, reduce,
                                                        include_self=include_self), (x, s))


def test_scatter_reduce_errors():
    x = gk.zeros(3, 4)
    with pytest.raises(RuntimeError, match="reduce argument"):
        x.scatter_reduce(0, gk.tensor([[0]]), gk.zeros(1, 1), "max_")
    with pytest.raises(RuntimeError, match="index 3 is out of bounds"):
        x.scatter_reduce(0, gk.tensor([[3]]), gk.zeros(1, 1), "sum")
    with pytest.raises(RuntimeError, match="equal to src.dtype"):
        x.scatter_reduce(0, gk.tensor([[0]]), gk.zeros(1, 1, dtype=gk.float64), "sum")
