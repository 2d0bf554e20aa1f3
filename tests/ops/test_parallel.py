"""The op thread pool (ops/parallel.py): results in the order of the parts, errors raised in the
caller, nested and concurrent calls run serially; and convolutions whose chunks run on two
threads give bit for bit the numbers of one thread (and PyTorch's, to float rounding)."""

import functools
import threading
import time
import weakref

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
from gradkit.ops import chwn, conv, conv_select, parallel, shifted, winograd4
from gradkit.ops.conv import conv2d


@pytest.fixture
def pool():
    """Two pool threads for the test, then back to what it was."""
    before = parallel.threads()
    parallel.set_threads(2)
    yield
    parallel.set_threads(before)


def test_map_keeps_the_order_of_the_parts(pool):
    def slow_square(i):
        time.sleep(0.001 * (i % 3))  # chunks finish out of order
        return i * i

    assert parallel.map(slow_square, range(40)) == [i * i for i in range(40)]
    assert parallel.map(slow_square, []) == []
    assert parallel.map(slow_square, [7]) == [49]


def test_map_uses_a_second_thread(pool):
    names = parallel.map(lambda _: (time.sleep(0.01), threading.current_thread().name)[1],
                         range(8))
    assert threading.current_thread().name in names
    assert any(name.startswith("gradkit-op-") for name in names)


def test_workers_let_go_of_the_arrays_of_a_finished_map(pool):
    """A worker kept its last job, and the job the op's arrays: the Recycler could not hand
    their memory out again (fresh pages every step)."""
    def chunk(array, _):
        time.sleep(0.01)
        return threading.current_thread().name

    array = np.ones(1000)
    kept = weakref.ref(array)
    names = parallel.map(functools.partial(chunk, array), range(8))  # the job holds array
    assert any(name.startswith("gradkit-op-") for name in names)  # a worker took part
    del array
    deadline = time.monotonic() + 2
    while kept() is not None and time.monotonic() < deadline:
        time.sleep(0.01)  # the worker drops it right after handing its last chunk back
    assert kept() is None


def test_an_error_in_a_chunk_is_raised_in_the_caller_and_the_pool_still_works(pool):
    def fails_on_five(i):
        if i == 5:
            raise ZeroDivisionError(f"chunk {i}")
        return i

    with pytest.raises(ZeroDivisionError, match="chunk 5"):
        parallel.map(fails_on_five, range(20))
    assert parallel.map(lambda i: -i, range(6)) == [0, -1, -2, -3, -4, -5]


def test_a_nested_map_runs_serially_in_its_thread(pool):
    def outer(i):
        return parallel.map(lambda j: (i, j, threading.current_thread().name), range(3))

    for i, inner in enumerate(parallel.map(outer, range(4))):
        assert [(a, b) for a, b, _ in inner] == [(i, 0), (i, 1), (i, 2)]
        assert len({name for _, _, name in inner}) == 1  # all in the thread that ran chunk i


def test_user_threads_mapping_at_once_each_get_their_own_results(pool):
    results, errors = {}, []

    def user(k):
        try:
            for _ in range(20):
                got = parallel.map(lambda i: (k, i), range(10))
                assert got == [(k, i) for i in range(10)]
            results[k] = True
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=user, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(results) == [0, 1, 2, 3]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_threads_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match="integer >= 1"):
        parallel.set_threads(bad)


# (N, C, H, W), (O, kh, kw), stride, padding, dilation, groups, algorithm: every path whose
# chunks run on the pool (im2col forward, both im2col backwards, the shifted and chwn forwards
# and backwards), on batches split into many small chunks.
CASES = [
    ((9, 16, 9, 9), (16, 3, 3), 1, 1, 1, 1, "im2col"),    # backward: transposed (O <= C)
    ((9, 8, 9, 9), (16, 3, 3), 1, 1, 1, 1, "im2col"),     # backward: scattered (O > C)
    ((9, 8, 10, 11), (12, 3, 3), 2, 1, 1, 1, "im2col"),   # stride 2: scattered
    ((7, 8, 9, 9), (8, 3, 3), 1, 2, 2, 2, "im2col"),      # groups and dilation
    ((9, 3, 10, 10), (16, 3, 3), 1, 1, 1, 1, "im2col"),   # dW image by image (27 rows)
    ((7, 4, 9, 9), (6, 3, 3), 2, 1, 1, 2, "im2col"),      # the same, with groups
    ((9, 16, 9, 9), (16, 3, 3), 1, 1, 1, 1, "shifted"),
    ((7, 16, 8, 10), (24, 5, 3), 1, (2, 1), 1, 1, "shifted"),
    ((9, 16, 8, 8), (16, 3, 3), 1, 1, 1, 1, "chwn"),      # backward: transposed
    ((9, 6, 9, 9), (16, 5, 5), 1, 0, 1, 1, "chwn"),       # backward: scattered
    ((9, 8, 10, 11), (12, 3, 3), 2, 1, 2, 1, "chwn"),     # stride and dilation
    ((9, 8, 9, 10), (12, 3, 3), 1, 1, 1, 1, "winograd4"), # partial tiles
]


