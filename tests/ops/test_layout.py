"""Layout ops against PyTorch: flip, roll, repeat / tile, repeat_interleave, unflatten, narrow,
movedim, broadcast_to / broadcast_tensors, meshgrid, atleast_*d, the stacks, Tensor.unfold and
Tensor.view(dtype): values, gradients (float64 and float32), gradcheck, edge cases, errors."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd.check import gradcheck
from oracle import check

F64, F32 = np.float64, np.float32

# (id, input shapes, one lambda run by both torch and gradkit)
SHARED = [
    ("flip_one", [(2, 3, 4)], lambda x: x.flip(1)),
    ("flip_many_negative", [(2, 3, 4)], lambda x: x.flip(0, -1)),
    ("flip_tuple", [(2, 3, 4)], lambda x: x.flip((0, 2))),
    ("flip_none", [(2, 3)], lambda x: x.flip(())),
    ("flip_0d", [()], lambda x: x.flip(0)),
    ("fliplr", [(2, 3, 4)], lambda x: x.fliplr()),
    ("flipud", [(3, 2)], lambda x: x.flipud()),
    ("roll_flat", [(3, 4)], lambda x: x.roll(5)),
    ("roll_dim", [(3, 4)], lambda x: x.roll(-1, 1)),
    ("roll_dims", [(3, 4, 2)], lambda x: x.roll((1, 7), (0, -2))),
    ("roll_empty", [(0, 3)], lambda x: x.roll(1, 0)),
    ("repeat", [(2, 3)], lambda x: x.repeat(2, 3)),
    ("repeat_more_dims", [(2, 3)], lambda x: x.repeat(2, 1, 2)),
    ("repeat_tuple_zero", [(2, 3)], lambda x: x.repeat((0, 2))),
    ("repeat_0d", [()], lambda x: x.repeat(3)),
    ("tile_fewer", [(2, 3, 2)], lambda x: x.tile((2,))),
    ("tile_more", [(3,)], lambda x: x.tile(2, 2)),
    ("ri_int_flat", [(2, 3)], lambda x: x.repeat_interleave(2)),
    ("ri_int_dim", [(2, 3)], lambda x: x.repeat_interleave(3, dim=-1)),
    ("ri_zero", [(2, 3)], lambda x: x.repeat_interleave(0, dim=0)),
    ("unflatten", [(2, 6)], lambda x: x.unflatten(1, (2, 3))),
    ("unflatten_minus1", [(2, 6, 1)], lambda x: x.unflatten(-2, (-1, 2))),
    ("narrow", [(4, 5)], lambda x: x.narrow(1, 1, 3)),
    ("narrow_negative", [(4, 5)], lambda x: x.narrow(-2, -3, 2)),
    ("narrow_empty", [(4, 5)], lambda x: x.narrow(0, 4, 0)),
    ("movedim", [(2, 3, 4)], lambda x: x.movedim(0, -1)),
    ("movedim_many", [(2, 3, 4, 5)], lambda x: x.movedim((0, 1), (3, 0))),
    ("moveaxis", [(2, 3, 4)], lambda x: x.moveaxis(2, 0)),
    ("swapaxes", [(2, 3, 4)], lambda x: x.swapaxes(0, 2)),
    ("broadcast_to", [(3, 1)], lambda x: x.broadcast_to((2, 3, 4))),
    ("broadcast_to_minus1", [(3, 1)], lambda x: x.broadcast_to((2, -1, 4))),
    ("transposed_input", [(4, 3)], lambda x: x.t().flip(0).roll(1, 1).repeat(2, 1)),
]

# (id, input shapes, torch function, gradkit function): the same call on torch.* and gk.*
FUNCTIONS = [
    ("flip", [(3, 4)], lambda m, x: m.flip(x, (0, 1))),
    ("fliplr", [(3, 4)], lambda m, x: m.fliplr(x)),
    ("flipud", [(3,)], lambda m, x: m.flipud(x)),
    ("roll", [(3, 4)], lambda m, x: m.roll(x, shifts=(1, -2), dims=(0, 1))),
    ("tile", [(2, 3)], lambda m, x: m.tile(x, (2, 1, 2))),
    ("repeat_interleave", [(2, 3)], lambda m, x: m.repeat_interleave(x, 2, dim=1)),
    ("unflatten", [(6,)], lambda m, x: m.unflatten(x, 0, (3, 2))),
    ("narrow", [(6, 2)], lambda m, x: m.narrow(x, 0, 2, 3)),
    ("movedim", [(2, 3, 4)], lambda m, x: m.movedim(x, -1, 0)),
    ("moveaxis", [(2, 3, 4)], lambda m, x: m.moveaxis(x, (0, 2), (2, 0))),
    ("swapaxes", [(2, 3)], lambda m, x: m.swapaxes(x, 0, 1)),
    ("swapdims", [(2, 3, 4)], lambda m, x: m.swapdims(x, -1, 0)),
    ("broadcast_to", [(3,)], lambda m, x: m.broadcast_to(x, (2, 3))),
    ("ravel", [(2, 3)], lambda m, x: m.ravel(x.t())),
    ("broadcast_tensors", [(3, 1), (4,)], lambda m, a, b: m.broadcast_tensors(a, b)[0]
     * m.broadcast_tensors(a, b)[1]),
    ("meshgrid_ij", [(3,), (4,)], lambda m, a, b: m.stack(m.meshgrid(a, b, indexing="ij"))),
    ("meshgrid_xy", [(3,), (4,), (2,)],
     lambda m, a, b, c: m.stack(m.meshgrid([a, b, c], indexing="xy")) * 1.5),
    ("meshgrid_0d", [(), (4,)], lambda m, a, b: m.stack(m.meshgrid(a, b, indexing="xy"))),
    ("atleast_1d", [()], lambda m, x: m.atleast_1d(x)),
    ("atleast_2d", [(3,)], lambda m, x: m.atleast_2d(x)),
    ("atleast_3d_2d", [(2, 3)], lambda m, x: m.atleast_3d(x)),
    ("atleast_3d_1d", [(3,)], lambda m, x: m.atleast_3d(x)),
    ("atleast_3d_0d", [()], lambda m, x: m.atleast_3d(x)),
    ("hstack_1d", [(3,), (2,)], lambda m, a, b: m.hstack((a, b))),
    ("hstack_2d", [(2, 3), (2, 1)], lambda m, a, b: m.hstack([a, b])),
    ("vstack", [(3,), (2, 3)], lambda m, a, b: m.vstack((a, b))),
    ("row_stack", [(3,), (3,)], lambda m, a, b: m.row_stack((a, b))),
    ("dstack", [(2, 3), (2, 3, 2)], lambda m, a, b: m.dstack((a, b))),
    ("column_stack", [(3,), (3, 2), ()],
     lambda m, a, b, c: m.column_stack((a, b, c.expand(3)))),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shapes,fn", SHARED, ids=[c[0] for c in SHARED])
def test_methods_match_torch(name, shapes, fn, dtype):
    check(shapes, fn, dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shapes,fn", FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_functions_match_torch(name, shapes, fn, dtype):
    check(shapes, lambda *a: fn(torch, *a), lambda *a: fn(gk, *a), dtype=dtype)


@pytest.mark.parametrize("name,shapes,fn", SHARED[:-1], ids=[c[0] for c in SHARED[:-1]])
def test_methods_gradcheck(name, shapes, fn):
    x = gk.tensor(np.random.default_rng(0).standard_normal(shapes[0]), requires_grad=True)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("repeats,dim,shape", [
    ([1, 0, 3], 0, (3, 2)),
    ([2, 1], -1, (3, 2)),
    ([2], 1, (3, 2)),
    (2, None, (3, 2)),
    ([1, 2, 0, 1, 3, 1], None, (3, 2)),
])
def test_repeat_interleave_tensor_repeats(repeats, dim, shape, dtype):
    r = np.array(repeats) if isinstance(repeats, list) else np.array(repeats)
    check([shape], lambda x: torch.repeat_interleave(x, torch.tensor(r), dim=dim),
          lambda x: gk.repeat_interleave(x, gk.tensor(r), dim=dim), dtype=dtype)
    x = gk.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda x: gk.repeat_interleave(x, gk.tensor(r), dim=dim), (x,))


def test_repeat_interleave_repeats_only_and_output_size():
    out = gk.repeat_interleave(gk.tensor([2, 0, 3]))
    expected = torch.repeat_interleave(torch.tensor([2, 0, 3]))
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert out.dtype == np.int64
    x = gk.ones(2, 3)
    assert gk.repeat_interleave(x, gk.tensor([1, 2]), dim=0, output_size=3).shape == (3, 3)
    with pytest.raises(RuntimeError):
        gk.repeat_interleave(x, gk.tensor([1, 2]), dim=0, output_size=4)
    with pytest.raises(RuntimeError):
        gk.repeat_interleave(x, gk.tensor([1, -2]), dim=0)
    with pytest.raises(RuntimeError):
        gk.repeat_interleave(x, gk.tensor([1, 2, 3]), dim=0)
    with pytest.raises(RuntimeError):
        gk.repeat_interleave(x, -1)


def test_integer_and_bool_inputs_keep_their_dtype():
    for dtype in (np.int64, np.int32, np.bool_):
        a = np.arange(6).reshape(2, 3).astype(dtype)
        t, g = torch.tensor(a), gk.tensor(a)
        for fn in (lambda x: x.flip(0), lambda x: x.roll(1), lambda x: x.repeat(2, 1),
                   lambda x: x.repeat_interleave(2, dim=1), lambda x: x.narrow(1, 1, 2)):
            out = fn(g)
            assert out.dtype == dtype
            np.testing.assert_array_equal(out.numpy(), fn(t).numpy())


def test_views_share_memory_and_copies_do_not():
    x = gk.zeros(3, 4)
    x.narrow(1, 1, 2).numpy()[...] = 1.0
    assert x.numpy()[:, 1:3].sum() == 6
    x.flip(0).numpy()[...] = 5.0  # flip copies, as in PyTorch
    assert x.numpy().max() == 1.0


def test_window_views_share_the_version_counter():
    x = gk.tensor(np.arange(6.0), requires_grad=True) * 1.0
    w = x.unfold(0, 2, 2)
    assert w._version == x._version
    with pytest.raises(RuntimeError, match="view"):
        w.mul_(2.0)
    with gk.no_grad():
        w.add_(1.0)
    assert x._version == 1


def test_meshgrid_warns_without_indexing_and_defaults_to_ij():
    a, b = gk.arange(3.0), gk.arange(2.0)
    with pytest.warns(UserWarning, match="indexing"):
        out = gk.meshgrid(a, b)
    assert [o.shape for o in out] == [(3, 2), (3, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gk.meshgrid(a, b, indexing="xy")[0].shape == (2, 3)
    assert isinstance(gk.meshgrid(a, indexing="ij"), tuple)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape,dim,size,step", [
    ((7,), 0, 3, 2),
    ((2, 9, 3), 1, 4, 1),
    ((2, 9, 3), -2, 2, 3),
    ((4, 5), 0, 4, 1),
    ((4, 5), 1, 0, 2),
    ((), 0, 1, 1),
    ((0, 5), 1, 2, 2),
])
def test_tensor_unfold_matches_torch(shape, dim, size, step, dtype):
    check([shape], lambda x: x.unfold(dim, size, step), dtype=dtype)


def test_tensor_unfold_gradcheck_and_view():
    x = gk.tensor(np.random.default_rng(0).standard_normal((3, 8)), requires_grad=True)
    assert gradcheck(lambda x: x.unfold(1, 3, 2), (x,))
    assert gradcheck(lambda x: x.t().unfold(0, 4, 1), (x,))
    y = gk.zeros(6)
    y.unfold(0, 2, 2).numpy()[:, 0] = 1.0
    np.testing.assert_array_equal(y.numpy(), [1, 0, 1, 0, 1, 0])


@pytest.mark.parametrize("src,dst,shape", [
    (np.float32, np.int32, (2, 4)),
    (np.float32, np.int16, (2, 4)),
    (np.float32, np.uint8, (3,)),
    (np.float64, np.float32, (2, 3)),
    (np.int16, np.int64, (2, 4)),
    (np.float32, np.float32, (2, 3)),
    (np.float32, np.int32, ()),
    (np.float32, np.bool_, (2, 2)),
])
def test_view_dtype_reinterprets_bytes(src, dst, shape):
    a = np.random.default_rng(0).integers(0, 2, size=shape).astype(src)
    tdt = getattr(torch, np.dtype(dst).name)
    expected = torch.tensor(a).view(tdt)
    out = gk.tensor(a).view(np.dtype(dst))
    assert out.shape == tuple(expected.shape)
    assert out.dtype == dst
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_view_dtype_shares_memory_and_has_no_grad():
    x = gk.zeros(4, requires_grad=True)
    v = x.view(gk.int32)
    assert not v.requires_grad and v.grad_fn is None
    assert not x.view(gk.float32).requires_grad
    v.numpy()[0] = 1065353216  # the bits of 1.0f
    assert x.numpy()[0] == 1.0
    assert x.view(2, 2).shape == (2, 2) and x.view((4, 1)).requires_grad


def test_view_dtype_errors_match_torch():
    with pytest.raises(RuntimeError, match="divisible"):
        gk.zeros(2, 3, dtype=gk.float32).view(gk.float64)
    with pytest.raises(RuntimeError, match="stride"):
        gk.zeros(4, 2).t().view(gk.float64)
    with pytest.raises(RuntimeError, match="0"):
        gk.zeros(()).view(np.int16)


def test_as_and_ravel_methods():
    x = gk.tensor(np.arange(6.0), requires_grad=True)
    other = gk.zeros(2, 3)
    assert x.view_as(other).shape == (2, 3)
    assert x.reshape_as(other).shape == (2, 3)
    assert x.view_as(other).t().ravel().shape == (6,)
    check([(2, 3)], lambda a: a.t().ravel() * a.t().flatten())


BAD = [
    (lambda m, x: m.flip(x, (0, 0)), RuntimeError),
    (lambda m, x: m.flip(x, (3,)), IndexError),
    (lambda m, x: m.fliplr(x[0]), RuntimeError),
    (lambda m, x: m.flipud(x[0, 0]), RuntimeError),
    (lambda m, x: m.roll(x, (1, 2), (0,)), RuntimeError),
    (lambda m, x: m.roll(x, 1, 5), IndexError),
    (lambda m, x: x.repeat(2), RuntimeError),
    (lambda m, x: x.repeat(-1, 1), RuntimeError),
    (lambda m, x: m.unflatten(x, 1, (2, 2)), RuntimeError),
    (lambda m, x: m.narrow(x, 1, 2, 2), RuntimeError),
    (lambda m, x: m.narrow(x, 1, -4, 1), IndexError),
    (lambda m, x: m.movedim(x, (0, 0), (1, 0)), RuntimeError),
    (lambda m, x: m.movedim(x, (0, 1), (1,)), RuntimeError),
    (lambda m, x: m.broadcast_to(x, (4, 3, 2)), RuntimeError),
    (lambda m, x: m.broadcast_tensors(x, m.zeros(4)), RuntimeError),
    (lambda m, x: m.meshgrid(x, indexing="ij"), RuntimeError),
    (lambda m, x: m.meshgrid(x[0], indexing="foo"), RuntimeError),
    (lambda m, x: m.meshgrid(x[0], x[0].double(), indexing="ij"), RuntimeError),
    (lambda m, x: x.unfold(1, 4, 1), RuntimeError),
    (lambda m, x: x.unfold(1, 2, 0), RuntimeError),
    (lambda m, x: x.unfold(2, 2, 1), IndexError),
    (lambda m, x: m.roll(x[0, 0], 1, 0), IndexError),
    (lambda m, x: m.repeat_interleave(x[0, 0], 2, dim=0), IndexError),
    (lambda m, x: m.narrow(x[0, 0], 0, 0, 1), RuntimeError),
]


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_arguments_raise_like_torch(case):
    fn, error = BAD[case]
    with pytest.raises(error):
        fn(torch, torch.zeros(2, 3))
    with pytest.raises(error):
        fn(gk, gk.zeros(2, 3))


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4), data=st.data())
def test_hypothesis_shapes(shape, data):
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    shift = data.draw(st.integers(-5, 5))
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim + 1)))
    check([tuple(shape)], lambda x: x.flip(dim).roll(shift, dim).repeat(*reps)
          .repeat_interleave(2, dim=dim))
    if shape[dim % ndim] >= 1:
        check([tuple(shape)], lambda x: x.unfold(dim, 1, 2).movedim(-1, 0))
