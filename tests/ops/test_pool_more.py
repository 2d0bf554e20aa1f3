"""More pooling against torch.nn.functional: integer input, adaptive max pooling and
adaptive_avg_pool1d, max unpooling, and the 3-d poolings (values, indices, input gradients in
float64 and float32, gradcheck, bad input)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd import gradcheck
from oracle import check

F64, F32 = np.float64, np.float32
INTS = [np.int64, np.int32, np.int16, np.int8, np.uint8]


def _ints(shape, dtype, seed=0):
    return np.random.default_rng(seed).integers(-50, 50, size=shape).astype(dtype)


def _same(out, expected):
    assert out.dtype == np.dtype(str(expected.dtype).replace("torch.", ""))
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("name,shape,options", [
    ("max_pool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", (3, 6, 6), dict(kernel_size=2, ceil_mode=True, dilation=2)),
    ("max_pool3d", (2, 2, 5, 4, 6), dict(kernel_size=(2, 3, 2), padding=1)),
])
def test_max_pool_on_integers(name, shape, options, dtype):
    x = _ints(shape, dtype)
    _same(getattr(F, name)(gk.tensor(x), **options), getattr(TF, name)(torch.tensor(x),
                                                                        **options))


@pytest.mark.parametrize("dtype", INTS)
def test_max_pool1d_with_indices_on_integers(dtype):
    x = _ints((2, 3, 9), dtype)
    out, idx = F.max_pool1d(gk.tensor(x), 3, 2, 1, return_indices=True)
    t_out, t_idx = TF.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    _same(out, t_out)
    _same(idx, t_idx)
    assert not out.requires_grad


@pytest.mark.parametrize("name,shape,options", [
    ("avg_pool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=1, padding=1,
                                      count_include_pad=False)),
    ("avg_pool2d", (2, 3, 6, 6), dict(kernel_size=2, divisor_override=3)),
    ("avg_pool2d", (2, 3, 6, 4), dict(kernel_size=(6, 4))),
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=2)),
    ("avg_pool3d", (2, 2, 5, 4, 6), dict(kernel_size=2, padding=1, count_include_pad=False)),
])
def test_avg_pool_on_int64_truncates_like_torch(name, shape, options):
    x = _ints(shape, np.int64)
    _same(getattr(F, name)(gk.tensor(x), **options), getattr(TF, name)(torch.tensor(x),
                                                                        **options))


UNSUPPORTED = [  # (op, dtype, arguments) that PyTorch refuses with NotImplementedError
    ("avg_pool2d", np.int32, (2,)),
    ("avg_pool1d", np.uint8, (2,)),
    ("avg_pool3d", np.int32, (1,)),
    ("adaptive_avg_pool2d", np.int64, (2,)),
    ("adaptive_max_pool2d", np.int64, (2,)),
    ("max_pool2d", np.bool_, (2,)),
    ("interpolate", np.int64, (None, 2.0)),
]


@pytest.mark.parametrize("name,dtype,args", UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_unsupported_dtypes_raise_like_torch(name, dtype, args):
    x = np.ones((2, 1, 4, 4, 4) if name.endswith("3d") else (2, 1, 4, 4), dtype)
    x = x[0] if name.endswith("1d") else x
    with pytest.raises(NotImplementedError):
        getattr(TF, name)(torch.tensor(x), *args)
    with pytest.raises(NotImplementedError, match=f"{name}.*not implemented for"):
        getattr(F, name)(gk.tensor(x), *args)


ADAPTIVE_MAX = [  # (op, input shape, output_size)
    ("adaptive_max_pool2d", (2, 3, 7, 9), (3, 4)),
    ("adaptive_max_pool2d", (2, 3, 8, 6), (4, 2)),
    ("adaptive_max_pool2d", (1, 2, 3, 2), (5, 3)),
    ("adaptive_max_pool2d", (2, 2, 7, 5), (None, 3)),
    ("adaptive_max_pool2d", (3, 7, 9), 1),
    ("adaptive_max_pool1d", (2, 3, 10), 4),
    ("adaptive_max_pool1d", (3, 7), (3,)),
    ("adaptive_max_pool1d", (2, 3, 3), 5),
    ("adaptive_avg_pool1d", (2, 3, 10), 4),
    ("adaptive_avg_pool1d", (3, 7), (3,)),
    ("adaptive_avg_pool1d", (2, 3, 8), 1),
]
ADAPTIVE_IDS = [f"{c[0]}-{i}" for i, c in enumerate(ADAPTIVE_MAX)]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shape,size", ADAPTIVE_MAX, ids=ADAPTIVE_IDS)
def test_adaptive_pool_matches_torch(name, shape, size, dtype):
    check([shape], lambda x: getattr(TF, name)(x, size), lambda x: getattr(F, name)(x, size),
          dtype=dtype)


@pytest.mark.parametrize("name,shape,size", ADAPTIVE_MAX[:8], ids=ADAPTIVE_IDS[:8])
def test_adaptive_max_pool_indices_and_ties(name, shape, size):
    x = np.random.default_rng(1).integers(0, 3, size=shape).astype(np.float64)
    out, idx = getattr(F, name)(gk.tensor(x), size, return_indices=True)
    t_out, t_idx = getattr(TF, name)(torch.tensor(x), size, return_indices=True)
    _same(out, t_out)
    _same(idx, t_idx)
    check([shape], lambda x: getattr(TF, name)(x, size), lambda x: getattr(F, name)(x, size),
          arrays=[x])


def test_adaptive_max_pool_nan_wins_like_torch():
    x = np.random.default_rng(2).standard_normal((1, 2, 5, 5))
    x[0, 1, 2, 3] = np.nan
    check([], lambda x: TF.adaptive_max_pool2d(x, 3), lambda x: F.adaptive_max_pool2d(x, 3),
          arrays=[x])


@pytest.mark.parametrize("name,size", [("adaptive_max_pool2d", (2, 3)),
                                       ("adaptive_max_pool1d", 3),
                                       ("adaptive_avg_pool1d", 3)])
def test_adaptive_gradcheck_and_non_contiguous(name, size):
    shape = (2, 3, 5, 7) if name.endswith("2d") else (2, 5, 7)
    a = np.random.default_rng(3).standard_normal(shape)
    x = gk.tensor(a, requires_grad=True)
    assert gradcheck(lambda t: getattr(F, name)(t, size), (x,))
    check([], lambda x: getattr(TF, name)(x.transpose(-1, -2), size),
          lambda x: getattr(F, name)(x.transpose(-1, -2), size), arrays=[a])


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), st.integers(1, 9))
def test_adaptive_max_pool2d_drawn_sizes(h, w, oh, ow):
    check([(1, 2, h, w)], lambda x: TF.adaptive_max_pool2d(x, (oh, ow)),
          lambda x: F.adaptive_max_pool2d(x, (oh, ow)))


@pytest.mark.parametrize("call,message", [
    (lambda: F.adaptive_max_pool2d(gk.randn(2, 3, 4, 4, 4), 2), r"expected input \(N, C, H, W\)"),
    (lambda: F.adaptive_max_pool1d(gk.randn(2, 3, 4, 4), 2), r"expected input \(N, C, L\)"),
    (lambda: F.adaptive_max_pool2d(gk.randn(2, 3, 4, 4), (1, 2, 3)), "output_size must be"),
    (lambda: F.adaptive_avg_pool1d(gk.randn(2, 3, 4), 0), "output_size must be positive"),
])
def test_adaptive_bad_input(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


UNPOOL = [  # (pool options, input shape, unpool output_size)
    (dict(kernel_size=2), (2, 3, 6, 8), None),
    (dict(kernel_size=3, stride=2, padding=1), (2, 2, 7, 7), None),
    (dict(kernel_size=2), (2, 3, 7, 9), (7, 9)),
    (dict(kernel_size=3, stride=2), (3, 7, 7), (2, 3, 8, 8)),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("options,shape,size", UNPOOL)
def test_max_unpool2d_matches_torch(options, shape, size, dtype):
    a = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    _, idx = TF.max_pool2d(torch.tensor(a), return_indices=True, **options)
    values = np.random.default_rng(5).standard_normal(tuple(idx.shape)).astype(dtype)
    unpool = {k: v for k, v in options.items()}
    check([], lambda v: TF.max_unpool2d(v, idx, output_size=size, **unpool),
          lambda v: F.max_unpool2d(v, gk.tensor(idx.numpy()), output_size=size, **unpool),
          arrays=[values], dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_max_unpool1d_round_trip_matches_torch(dtype):
    a = np.random.default_rng(6).standard_normal((2, 3, 11)).astype(dtype)
    out, idx = F.max_pool1d(gk.tensor(a), 3, 2, 1, return_indices=True)
    t_out, t_idx = TF.max_pool1d(torch.tensor(a), 3, 2, 1, return_indices=True)
    check([], lambda v: TF.max_unpool1d(v, t_idx, 3, 2, 1),
          lambda v: F.max_unpool1d(v, idx, 3, 2, 1), arrays=[out.numpy()], dtype=dtype)
    out, idx = F.max_pool1d(gk.tensor(a.astype(F64)), 2, return_indices=True)
    x = gk.tensor(out.numpy(), requires_grad=True)  # distinct indices: a true inverse
    assert gradcheck(lambda t: F.max_unpool1d(t, idx, 2), (x,))


@pytest.mark.parametrize("call,message", [
    (lambda v, i: F.max_unpool2d(v, i, 2, output_size=(9, 9)), "invalid output_size"),
    (lambda v, i: F.max_unpool2d(v, i + 40, 2), "invalid max index"),
    (lambda v, i: F.max_unpool2d(v, i[:, :1], 2), "expected indices"),
    (lambda v, i: F.max_unpool2d(v, i.float(), 2), "int64"),
])
def test_max_unpool_bad_input(call, message):
    v, i = F.max_pool2d(gk.randn(1, 2, 4, 4), 2, return_indices=True)
    with pytest.raises((RuntimeError, TypeError), match=message):
        call(v, i)


POOL3D = [  # (op, input shape, options)
    ("max_pool3d", (2, 2, 4, 6, 5), dict(kernel_size=2)),
    ("max_pool3d", (2, 2, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool3d", (1, 2, 5, 7, 6), dict(kernel_size=(2, 3, 2), stride=(1, 2, 3),
                                         dilation=(2, 1, 1), ceil_mode=True)),
    ("max_pool3d", (2, 5, 4, 6), dict(kernel_size=2, stride=1)),
    ("avg_pool3d", (2, 2, 4, 6, 5), dict(kernel_size=2)),
    ("avg_pool3d", (2, 2, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool3d", (2, 2, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1,
                                         count_include_pad=False, ceil_mode=True)),
    ("avg_pool3d", (1, 2, 4, 5, 6), dict(kernel_size=(2, 3, 1), divisor_override=4)),
    ("avg_pool3d", (2, 5, 4, 6), dict(kernel_size=(5, 4, 6))),
    ("adaptive_avg_pool3d", (2, 2, 5, 6, 7), (2, 3, 4)),
    ("adaptive_avg_pool3d", (2, 5, 4, 6), 1),
    ("adaptive_avg_pool3d", (1, 2, 3, 4, 5), (None, 6, 2)),
]
POOL3D_IDS = [f"{c[0]}-{i}" for i, c in enumerate(POOL3D)]


def _call3d(module, name, options):
    fn = getattr(module, name)
    return (lambda x: fn(x, options)) if name.startswith("adaptive") else (
        lambda x: fn(x, **options))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name,shape,options", POOL3D, ids=POOL3D_IDS)
def test_pool3d_matches_torch(name, shape, options, dtype):
    check([shape], _call3d(TF, name, options), _call3d(F, name, options), dtype=dtype)


@pytest.mark.parametrize("name,shape,options", POOL3D[1::3], ids=POOL3D_IDS[1::3])
def test_pool3d_gradcheck(name, shape, options):
    x = gk.tensor(np.random.default_rng(7).standard_normal(shape), requires_grad=True)
    assert gradcheck(_call3d(F, name, options), (x,))


def test_max_pool3d_indices_ties_and_non_contiguous():
    a = np.random.default_rng(8).integers(0, 3, size=(2, 2, 5, 6, 7)).astype(np.float64)
    options = dict(kernel_size=3, stride=2, padding=1)
    out, idx = F.max_pool3d(gk.tensor(a), return_indices=True, **options)
    t_out, t_idx = TF.max_pool3d(torch.tensor(a), return_indices=True, **options)
    _same(out, t_out)
    _same(idx, t_idx)
    check([], lambda x: TF.max_pool3d(x.transpose(2, 4), **options),
          lambda x: F.max_pool3d(x.transpose(2, 4), **options), arrays=[a])


@pytest.mark.parametrize("call,message", [
    (lambda: F.max_pool3d(gk.randn(3, 4, 4), 2), r"expected input \(N, C, D, H, W\)"),
    (lambda: F.avg_pool3d(gk.randn(1, 1, 4, 4, 4), 3, padding=2), "padding must be between"),
    (lambda: F.max_pool3d(gk.randn(1, 1, 1, 4, 4), 2), "too small"),
    (lambda: F.avg_pool3d(gk.randn(1, 1, 4, 4, 4), (2, 2)), "kernel_size must be"),
    (lambda: F.adaptive_avg_pool3d(gk.randn(1, 1, 4, 4, 4), (2, 2)), "output_size must be"),
])
def test_pool3d_bad_input(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize("name,args,shape", [
    ("adaptive_max_pool2d", (2,), (0, 3, 5, 5)),
    ("adaptive_avg_pool1d", (2,), (0, 3, 5)),
    ("max_pool3d", (2,), (0, 2, 4, 4, 4)),
    ("avg_pool3d", (2, 2, 1), (0, 2, 4, 4, 4)),
    ("adaptive_avg_pool3d", (3,), (0, 2, 4, 4, 4)),
])
def test_empty_batch(name, args, shape):
    check([shape], lambda t: getattr(TF, name)(t, *args), lambda t: getattr(F, name)(t, *args))


def test_max_unpool_empty_batch():
    v = gk.zeros(0, 2, 2, 2, requires_grad=True)
    out = F.max_unpool2d(v, gk.zeros(0, 2, 2, 2, dtype=gk.int64), 2)
    out.sum().backward()
    assert out.shape == (0, 2, 4, 4) and v.grad.shape == (0, 2, 2, 2)