def _run(case, dtype, seed=0):
    xs, (O, kh, kw), stride, padding, dilation, groups, algorithm = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal((O, xs[1] // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    g = rng.standard_normal((xs[0], O) + _out_hw(xs, kh, kw, stride, padding, dilation))
    tx, tw, tb = (gk.tensor(a, requires_grad=True) for a in (x, w, b))
    with conv_select.conv_algorithm(algorithm):
        out = conv2d(tx, tw, tb, stride=stride, padding=padding, dilation=dilation,
                     groups=groups)
        out.backward(gk.tensor(g.astype(dtype)))
    return (x, w, b, g), [out.numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()]


def _out_hw(xs, kh, kw, stride, padding, dilation):
    pad = padding if isinstance(padding, tuple) else (padding, padding)
    return tuple((size + 2 * p - d * (k - 1) - 1) // stride + 1
                 for size, p, k, d in zip(xs[2:], pad, (kh, kw), (dilation, dilation)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[-1]}-{c[0]}-{c[1]}-s{c[2]}-g{c[5]}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_on_two_threads_is_bit_identical_to_one(case, dtype, monkeypatch):
    monkeypatch.setattr(conv, "_CHUNK_BYTES", 4096)  # about one image per chunk
    monkeypatch.setattr(shifted, "_CHUNK_BYTES", 4096)
    monkeypatch.setattr(chwn, "_CHUNK_BYTES", 4096)
    monkeypatch.setattr(winograd4, "CHUNK_BYTES", 4096)
    before = parallel.threads()
    try:
        parallel.set_threads(1)
        _, one = _run(case, dtype)
        parallel.set_threads(2)
        inputs, two = _run(case, dtype)
    finally:
        parallel.set_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)

    x, w, b, g = (torch.tensor(a) for a in inputs)
    x.requires_grad_(), w.requires_grad_(), b.requires_grad_()
    _, _, stride, padding, dilation, groups, _ = case
    out = TF.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    out.backward(g.to(out.dtype))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for mine, theirs in zip(two, (out, x.grad, w.grad, b.grad)):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("M, K, N, transposed", [
    (256, 300, 200, False), (257, 129, 131, True), (96, 1000, 64, False), (64, 64, 8, False)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_in_row_blocks_equals_one_product(M, K, N, transposed, dtype, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_SPLIT_FLOPS", 0)  # split even these small ones
    rng = np.random.default_rng(1)
    a = rng.standard_normal((K, M) if transposed else (M, K)).astype(dtype)
    a = a.T if transposed else a
    b = rng.standard_normal((K, N)).astype(dtype)
    before = parallel.threads()
    try:
        parallel.set_threads(2)
        split = parallel.matmul(a, b)
    finally:
        parallel.set_threads(before)
    assert split.shape == (M, N) and split.dtype == dtype
    np.testing.assert_array_equal(split, a @ b)  # each element: the same dot product


def test_small_products_are_not_split(pool, monkeypatch):
    calls = []
    monkeypatch.setattr(parallel, "map", lambda f, parts: calls.append(parts) or [])
    a, b = np.ones((512, 8), np.float32), np.ones((8, 8), np.float32)  # 65 kFLOP
    np.testing.assert_array_equal(parallel.matmul(a, b), np.full((512, 8), 8, np.float32))
    c = np.ones((40, 4000), np.float32)  # large, but too few rows for two blocks of 32
    np.testing.assert_array_equal(parallel.matmul(c, c.T), np.full((40, 40), 4000, np.float32))
    assert calls == []


@pytest.mark.parametrize("shape", [(96, 16, 32, 32), (1 << 20,), (3, 5), ()])
def test_relu_add_and_gradient_sums_in_slices_on_two_threads(pool, shape, monkeypatch):
    maps = []
    real_map = parallel.map
    monkeypatch.setattr(parallel, "map", lambda f, parts: maps.append(len(parts)) or
                        real_map(f, parts))
    rng = np.random.default_rng(0)
    x, c, g = (np.asarray(rng.standard_normal(shape), np.float32) for _ in range(3))
    t, u = gk.tensor(x, requires_grad=True), gk.tensor(c, requires_grad=True)
    h = t * 1.0  # a non-leaf used twice: its two gradients are summed by the engine
    y = gk.relu(h) + (h + u)  # relu, residual adds
    y.backward(gk.tensor(g))
    np.testing.assert_array_equal(y.numpy(), np.maximum(x, 0) + (x + c))
    np.testing.assert_array_equal(t.grad.numpy(), g * (x > 0) + g)
    np.testing.assert_array_equal(u.grad.numpy(), g)
    if x.nbytes >= parallel.PARALLEL_BYTES:  # relu forward and backward, two adds, the sum,
        assert maps == [max(4, x.nbytes >> 20)] * 5  # each in ~1 MB slices (at least 4)
    else:
        assert maps == []


def _train_losses(steps=3):
    """A small conv net + MLP head, SGD with momentum: the losses and the final weights."""
    gk.manual_seed(0)
    nn = gk.nn
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                          nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(32 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 10))
    return _trained(model, gk.randn(64, 3, 16, 16), gk.randint(0, 10, (64,)), steps)


def _trained(model, x, y, steps):
    """SGD with momentum on (x, y) for ``steps`` steps: the losses and the final weights."""
    opt = gk.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = gk.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.numpy().copy() for p in model.parameters()]


def test_training_gives_the_same_numbers_at_one_and_two_threads():
    _assert_same_at_one_and_two_threads(_train_losses)


class _Residual(gk.nn.Module):
    """relu(bn(conv(relu(bn(conv(x))))) + x): a ResNet basic block."""

    def __init__(self, channels):
        super().__init__()
        nn, c = gk.nn, channels
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)

    def forward(self, x):
        out = gk.nn.functional.relu(self.bn1(self.conv1(x)))
        return gk.nn.functional.relu(self.bn2(self.conv2(out)) + x)


def _train_resnet_losses(steps=2):
    """A small ResNet whose activations are large enough (4 MB at 16 channels, 32×32, batch
    64) for every op-thread path: shifted and winograd4 convolutions, BatchNorm's and ReLU's
    slices, the residual Add and the engine's gradient sums."""
    gk.manual_seed(0)
    nn = gk.nn
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                          _Residual(16), nn.Conv2d(16, 64, 3, stride=4, padding=1),
                          nn.BatchNorm2d(64), nn.ReLU(), _Residual(64),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    return _trained(model, gk.randn(64, 3, 32, 32), gk.randint(0, 10, (64,)), steps)


def test_a_resnet_trains_to_the_same_numbers_at_one_and_two_threads(monkeypatch):
    used = set()
    choose = conv_select.choose
    monkeypatch.setattr(conv_select, "choose", lambda geo: used.add(choose(geo)) or choose(geo))
    _assert_same_at_one_and_two_threads(_train_resnet_losses)
    assert {"shifted", "winograd4"} <= used


def _assert_same_at_one_and_two_threads(train):
    before = gk.get_num_threads()
    try:
        gk.set_num_threads(1)
        one = train()
        gk.set_num_threads(2)
        two = train()
    finally:
        gk.set_num_threads(before)
    assert one[0] == two[0]
    for a, b in zip(one[1], two[1]):
        np.testing.assert_array_equal(a, b)


def _conv_in_child(queue):
    rng = np.random.default_rng(0)
    x = gk.tensor(rng.standard_normal((16, 16, 12, 12)).astype(np.float32))
    w = gk.tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32))
    names = parallel.map(lambda _: (time.sleep(0.01), threading.current_thread().name)[1],
                         range(8))
    queue.put((parallel.threads(), conv2d(x, w, padding=1).numpy().sum(),
               any(name.startswith("gradkit-op-") for name in names)))


def test_a_forked_child_runs_ops_on_its_own_pool(pool):
    import multiprocessing

    parallel.map(lambda i: i, range(8))  # the parent's workers exist and have run
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_conv_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0, "the child hung or failed"
    threads, total, used_a_worker = queue.get(timeout=5)
    assert used_a_worker  # the parent's workers are not in the child: new ones started
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 16, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    expected = conv2d(gk.tensor(x), gk.tensor(w), padding=1).numpy().sum()
    assert threads == 2 and total == expected
