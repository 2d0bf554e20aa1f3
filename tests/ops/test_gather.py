"""gather / scatter / index / masked ops against PyTorch 2.13: values, dtypes, gradients, errors.

Index inputs are passed to the oracle as int64 arrays (constants in both frameworks); the
float inputs get compared gradients. Scatter indices that write one place twice are used only
where the result is defined (scatter_add, index_add, scatter_reduce; not scatter/index_copy).
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from oracle import check, random_inputs

import gradkit as gk
from gradkit.autograd.check import gradcheck

RNG = np.random.default_rng(7)


def ints(low, high, shape):
    return RNG.integers(low, high, size=shape).astype(np.int64)


def unique_along(dim, size, shape):
    """An index of ``shape`` whose entries along dim are distinct (a defined scatter)."""
    keys = RNG.random(shape[:dim] + (size,) + shape[dim + 1:])
    return np.argsort(keys, axis=dim).take(range(shape[dim]), axis=dim).astype(np.int64)


def both(name, *args, **kw):
    """(torch fn, gradkit fn) calling the function ``name`` with the tensors first."""
    def call(lib):
        return lambda *t: getattr(lib, name)(*t[:1], *args, *t[1:], **kw)
    return call(torch), call(gk)


# ----- gather -----

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim,ishape", [
    ((4, 5), 0, (6, 5)), ((4, 5), 1, (4, 3)), ((4, 5), -1, (2, 7)), ((2, 3, 4), 1, (2, 5, 3)),
    ((3, 4), 0, (0, 4)), ((3, 4), 1, (3, 0)), ((1, 4), 0, (1, 4)), ((5,), 0, (9,))])
def test_gather_matches_pytorch(shape, dim, ishape, dtype):
    x = random_inputs([shape], dtype)[0]
    idx = ints(0, shape[dim], ishape)
    check(None, lambda a, i: torch.gather(a, dim, i), lambda a, i: gk.gather(a, dim, i),
          dtype=dtype, arrays=[x, idx])


def test_gather_of_a_transposed_tensor_and_method_form():
    x, idx = random_inputs([(5, 4)])[0], ints(0, 5, (4, 3))
    check(None, lambda a, i: a.T.gather(1, i), arrays=[x, idx])


def test_gather_0d_and_int32_index():
    check(None, lambda a, i: torch.gather(a, 0, i), lambda a, i: gk.gather(a, 0, i),
          arrays=[np.array(1.5), np.array(0)])
    x = gk.tensor([[1., 2.], [3., 4.]])
    assert gk.gather(x, 1, gk.tensor([[1], [0]], dtype=np.int32)).tolist() == [[2.], [3.]]


def test_gather_gradcheck_with_repeats():
    x = gk.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    i = gk.tensor([[0, 0, 2], [1, 1, 1]])
    assert gradcheck(lambda t: gk.gather(t, 0, i.T[:3]) ** 2, (x,))


@pytest.mark.parametrize("index,error,match", [
    ([[-1, 0]], RuntimeError, "index -1 is out of bounds for dimension 0 with size 3"),
    ([[3, 0]], IndexError, "index 3 is out of bounds"),
    ([0], ValueError, "same number of dimensions"),
    (np.zeros((2, 5), np.int64), RuntimeError, "no larger than self"),
])
def test_gather_errors(index, error, match):
    x = gk.zeros(3, 4)
    with pytest.raises(RuntimeError):
        torch.gather(torch.zeros(3, 4), 0, torch.tensor(np.asarray(index)))
    with pytest.raises(error, match=match):
        gk.gather(x, 0, gk.tensor(np.asarray(index)))


def test_index_dtype_and_dim_errors():
    x = gk.zeros(3, 4)
    with pytest.raises(RuntimeError, match="gather: expected dtype int64 or int32"):
        gk.gather(x, 0, gk.tensor([[0.0]]))
    with pytest.raises(IndexError, match="dimension out of range"):
        gk.gather(x, 2, gk.tensor([[0]]))
    for fn in (lambda i: gk.take(x, i), lambda i: gk.index_copy(x, 0, i, gk.zeros(1, 4)),
               lambda i: gk.index_fill(x, 0, i, 1.0),
               lambda i: gk.take_along_dim(x, i.reshape(1, 1), 1)):
        with pytest.raises(RuntimeError, match="expected dtype int64 for index"):
            fn(gk.tensor([0], dtype=np.int32))


# ----- scatter, scatter_add -----

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim,ishape,sshape", [
    ((4, 5), 0, (3, 5), (3, 5)), ((4, 5), 1, (4, 2), (5, 6)), ((2, 3, 4), -2, (2, 2, 3),
                                                             (2, 2, 4)),
    ((3, 4), 0, (0, 4), (1, 4)), ((5,), 0, (5,), (7,))])
def test_scatter_matches_pytorch(shape, dim, ishape, sshape, dtype):
    x, src = random_inputs([shape, sshape], dtype)
    idx = unique_along(dim % len(shape), shape[dim], ishape)
    check(None, lambda a, i, s: torch.scatter(a, dim, i, s),
          lambda a, i, s: gk.scatter(a, dim, i, s), dtype=dtype, arrays=[x, idx, src],
          grad=ishape == sshape)  # PyTorch's backward fails for a src larger than index
    check(None, lambda a, i: a.scatter(dim, i, 2.5), dtype=dtype, arrays=[x, idx])
    check(None, lambda a, i: a.scatter(dim, i, value=-1.0), dtype=dtype, arrays=[x, idx])


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_legacy_reduce_forward(reduce):
    x, src = random_inputs([(4, 3), (5, 3)])
    idx = ints(0, 4, (5, 3))
    with pytest.warns(UserWarning):
        check(None, lambda a, i, s: a.scatter(0, i, s, reduce=reduce), arrays=[x, idx, src],
              grad=False)
    check(None, lambda a, i: a.scatter(0, i, 1.5, reduce=reduce), arrays=[x, idx], grad=False)
    y = gk.tensor(x, requires_grad=True)
    with pytest.warns(UserWarning, match="reduce argument of torch.scatter"):
        out = gk.scatter(y, 0, gk.tensor(idx), gk.tensor(src), reduce=reduce)
    if reduce == "multiply":  # PyTorch has no derivative for either; gradkit has for "add"
        with pytest.raises(NotImplementedError, match="derivative"):
            out.sum().backward()
    else:
        out.sum().backward()
        np.testing.assert_array_equal(y.grad.numpy(), np.ones_like(x))
    with pytest.raises(RuntimeError, match="reduce argument"):
        gk.scatter(gk.tensor(x), 0, gk.tensor(idx), gk.tensor(src), reduce="sum")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim,ishape,sshape", [
    ((4, 5), 0, (7, 5), (7, 5)), ((4, 5), 1, (4, 9), (5, 9)), ((2, 3, 4), -1, (2, 3, 6),
                                                             (2, 3, 6)),
    ((3, 4), 0, (0, 4), (0, 4)), ((), 0, (), ())])
def test_scatter_add_matches_pytorch(shape, dim, ishape, sshape, dtype):
    x, src = random_inputs([shape, sshape], dtype)
    idx = ints(0, shape[dim] if shape else 1, ishape)
    check(None, lambda a, i, s: torch.scatter_add(a, dim, i, s),
          lambda a, i, s: gk.scatter_add(a, dim, i, s), dtype=dtype, arrays=[x, idx, src],
          grad=ishape == sshape)  # PyTorch's backward fails for a src larger than index


def test_scatter_into_a_larger_src_gives_its_leading_block_the_gradient():
    x = gk.tensor(RNG.standard_normal((4, 5)), requires_grad=True)
    s = gk.tensor(RNG.standard_normal((5, 6)), requires_grad=True)
    i, j = gk.tensor(unique_along(1, 5, (4, 2))), gk.tensor(ints(0, 5, (4, 3)))
    assert gradcheck(lambda a, b: gk.scatter(a, 1, i, b) ** 2, (x, s))
    assert gradcheck(lambda a, b: gk.scatter_add(a, 1, j, b) ** 2, (x, s))


def test_scatter_gradcheck():
    x = gk.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    s = gk.tensor(RNG.standard_normal((3, 3)), requires_grad=True)
    i = gk.tensor(unique_along(0, 4, (2, 3)))
    j = gk.tensor(ints(0, 4, (3, 3)))
    assert gradcheck(lambda a, b: gk.scatter(a, 0, i, b) ** 2, (x, s))
    assert gradcheck(lambda a, b: gk.scatter_add(a, 0, j, b) ** 2, (x, s))


def test_scatter_errors():
    x = gk.zeros(3, 4)
    with pytest.raises(RuntimeError, match="index 3 is out of bounds"):
        x.scatter(0, gk.tensor([[3, 0]]), 1.0)
    with pytest.raises(RuntimeError, match="equal to src.dtype"):
        x.scatter(0, gk.tensor([[0]]), gk.zeros(1, 1, dtype=gk.float64))
    with pytest.raises(RuntimeError, match="no larger size than src"):
        x.scatter(0, gk.tensor([[0, 1], [1, 0]]), gk.zeros(1, 1))


# ----- index_select, index_add, index_copy, index_fill -----

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim,n", [((4, 5), 0, 6), ((4, 5), -1, 3), ((2, 3, 4), 1, 0),
                                         ((5,), 0, 5)])
def test_index_select_matches_pytorch(shape, dim, n, dtype):
    x = random_inputs([shape], dtype)[0]
    idx = ints(0, shape[dim], (n,))
    check(None, lambda a, i: torch.index_select(a, dim, i),
          lambda a, i: gk.index_select(a, dim, i), dtype=dtype, arrays=[x, idx])


def test_index_select_0d_index_int32_transposed_and_errors():
    x = random_inputs([(4, 3)])[0]
    check(None, lambda a, i: a.index_select(0, i), arrays=[x, np.array(2)])
    check(None, lambda a, i: a.T.index_select(1, i), arrays=[x, np.array([3, 0, 3])])
    g = gk.tensor(x)
    assert g.index_select(0, gk.tensor([1], dtype=np.int32)).shape == (1, 3)
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        g.index_select(0, gk.tensor([-1]))
    with pytest.raises(IndexError, match="vector"):
        g.index_select(0, gk.tensor([[0]]))
    assert gradcheck(lambda t: t.index_select(1, gk.tensor([2, 2, 0])),
                     (gk.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("alpha", [1, -2.5])
def test_index_add_matches_pytorch(dtype, alpha):
    x, src = random_inputs([(4, 5, 3), (4, 7, 3)], dtype)
    idx = ints(0, 5, (7,))
    check(None, lambda a, i, s: torch.index_add(a, 1, i, s, alpha=alpha),
          lambda a, i, s: gk.index_add(a, 1, i, s, alpha=alpha), dtype=dtype,
          arrays=[x, idx, src])
    check(None, lambda a, i, s: a.index_add(-2, i, s, alpha=alpha), dtype=dtype,
          arrays=[x, idx[:0], src[:, :0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_index_copy_and_index_fill_match_pytorch(dtype):
    x, src = random_inputs([(4, 5), (4, 3)], dtype)
    idx = np.array([4, 0, 2])
    check(None, lambda a, i, s: a.index_copy(1, i, s), dtype=dtype, arrays=[x, idx, src])
    check(None, lambda a, i: a.index_fill(1, i, 0.5), dtype=dtype, arrays=[x, idx])
    rep = np.array([4, 1, 0, 0])  # repeated indices: the value's gradient counts each once
    check(None, lambda a, i, v: a.index_fill(0, i % 4, v), dtype=dtype,
          arrays=[x, rep, np.array(3.0, dtype)])
    check(None, lambda a, i, v: a.index_fill(1, i, v), dtype=dtype,
          arrays=[x, rep, np.array(3.0, dtype)])
    # a negative index counts from the end (PyTorch's backward fails on it: forward only)
    check(None, lambda a, i: a.index_fill(1, i, 2.0), dtype=dtype,
          arrays=[x, np.array([-1, -5])], grad=False)


def test_index_ops_gradcheck_and_errors():
    x = gk.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    s = gk.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    v = gk.tensor(0.7, dtype=gk.float64, requires_grad=True)
    i = gk.tensor([3, 1])
    assert gradcheck(lambda a, b: gk.index_add(a, 0, gk.tensor([1, 1]), b, alpha=2.0), (x, s))
    assert gradcheck(lambda a, b: gk.index_copy(a, 0, i, b) ** 2, (x, s))
    assert gradcheck(lambda a, b: gk.index_fill(a, 0, i, b) ** 2, (x, v))
    with pytest.raises(RuntimeError, match="source tensor shape must match"):
        gk.index_add(x, 0, i, gk.zeros(2, 2, dtype=gk.float64))
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        gk.index_copy(x, 0, gk.tensor([-1]), gk.zeros(1, 3, dtype=gk.float64))
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        gk.index_fill(x, 0, i, gk.tensor([1.0], dtype=gk.float64))


# ----- masked ops -----

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xshape,mshape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (3, 4)),
                                           ((0, 4), (0, 4)), ((), ())])
def test_masked_ops_match_pytorch(xshape, mshape, dtype):
    x, src = random_inputs([xshape, (20,)], dtype)
    m = RNG.random(mshape) > 0.5
    check(None, lambda a, k: a.masked_fill(k, -1.5), dtype=dtype, arrays=[x, m])
    check(None, lambda a, k, v: torch.masked_fill(a, k, v), lambda a, k, v: gk.masked_fill(
        a, k, v), dtype=dtype, arrays=[x, m, np.array(2.0, dtype)])
    check(None, lambda a, k: torch.masked_select(a, k), lambda a, k: gk.masked_select(a, k),
          dtype=dtype, arrays=[x, m])
    check(None, lambda a, k, s: a.masked_scatter(k, s), dtype=dtype, arrays=[x, m, src])


def test_masked_ops_transposed_gradcheck_and_errors():
    x = random_inputs([(4, 3)])[0]
    m = RNG.random((3, 4)) > 0.4
    check(None, lambda a, k: a.T.masked_fill(k, 0.0), arrays=[x, m])
    check(None, lambda a, k: a.T.masked_select(k), arrays=[x, m])
    t = gk.tensor(x, requires_grad=True)
    s = gk.tensor(RNG.standard_normal(12), requires_grad=True)
    v = gk.tensor(0.3, dtype=gk.float64, requires_grad=True)
    k = gk.tensor(m.T)
    assert gradcheck(lambda a, b: a.masked_fill(k, b) * a, (t, v))
    assert gradcheck(lambda a: a.masked_select(k) ** 2, (t,))
    assert gradcheck(lambda a, b: a.masked_scatter(k, b) ** 2, (t, s))
    with pytest.raises(RuntimeError, match="bool tensor for mask"):
        t.masked_fill(gk.tensor(m.T.astype(np.uint8)), 1.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        t.masked_fill(k, gk.tensor([1.0], dtype=gk.float64))
    with pytest.raises(RuntimeError, match="number of elements of source"):
        t.masked_scatter(k, gk.zeros(1, dtype=gk.float64))
    with pytest.raises(RuntimeError, match="same dtypes"):
        t.masked_scatter(k, gk.zeros(12))


# ----- nonzero, argwhere, where, take, take_along_dim -----

@pytest.mark.parametrize("shape", [(3, 4), (5,), (), (0, 3), (2, 1, 3)])
def test_nonzero_argwhere_where_match_pytorch(shape):
    a = (RNG.random(shape) > 0.5) * RNG.integers(-2, 3, shape)
    ta, ga = torch.tensor(a), gk.tensor(a)
    for t_out, g_out in [(torch.nonzero(ta), gk.nonzero(ga)), (torch.argwhere(ta),
                                                                gk.argwhere(ga)),
                         (ta.nonzero(), ga.nonzero())]:
        assert g_out.dtype == np.int64
        np.testing.assert_array_equal(g_out.numpy(), t_out.numpy())
    for t_out, g_out in [(torch.nonzero(ta, as_tuple=True), gk.nonzero(ga, as_tuple=True)),
                         (torch.where(ta > 0), gk.where(ga > 0))]:
        assert len(g_out) == len(t_out)
        for t, g in zip(t_out, g_out):
            assert g.dtype == np.int64
            np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_where_three_argument_forms_still_work():
    x, y = random_inputs([(3, 4), (4,)])
    check(None, lambda a, b: torch.where(a > 0, a, b), lambda a, b: gk.where(a > 0, a, b),
          arrays=[x, y])
    check(None, lambda a, b: a.where(a > 0, b), arrays=[x, y])
    with pytest.raises(TypeError):
        gk.where(gk.tensor(x) > 0, gk.tensor(x))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_take_matches_pytorch(dtype):
    x = random_inputs([(3, 4)], dtype)[0]
    check(None, lambda a, i: torch.take(a, i), lambda a, i: gk.take(a, i), dtype=dtype,
          arrays=[x, np.array([[-1, 0, 5], [5, 11, -12]])])
    check(None, lambda a, i: a.T.take(i), dtype=dtype, arrays=[x, np.zeros((0, 2), np.int64)])
    with pytest.raises(IndexError, match="index 12 is out of bounds"):
        gk.take(gk.tensor(x), gk.tensor([12]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xshape,ishape,dim", [
    ((3, 4), (3, 2), 1), ((3, 4, 1), (1, 4, 5), 2), ((3, 1, 2), (1, 4, 5), -1),
    ((3, 4), (1, 2), None), ((3, 4), (5, 4), 0), ((3, 4), (3, 0), 1)])
def test_take_along_dim_matches_pytorch(xshape, ishape, dim, dtype):
    x = random_inputs([xshape], dtype)[0]
    size = int(np.prod(xshape)) if dim is None else xshape[dim]
    idx = ints(0 if dim is None else -size, size, ishape)  # dim=None refuses negatives
    check(None, lambda a, i: torch.take_along_dim(a, i, dim),
          lambda a, i: gk.take_along_dim(a, i, dim), dtype=dtype, arrays=[x, idx])


def test_take_gradchecks():
    x = gk.tensor(RNG.standard_normal((3, 1, 2)), requires_grad=True)
    i = gk.tensor(ints(-2, 2, (1, 4, 5)))
    assert gradcheck(lambda t: gk.take_along_dim(t, i, 2), (x,))
    assert gradcheck(lambda t: gk.take(t, gk.tensor([[0, 0, -1]])), (x,))


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_gather_and_scatter_add_on_drawn_shapes(data):
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dim = data.draw(st.integers(-ndim, ndim - 1))
    ishape = tuple(data.draw(st.integers(0, n)) for n in shape)
    ishape = ishape[:dim % ndim] + (data.draw(st.integers(0, 5)),) + ishape[dim % ndim + 1:]
    x, src = random_inputs([shape, ishape], seed=data.draw(st.integers(0, 99)))
    idx = ints(0, shape[dim], ishape)
    check(None, lambda a, i: a.gather(dim, i), arrays=[x, idx])
    check(None, lambda a, i, s: a.scatter_add(dim, i, s), arrays=[x, idx, src])
