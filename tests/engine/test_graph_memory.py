"""What the graph keeps alive: an op whose backward reads none of its inputs' arrays (ReLU,
BatchNorm, Add, Sub) keeps only an Edge of each large non-leaf input, so the activation it
read is freed once nothing else uses it, as in PyTorch; gradients, hooks, in-place changes
and their errors behave exactly as before (checked against PyTorch)."""

import gc
import weakref

import numpy as np
import pytest
import torch

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd.engine import Edge


def _pair(seed=0):
    x = np.random.default_rng(seed).standard_normal((8, 4, 16, 16))
    conv, bn = gk.nn.Conv2d(4, 8, 3, padding=1).double(), gk.nn.BatchNorm2d(8).double()
    tconv, tbn = torch.nn.Conv2d(4, 8, 3, padding=1).double(), torch.nn.BatchNorm2d(8).double()
    with torch.no_grad():
        tconv.weight.copy_(torch.tensor(conv.weight.numpy()))
        tconv.bias.copy_(torch.tensor(conv.bias.numpy()))
    return x, (conv, bn), (tconv, tbn)


def test_the_activations_batchnorm_and_relu_read_are_freed_after_forward():
    x, (conv, bn), _ = _pair()
    h = conv(gk.tensor(x))  # (8, 8, 16, 16) float64: 128 kB
    z = bn(h)
    h_array, z_array = weakref.ref(h._data), weakref.ref(z._data)
    y = F.relu(z)
    assert isinstance(y.grad_fn.inputs[0], Edge) and isinstance(z.grad_fn.inputs[0], Edge)
    del h, z
    gc.collect()
    assert h_array() is None and z_array() is None  # nothing in the graph holds them
    y.sum().backward()
    assert conv.weight.grad is not None and bn.weight.grad is not None


def test_gradients_through_freed_activations_match_pytorch():
    x, (conv, bn), (tconv, tbn) = _pair(1)
    out = F.relu(bn(conv(gk.tensor(x, requires_grad=True))) - 0.5) + 1.0
    (out * out).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.relu(tbn(tconv(tx)) - 0.5) + 1.0
    (tout * tout).sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, theirs in [(conv.weight, tconv.weight), (conv.bias, tconv.bias),
                         (bn.weight, tbn.weight), (bn.bias, tbn.bias)]:
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10,
                                   atol=1e-10)


def test_a_tensor_with_a_hook_or_retained_grad_is_kept_and_its_hook_runs():
    x, (conv, bn), _ = _pair()
    seen = []
    h = conv(gk.tensor(x))
    h.register_hook(lambda g: seen.append(g.shape))
    z = bn(h)
    z.retain_grad()
    y = F.relu(z)
    assert z.grad_fn.inputs[0] is h and y.grad_fn.inputs[0] is z  # kept whole
    y.sum().backward()
    assert seen == [(8, 8, 16, 16)]
    assert z.grad is not None and z.grad.shape == (8, 8, 16, 16)


def test_small_inputs_stay_whole():
    a = gk.tensor(np.ones((4, 4)), requires_grad=True) * 2.0
    b = a + 1.0
    assert b.grad_fn.inputs[0] is a  # 128 bytes: an Edge would cost more than it frees


def test_an_input_changed_in_place_after_the_op_routes_its_gradient_as_in_pytorch():
    x = np.random.default_rng(2).standard_normal((64, 300))  # 150 kB: ReLU keeps an Edge
    results = []
    for lib in (gk, torch):
        w = lib.tensor(x, requires_grad=True)
        a = w * 3.0
        b = a.relu()
        a.mul_(2.0)  # a's later uses see the change; b's gradient still goes through w * 3
        (b.sum() + a.sum()).backward()
        results.append((b.detach().numpy(), w.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])


def test_a_saved_output_changed_in_place_still_raises_pytorchs_error():
    x = np.random.default_rng(3).standard_normal((64, 300))
    w = gk.tensor(x, requires_grad=True)
    b = (w * 1.0).relu()  # ReLU saves its output
    b.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_fusing_batchnorm_still_finds_its_convolution():
    model = gk.nn.Sequential(gk.nn.Conv2d(3, 8, 3, padding=1), gk.nn.BatchNorm2d(8),
                             gk.nn.ReLU(), gk.nn.Conv2d(8, 8, 3), gk.nn.BatchNorm2d(8)).double()
    model.eval()
    x = gk.tensor(np.random.default_rng(4).standard_normal((2, 3, 32, 32)))
    with gk.no_grad():
        before = model(x).numpy()
    gk.nn.utils.fuse_conv_bn(model, x[:1])
    assert not any(isinstance(m, gk.nn.BatchNorm2d) for m in model.modules())
    with gk.no_grad():
        np.testing.assert_allclose(model(x).numpy(), before, rtol=1e-10, atol=1e-10)


def test_a_hook_runs_even_when_its_tensor_was_dropped_as_in_pytorch():
    x = np.arange(6.0).reshape(2, 3)
    seen = {}
    for lib in (gk, torch):
        w = lib.tensor(x, requires_grad=True)
        y = w * 2.0
        y.register_hook(lambda g, lib=lib: seen.__setitem__(lib.__name__, g.numpy().copy()))
        handle = y.register_hook(lambda g: g * 10.0)
        z = (y * 3.0).sum()
        del y
        z.backward()
        seen[lib.__name__ + " grad"] = w.grad.numpy().copy()
        handle.remove()
    np.testing.assert_array_equal(seen["gradkit"], seen["torch"])
    np.testing.assert_array_equal(seen["gradkit grad"], seen["torch grad"])
    np.testing.assert_array_equal(seen["gradkit grad"], np.full((2, 3), 60.0))


def test_large_residual_sums_in_recycled_memory_stay_right_across_steps():
    """Add's output and the sum of two gradient contributions come from recycled buffers
    when large (ops/scratch.py): values as PyTorch's, and a leaf's .grad is its own array,
    untouched when the next step reuses the buffers."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((512, 1024)).astype(np.float32) for _ in range(2)]  # 2 MB

    def step(lib, a):
        x = lib.tensor(a, requires_grad=True)
        h = x * 2.0
        y = (h + h.relu()) + h * h  # two Adds of 2 MB, and h's gradient summed from three
        y.sum().backward()
        return y.detach().numpy().copy() if lib is torch else y.numpy().copy(), x

    results = [step(gk, a) for a in arrays]
    for (out, x), a in zip(results, arrays):
        expected_out, tx = step(torch, a)
        np.testing.assert_allclose(out, expected_out, rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
