"""The in-place gather/scatter methods against PyTorch: values, gradients through a non-leaf,
version counters, and the errors PyTorch raises."""

import numpy as np
import pytest
import torch
from oracle import check, random_inputs

import gradkit as gk

RNG = np.random.default_rng(5)
X = (4, 5)
IDX = np.array([3, 0, 3])                      # repeats: index_add_ adds both
UNIQUE = np.array([3, 0, 1])
SCATTER_IDX = np.array([[1, 0, 3, 2, 0], [2, 3, 0, 1, 1]])  # distinct along dim 0
MASK = RNG.random(X) > 0.5

# name, extra input shapes, call(y, extra tensors, T) with T a tensor constructor
CASES = [
    ("masked_fill_", [], lambda y, e, T: y.masked_fill_(T(MASK), -2.0)),
    ("masked_fill_ 0-d value", [()], lambda y, e, T: y.masked_fill_(T(MASK), e[0])),
    ("masked_fill_ row mask", [], lambda y, e, T: y.masked_fill_(T(MASK[0]), 1.5)),
    ("masked_scatter_", [(20,)], lambda y, e, T: y.masked_scatter_(T(MASK), e[0])),
    ("index_add_", [(4, 3)], lambda y, e, T: y.index_add_(1, T(IDX), e[0])),
    ("index_add_ alpha", [(3, 5)], lambda y, e, T: y.index_add_(0, T(IDX), e[0], alpha=-3.0)),
    ("index_copy_", [(3, 5)], lambda y, e, T: y.index_copy_(0, T(UNIQUE), e[0])),
    ("index_fill_", [], lambda y, e, T: y.index_fill_(1, T(IDX), 0.25)),
    ("index_fill_ 0-d value", [()], lambda y, e, T: y.index_fill_(-1, T(UNIQUE), e[0])),
    ("scatter_", [(2, 5)], lambda y, e, T: y.scatter_(0, T(SCATTER_IDX), e[0])),
    ("scatter_ value", [], lambda y, e, T: y.scatter_(0, T(SCATTER_IDX), 7.0)),
    ("scatter_add_", [(2, 5)], lambda y, e, T: y.scatter_add_(0, T(IDX[:2, None] *
                                                                  np.ones((1, 5), int)), e[0])),
    ("scatter_reduce_", [(2, 5)], lambda y, e, T: y.scatter_reduce_(
        0, T(SCATTER_IDX), e[0], "amax", include_self=False)),
]
IDS = [c[0] for c in CASES]


def _graph(call, T):
    def f(a, *extra):
        y = a * 1.0
        out = call(y, extra, T)
        assert out is y
        return y
    return f


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,shapes,call", CASES, ids=IDS)
def test_inplace_in_the_graph_matches_pytorch(name, shapes, call, dtype):
    check([X] + shapes, _graph(call, torch.tensor), _graph(call, gk.tensor), dtype=dtype)


@pytest.mark.parametrize("name,shapes,call", CASES, ids=IDS)
def test_inplace_outside_the_graph_changes_the_array_and_counts_it(name, shapes, call):
    arrays = random_inputs([X] + shapes)
    t = torch.tensor(arrays[0])
    g = gk.tensor(arrays[0])
    data = g.numpy()
    call(t, [torch.tensor(a) for a in arrays[1:]], torch.tensor)
    assert call(g, [gk.tensor(a) for a in arrays[1:]], gk.tensor) is g
    assert g.numpy() is data and g._version == 1
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-14, atol=1e-15)


def test_inplace_on_a_leaf_that_requires_grad_raises():
    x = gk.zeros(*X, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.masked_fill_(gk.tensor(MASK), 1.0)
    with gk.no_grad():
        x.index_fill_(0, gk.tensor([0]), 1.0)
    assert x.numpy()[0].tolist() == [1.0] * 5


def test_inplace_change_of_a_saved_tensor_is_caught_at_backward():
    a = gk.tensor(random_inputs([X])[0], requires_grad=True)
    y = a * 1.0
    z = (y * y).sum()
    y.index_fill_(0, gk.tensor([1]), 0.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_inplace_must_keep_the_shape():
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        torch.zeros(3, 1).masked_fill_(torch.ones(3, 4, dtype=torch.bool), 1.0)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        gk.zeros(3, 1).masked_fill_(gk.ones(3, 4, dtype=gk.bool_), 1.0)
    y = gk.zeros(3, 1, requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        y.masked_fill_(gk.ones(3, 4, dtype=gk.bool_), 1.0)


def test_inplace_of_a_transposed_tensor():
    x = random_inputs([X])[0]
    t, g = torch.tensor(x).T, gk.tensor(x).T
    t.index_add_(0, torch.tensor(IDX), torch.ones(3, 4, dtype=torch.float64))
    g.index_add_(0, gk.tensor(IDX), gk.ones(3, 4, dtype=gk.float64))
    np.testing.assert_array_equal(g.numpy(), t.numpy())
