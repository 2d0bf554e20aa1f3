"""The backward engine: accumulation, hooks, retain_grad, deep graphs, grad modes, errors."""

import numpy as np
import pytest
import torch

import gradkit as gk


def test_gradients_accumulate_across_backward_calls_like_torch():
    a = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for _ in range(3):
        (a * a).sum().backward()
        (t * t).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy())
    assert a.grad.numpy().tolist() == [6.0, 12.0, 18.0]


def test_leaf_grads_never_share_memory():
    a = gk.ones(3, requires_grad=True)
    b = gk.ones(3, requires_grad=True)
    (a + b).sum().backward()  # add's backward hands the same array to both inputs
    a.grad.mul_(10)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    c = gk.ones(2, 3, requires_grad=True)
    c.sum().backward()  # sum's backward is a read-only broadcast view
    c.grad.add_(1)
    assert c.grad.numpy().flags.writeable and c.grad.tolist() == [[2.0] * 3] * 2


def test_chain_of_100k_ops_does_not_recurse():
    x = gk.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-5
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_no_grad_builds_no_graph_and_enable_grad_restores():
    x = gk.randn(3, requires_grad=True)
    with gk.no_grad():
        y = x * 2
        assert not y.requires_grad and y.grad_fn is None
        with gk.enable_grad():
            z = x * 2
        assert z.requires_grad
    assert gk.is_grad_enabled()
    gk.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    gk.set_grad_enabled(True)
    with gk.set_grad_enabled(False):
        assert not gk.is_grad_enabled()
    assert gk.is_grad_enabled()

    @gk.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad and gk.is_grad_enabled()


def test_hooks_fire_once_with_the_right_gradient():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    seen_leaf, seen_mid = [], []
    x.register_hook(lambda g: seen_leaf.append(g.numpy().copy()))
    y = x * 3
    y.register_hook(lambda g: seen_mid.append(g.numpy().copy()))
    z = (y * y).sum() + y.sum()  # y used twice: its hook still fires once, with the total
    z.backward()
    assert len(seen_mid) == 1 and seen_mid[0].tolist() == [7.0, 13.0]
    assert len(seen_leaf) == 1 and seen_leaf[0].tolist() == [21.0, 39.0]


def test_hook_can_replace_the_gradient_and_be_removed():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 0)
    (x * 5).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    handle.remove()
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_retain_grad_matches_torch():
    x = gk.tensor([1.0, -2.0, 3.0], requires_grad=True)
    t = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    gy, ty = x.exp(), t.exp()
    gy.retain_grad()
    ty.retain_grad()
    (gy * x).sum().backward()
    (ty * t).sum().backward()
    np.testing.assert_allclose(gy.grad.numpy(), ty.grad.numpy(), rtol=1e-6)
    assert gy.retains_grad and not gy.is_leaf and x.is_leaf
    z = x * 2
    z.sum().backward()
    assert z.grad is None  # non-leaf grads are not kept unless asked


def test_backward_twice_needs_retain_graph():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_on_non_scalar_explains_what_to_pass():
    y = gk.randn(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\) needs a `gradient`.*ones_like"):
        y.backward()
    y.backward(gk.ones_like(y))


def test_backward_without_graph_and_bad_gradient_shape():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gk.ones(3).sum().backward()
    y = gk.randn(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        y.backward(gk.ones(3))


def test_detach_and_data_cut_the_graph_but_share_memory():
    x = gk.randn(3, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.numpy() is x.numpy()
    assert x.data.numpy() is x.numpy() and not x.data.requires_grad


def test_inplace_on_a_leaf_that_requires_grad_is_refused_under_grad_mode():
    w = gk.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 1
    with gk.no_grad():
        w -= 1
        w.mul_(2).add_(gk.ones(3), alpha=3)
    assert w.tolist() == [3.0, 3.0, 3.0] and w.requires_grad


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating-point"):
        gk.tensor([1, 2]).requires_grad_()
    y = gk.randn(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_mixed_float_dtypes_are_refused_with_both_named():
    a, b = gk.ones(3), gk.ones(3, dtype=gk.float64)
    with pytest.raises(TypeError, match="add: dtype mismatch, float32 and float64"):
        a + b
    with pytest.raises(TypeError, match="matmul: dtype mismatch"):
        gk.ones(2, 2) @ gk.ones(2, 2, dtype=gk.float64)


def test_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        gk.ones(2, 3) @ gk.ones(4, 5)
    with pytest.raises(ValueError, match=r"reshape: .*shape \(2, 3\).*\(4,\)"):
        gk.ones(2, 3).reshape(4)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\)"):
        gk.cat([gk.ones(2, 3), gk.ones(2, 4)])
    with pytest.raises(ValueError, match="operands could not be broadcast"):
        gk.ones(2, 3) + gk.ones(4)


def test_float32_graph_stays_float32_end_to_end():
    x = gk.randn(4, 3, requires_grad=True)
    w = gk.randn(3, 2, requires_grad=True)
    h = (x @ w).tanh() * np.float64(2.5) + np.sqrt(2.0)
    loss = (h.softmax(dim=1).log().mean() + h.var() + h.std(dim=0).sum() + gk.gelu(h).sum()
            + h.sigmoid().logsumexp(dim=0).sum() + (h ** 2).mean() + h.max() + h.abs().sum())
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
