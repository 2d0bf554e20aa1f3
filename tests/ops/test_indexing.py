"""PyTorch's indexing rule against torch 2.13: getitem, setitem (index_put) and gradients.

NumPy counts an integer as an advanced index; PyTorch selects with it first. So where an
integer and an index tensor are separated by a slice, None or Ellipsis, the two put the
broadcast dims in different places: ``x[1, :, 3:11:2, d, 0:2]`` is (6, 4, 4, 2) in PyTorch,
(4, 6, 4, 2) in NumPy. Each row of the table is run in both frameworks and compared.
"""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from oracle import check

import gradkit as gk
from gradkit.autograd.check import gradcheck

SHAPE = (5, 6, 12, 7, 3)
D = np.array([0, 2, 1, 2])  # repeats: their gradients must add up


def _m(shape, k):
    return np.arange(int(np.prod(shape))).reshape(shape) % k == 0


# (name, index builder): T(a) makes a tensor in the framework under test
TABLE = [
    ("int, slices, tensor (torch keeps d in place)", lambda T: (1, slice(None), slice(3, 11, 2),
                                                              T(D), slice(0, 2))),
    ("d, :, d", lambda T: (T(D), slice(None), T(D))),
    (":, d, :, d", lambda T: (slice(None), T(D), slice(None), T(D))),
    ("[0, 1], ..., [1, 2]", lambda T: ([0, 1], Ellipsis, [1, 2])),
    (":, 1, :, d", lambda T: (slice(None), 1, slice(None), T(D))),
    (":, d, ..., 1", lambda T: (slice(None), T(D), Ellipsis, 1)),
    ("-1, :, d", lambda T: (-1, slice(None), T(D))),
    ("1, None, d", lambda T: (1, None, T(D))),
    ("None, 1, :, d", lambda T: (None, 1, slice(None), T(D))),
    (":, 2-d tensor, 1, :, 0", lambda T: (slice(None), T(np.array([[0, 1], [2, 3]])), 1,
                                           slice(None), 0)),
    ("0, :, d, 1, d", lambda T: (0, slice(None), T(D), 1, T(D))),
    (":, d, 1 (adjacent)", lambda T: (slice(None), T(D), 1)),
    ("1, d (adjacent)", lambda T: (1, T(D))),
    ("d, 1, d", lambda T: (T(D), 1, T(D))),
    (":, d, 1, d", lambda T: (slice(None), T(D), 1, T(D))),
    ("d, :, 1, d", lambda T: (T(D), slice(None), 1, T(D))),
    ("...,1, d", lambda T: (Ellipsis, 1, T(D))),
    ("0-d tensor, :, d", lambda T: (slice(None), T(np.array(2)), slice(None), T(D))),
    ("0-d tensor alone", lambda T: T(np.array(1))),
    (":, 0-d, d", lambda T: (slice(None), T(np.array(1)), T(D))),
    ("0-d, :, 0-d", lambda T: (T(np.array(1)), slice(None), T(np.array(2)))),
    ("1, :, bool mask", lambda T: (1, slice(None), T(np.arange(12) % 3 == 0))),
    (":, 2-d mask, 1", lambda T: (slice(None), T(_m((6, 12), 7)), 1)),
    ("2-d mask, 0, :, 1", lambda T: (T(_m((5, 6), 4)), 0, slice(None), 1)),
    ("True", lambda T: True),
    (":, True, d", lambda T: (slice(None), True, T(D))),
    ("1, :, True, d", lambda T: (1, slice(None), True, T(D))),
    ("1, True", lambda T: (1, True)),
    (":, 0-d bool, d", lambda T: (slice(None), T(np.array(True)), T(D))),
    ("d, ...", lambda T: (T(D), Ellipsis)),
    ("empty index, :, 1", lambda T: (T(np.zeros(0, np.int64)), slice(None), 1)),
    (":, empty, 1, empty", lambda T: (slice(None), T(np.zeros(0, np.int64)), 1,
                                      T(np.zeros(0, np.int64)))),
    ("empty list", lambda T: []),
    ("list [1], :, d", lambda T: ([1], slice(None), T(D))),
    ("slices only", lambda T: (slice(1, None, 2), Ellipsis, slice(None, 2))),
    ("int only", lambda T: (2, -1)),
    ("int32 tensor, :, 1", lambda T: (T(D.astype(np.int32)), slice(None), 1)),
]
IDS = [name for name, _ in TABLE]


def _torch_index(build):
    return build(torch.tensor)


def _gk_index(build):
    return build(gk.tensor)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,build", TABLE, ids=IDS)
def test_getitem_matches_pytorch(name, build, dtype):
    check([SHAPE], lambda a: a[_torch_index(build)], lambda a: a[_gk_index(build)], dtype=dtype)


@pytest.mark.parametrize("name,build", TABLE, ids=IDS)
def test_getitem_of_a_transposed_tensor(name, build):
    rev = SHAPE[::-1]
    check([rev], lambda a: a.permute(4, 3, 2, 1, 0)[_torch_index(build)],
          lambda a: a.permute(4, 3, 2, 1, 0)[_gk_index(build)])


def _target_shape(build):
    return tuple(torch.zeros(SHAPE)[_torch_index(build)].shape)


def _repeats(build):
    """Whether the row uses D, whose repeated entries write one element twice (no defined
    winner in a setitem)."""
    used = []
    build(lambda a: used.append(a is D) or np.asarray(a))
    return any(used)


