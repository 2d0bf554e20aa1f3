"""The reused memory behind the fast convolution paths (ops/scratch.py): zero-padded buffers
kept per shape, whose border must stay zero while their interior changes, and glibc's malloc
told to keep freed memory; then convolutions run back to back on the same shapes with new
data, against PyTorch and against the im2col path, so that a stale buffer would show."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.ops import conv_select
from gradkit.ops.conv import conv2d
from gradkit.ops.scratch import Recycler, Scratch, scratch, zero_padded
from oracle import check

F64, F32 = np.float64, np.float32


def _np_padded(x, top, left, height, width):
    H, W = x.shape[2:]
    return np.pad(x, ((0, 0), (0, 0), (top, height - top - H), (left, width - left - W)))


@pytest.mark.parametrize("dtype", [F32, F64])
def test_zero_padded_keeps_its_border_zero_across_calls(dtype):
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((2, 3, 4, 5)).astype(dtype)
        xp = zero_padded("test", x, 1, 2, 7, 9, tail=3)
        assert xp.dtype == dtype
        np.testing.assert_array_equal(xp, _np_padded(x, 1, 2, 7, 9))
        tail = np.frombuffer(xp.base if xp.base is not None else xp, dtype)[xp.size:]
        np.testing.assert_array_equal(tail, 0)


def test_zero_padded_of_a_transposed_view_and_of_other_offsets():
    x = np.arange(2 * 3 * 4 * 4, dtype=F32).reshape(2, 3, 4, 4)
    a = zero_padded("test_t", x.transpose(1, 0, 2, 3), 0, 0, 4, 6)
    np.testing.assert_array_equal(a, _np_padded(x.transpose(1, 0, 2, 3), 0, 0, 4, 6))
    b = zero_padded("test_t", x.transpose(1, 0, 2, 3), 1, 1, 6, 6)  # same size, other place
    np.testing.assert_array_equal(b, _np_padded(x.transpose(1, 0, 2, 3), 1, 1, 6, 6))
    np.testing.assert_array_equal(a, _np_padded(x.transpose(1, 0, 2, 3), 0, 0, 4, 6))


def test_zero_padded_with_no_padding_and_an_empty_batch():
    x = np.ones((0, 3, 4, 4), F32)
    assert zero_padded("test_e", x, 1, 1, 6, 6).shape == (0, 3, 6, 6)
    y = np.ones((1, 1, 2, 2), F32)
    np.testing.assert_array_equal(zero_padded("test_e", y, 0, 0, 2, 2), y)


def test_kept_buffers_are_bounded_in_bytes_least_recently_used_first():
    local = Scratch()
    local.KEPT_BYTES = 10 * 400
    for k in range(12):
        local.zeros(("slot", k), (10, 10), F32, 0)  # 400 bytes each
        local.zeros(("slot", 0), (10, 10), F32, 0)  # used again every time: kept
    assert len(local.padded) == 10 and local.padded_bytes == 10 * 400
    assert ("slot", 0) in local.padded and ("slot", 1) not in local.padded
    big = local.zeros(("big",), (100, 100), F32, 0)  # larger than the budget: kept alone
    assert big.shape == (100, 100) and list(local.padded) == [("big",)]


def test_take_still_reuses_one_buffer_per_slot():
    a = scratch.take("test_slot", (4, 5), F32)
    b = scratch.take("test_slot", (2, 3), F64)
    assert np.shares_memory(a, b)


def test_recycler_reuses_a_buffer_only_when_no_array_uses_it():
    pool = Recycler()
    a = pool.empty((512, 1024), F32)
    b = pool.empty((512, 1024), F32)
    assert not np.shares_memory(a, b) and a.shape == (512, 1024) and a.dtype == F32
    address = a.__array_interface__["data"][0]
    del a
    c = pool.empty((1024, 512), F32)  # same bytes, other shape: the freed buffer
    assert c.__array_interface__["data"][0] == address and c.shape == (1024, 512)
    view = c[::2]
    del c
    d = pool.empty((512, 1024), F32)  # the view keeps c's buffer in use
    assert not np.shares_memory(d, view) and not np.shares_memory(d, b)
    assert pool.bytes == 3 * (2 << 20)
    pool.clear()
    assert pool.bytes == 0 and pool.pools == {}


def test_recycler_small_requests_and_the_limit():
    pool = Recycler()
    small = pool.empty((10, 10), F64)
    assert small.base is None and pool.bytes == 0
    pool.LIMIT_BYTES = 3 << 20
    kept = [pool.empty((1 << 18,), F64) for _ in range(2)]  # 2 MB each: the second is over
    assert pool.bytes == 2 << 20 and kept[1].base is None


def test_outputs_in_recycled_memory_survive_later_steps():
    rng = np.random.default_rng(5)
    x = gk.tensor(rng.standard_normal((8, 16, 32, 32)).astype(F32), requires_grad=True)
    w = gk.tensor(rng.standard_normal((16, 16, 3, 3)).astype(F32), requires_grad=True)
    first = gk.nn.functional.relu(conv2d(x, w, padding=1))
    kept = first.numpy().copy()
    for _ in range(3):  # later steps make and free arrays of the same sizes
        out = gk.nn.functional.relu(conv2d(x, w, padding=1))
        out.sum().backward()
    np.testing.assert_array_equal(first.numpy(), kept)


def _run(code, **env):
    return subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env),
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION"),
                    reason="glibc's mallopt")
def test_keep_freed_memory_on_glibc():  # in a child process: it changes the process's malloc
    code = "from gradkit.ops.scratch import keep_freed_memory; print(keep_freed_memory())"
    assert _run(code) == "True"


@pytest.mark.parametrize("value", ["0", "1", ""])
def test_the_environment_variable_is_read_at_import(value):
    code = ("import gradkit, gradkit.nn.functional as F; "
            "x = gradkit.ones(2, 3, 5, 5); w = gradkit.ones(4, 3, 3, 3); "
            "print(float(F.conv2d(x, w, padding=1).sum()))")
    assert _run(code, GRADKIT_KEEP_FREED_MEMORY=value) == "4056.0"


# (input shape, weight shape, options): the ResNet-20 kinds at small sizes, odd sizes,
# paddings 0/1/2, stride 2, batch 1, dilation, groups
CASES = [
    ((3, 4, 9, 7), (4, 4, 3, 3), dict(padding=1)),
    ((1, 4, 8, 8), (4, 4, 3, 3), dict(padding=1)),
    ((2, 3, 7, 9), (5, 3, 3, 3), dict(padding=0)),
    ((2, 4, 9, 8), (3, 4, 3, 3), dict(padding=2)),
    ((2, 4, 9, 9), (8, 4, 3, 3), dict(stride=2, padding=1)),
    ((1, 3, 8, 7), (6, 3, 3, 3), dict(stride=2, padding=2)),
    ((2, 4, 10, 9), (4, 4, 3, 3), dict(padding=2, dilation=2)),
    ((2, 4, 7, 7), (4, 2, 3, 3), dict(padding=1, groups=2)),
    ((2, 1, 12, 12), (3, 1, 5, 5), dict(padding=2)),
]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("xs,ws,options", CASES)
def test_back_to_back_calls_match_torch(xs, ws, options, dtype):
    for seed in range(3):  # the same shapes reuse the same padded buffers with new data
        check([xs, ws, (ws[0],)], lambda x, w, b: TF.conv2d(x, w, b, **options),
              lambda x, w, b: conv2d(x, w, b, **options), dtype=dtype, seed=seed)


@pytest.mark.parametrize("algorithm", ["im2col", "winograd"])
@pytest.mark.parametrize("xs,ws,options", CASES[:4])
def test_back_to_back_calls_match_the_im2col_path(xs, ws, options, algorithm):
    rng = np.random.default_rng(1)
    for _ in range(2):
        x, w = (gk.tensor(rng.standard_normal(s), requires_grad=True) for s in (xs, ws))
        results = []
        for name in ("im2col", algorithm):
            with conv_select.conv_algorithm(name):
                out = conv2d(x, w, **options)
                x.grad = w.grad = None
                out.backward(gk.tensor(np.cos(np.arange(out.numel())).reshape(out.shape)))
            results.append((out.numpy(), x.grad.numpy(), w.grad.numpy()))
        for a, b in zip(*results):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_transposed_input_matches_torch():
    x = np.random.default_rng(2).standard_normal((5, 3, 8, 2)).transpose(3, 1, 2, 0)
    check([x.shape, (4, 3, 3, 3)], lambda x, w: TF.conv2d(x, w, padding=1),
          lambda x, w: conv2d(x, w, padding=1),
          arrays=[x, np.random.default_rng(3).standard_normal((4, 3, 3, 3))])


@pytest.mark.parametrize("xs,ws,options", CASES[:6])
def test_gradcheck(xs, ws, options):
    rng = np.random.default_rng(4)
    inputs = [gk.tensor(rng.standard_normal(s), requires_grad=True)
              for s in (xs, ws, (ws[0],))]
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, **options), inputs)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 4), o=st.integers(1, 4), h=st.integers(3, 9),
       w=st.integers(3, 9), pad=st.integers(0, 2), stride=st.integers(1, 2))
def test_drawn_shapes_match_torch(n, c, o, h, w, pad, stride):
    check([(n, c, h, w), (o, c, 3, 3)], lambda x, k: TF.conv2d(x, k, stride=stride, padding=pad),
          lambda x, k: conv2d(x, k, stride=stride, padding=pad))


def test_float32_stays_float32():
    x = gk.tensor(np.ones((2, 3, 6, 6), F32), requires_grad=True)
    w = gk.tensor(np.ones((4, 3, 3, 3), F32), requires_grad=True)
    out = conv2d(x, w, padding=1)
    out.sum().backward()
    assert out.dtype == F32 and x.grad.dtype == F32 and w.grad.dtype == F32
    assert torch.allclose(torch.tensor(out.numpy()),
                          TF.conv2d(torch.ones(2, 3, 6, 6), torch.ones(4, 3, 3, 3), padding=1))