SET_TABLE = [(n, b) for n, b in TABLE if not _repeats(b)] + [
    ("int, slices, unique tensor", lambda T: (1, slice(None), slice(3, 11, 2),
                                              T(np.array([4, 0, 2])), slice(0, 2))),
    (":, 1, :, unique tensor", lambda T: (slice(None), 1, slice(None), T(np.array([3, 1])))),
    ("None, 1, :, unique", lambda T: (None, 1, slice(None), T(np.array([5, 0])))),
    ("d, :, 1, d unique", lambda T: (T(np.array([0, 4])), slice(None), 1, T(np.array([6, 2])))),
]
SET_IDS = [n for n, _ in SET_TABLE]


def _setitem(index, build):
    def f(a, v):
        y = a * 1.0
        y[index(build)] = v
        return y
    return f


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,build", SET_TABLE, ids=SET_IDS)
def test_setitem_in_the_graph_matches_pytorch(name, build, dtype):
    check([SHAPE, _target_shape(build)], _setitem(_torch_index, build),
          _setitem(_gk_index, build), dtype=dtype)


@pytest.mark.parametrize("name,build", SET_TABLE, ids=SET_IDS)
def test_setitem_of_a_broadcast_value(name, build):
    tail = _target_shape(build)[-1:]
    check([SHAPE, tail], _setitem(_torch_index, build), _setitem(_gk_index, build))


@pytest.mark.parametrize("name,build", SET_TABLE, ids=SET_IDS)
def test_index_put_matches_pytorch(name, build):
    check([SHAPE, _target_shape(build)], _setitem(_torch_index, build),
          lambda a, v: gk.ops.index_put(a, _gk_index(build), v))


@pytest.mark.parametrize("name,build", SET_TABLE, ids=SET_IDS)
def test_setitem_outside_the_graph_matches_pytorch(name, build):
    x = np.random.default_rng(0).standard_normal(SHAPE)
    v = np.random.default_rng(1).standard_normal(_target_shape(build))
    t, g = torch.tensor(x), gk.tensor(x)
    t[_torch_index(build)] = torch.tensor(v)
    g[_gk_index(build)] = gk.tensor(v)
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_getitem_gradcheck_with_repeats_and_the_torch_rule():
    x = gk.tensor(np.random.default_rng(2).standard_normal((3, 4, 5)), requires_grad=True)
    d = gk.tensor([2, 0, 2])
    assert gradcheck(lambda t: t[1, :, d] * t[:, 1, d].sum(0), (x,))
    assert gradcheck(lambda t: t[gk.tensor(1), :, d], (x,))


def test_setitem_gradcheck_with_the_torch_rule():
    x = gk.tensor(np.random.default_rng(2).standard_normal((3, 4, 5)), requires_grad=True)
    v = gk.tensor(np.random.default_rng(3).standard_normal((4, 2)), requires_grad=True)

    index = (1, slice(None), gk.tensor([3, 0]))
    assert gradcheck(lambda a, b: gk.ops.index_put(a * 2.0, index, b * b), (x, v))


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_an_int_and_a_tensor_anywhere(data):
    shape = (3, 4, 5, 2)
    i, j = data.draw(st.permutations(range(4)))[:2]
    n = data.draw(st.integers(0, 3))
    picks = data.draw(st.lists(st.integers(-shape[j], shape[j] - 1), min_size=n, max_size=n))
    k = data.draw(st.integers(-shape[i], shape[i] - 1))

    def index(T):
        parts = [slice(None)] * 4
        parts[i], parts[j] = k, T(np.array(picks, np.int64))
        return tuple(parts)

    check([shape], lambda a: a[index(torch.tensor)], lambda a: a[index(gk.tensor)])


def test_a_negative_step_is_refused_as_in_pytorch():
    x = gk.zeros(4, 3)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        torch.zeros(4, 3)[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[:, 2:0:-1] = 1.0


@pytest.mark.parametrize("build", [lambda T: (5,), lambda T: (slice(None), T([0, 3])),
                                   lambda T: (0, slice(None), T([-4]))])
def test_an_index_out_of_range_raises_index_error(build):
    with pytest.raises(IndexError):
        torch.zeros(4, 3)[build(torch.tensor)]
    with pytest.raises(IndexError):
        gk.zeros(4, 3)[build(gk.tensor)]


def test_a_list_of_sequences_is_read_as_a_tuple_with_pytorch_warning():
    x = np.arange(24.0).reshape(4, 6)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        expected = torch.tensor(x)[[[0, 1], [1, 2]]]
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        got = gk.tensor(x)[[[0, 1], [1, 2]]]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gk.tensor(x)[[0, 2]].shape == (2, 6)  # a flat list of ints is one index


def test_a_uint8_index_is_a_mask_with_pytorch_warning():
    x = np.arange(24.0).reshape(4, 6)
    m = np.array([1, 0, 1, 1], np.uint8)
    with pytest.warns(UserWarning, match="uint8"):
        expected = torch.tensor(x)[torch.tensor(m)]
    with pytest.warns(UserWarning, match="uint8"):
        got = gk.tensor(x)[gk.tensor(m)]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_a_python_int_and_a_0d_tensor_index_alike():
    x = gk.tensor(np.arange(60.0).reshape(3, 4, 5))
    d = gk.tensor([1, 3])
    for k in (2, gk.tensor(2), np.int64(2)):
        assert x[:, k, :, ].shape == (3, 5)
        assert x[k, :, d].shape == (4, 2)
        np.testing.assert_array_equal(x[k, :, d].numpy(), x[2][:, d].numpy())
