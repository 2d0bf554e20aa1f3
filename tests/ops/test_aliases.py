"""torch.* aliases and small ops of ops/aliases.py against PyTorch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.autograd.check import gradcheck
from tests.oracle import check


@pytest.mark.parametrize("name", ["absolute", "negative"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unary_aliases(name, dtype):
    check([(3, 4)], getattr(torch, name), getattr(gk, name), dtype=dtype)


@pytest.mark.parametrize("name", ["multiply", "subtract", "divide", "true_divide"])
def test_binary_aliases(name):
    check([(3, 4), (4,)], getattr(torch, name), getattr(gk, name), low=0.5)


@pytest.mark.parametrize("name", ["greater", "greater_equal", "less", "less_equal",
                                  "not_equal"])
def test_comparison_aliases(name):
    check([(3, 4), (4,)], getattr(torch, name), getattr(gk, name), grad=False)


def test_subtract_alpha_divide_rounding_clamp_min_max():
    check([(3, 4), (3, 4)], lambda a, b: torch.subtract(a, b, alpha=2.5),
          lambda a, b: gk.subtract(a, b, alpha=2.5))
    check([(5,), (5,)], lambda a, b: torch.divide(a, b, rounding_mode="floor"),
          lambda a, b: gk.divide(a, b, rounding_mode="floor"), grad=False)
    check([(3, 4)], lambda a: torch.clamp_min(a, 0.2), lambda a: gk.clamp_min(a, 0.2))
    check([(3, 4)], lambda a: torch.clamp_max(a, 0.2), lambda a: gk.clamp_max(a, 0.2))
    check([(2, 3), (4, 3)], lambda a, b: torch.concatenate([a, b]),
          lambda a, b: gk.concatenate([a, b]))


def test_sgn_values_and_zero_gradient():
    check([(3, 4)], torch.sgn, gk.sgn, grad=False)
    x = gk.tensor([1.0, -2.0], requires_grad=True)
    gk.sgn(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


def test_positive():
    x = gk.tensor([1.0, -2.0])
    assert gk.positive(x) is x
    with pytest.raises(RuntimeError):
        torch.positive(torch.tensor([True]))
    with pytest.raises(RuntimeError):
        gk.positive(gk.tensor([True]))


def test_facts():
    values = [np.zeros((2, 3), np.float32), np.zeros(3, np.int64), np.zeros(2, np.bool_),
              np.zeros(2, np.uint8), np.zeros((), np.float64)]
    for a in values:
        t, g = torch.tensor(a), gk.tensor(a)
        assert gk.numel(g) == torch.numel(t)
        assert gk.is_floating_point(g) == torch.is_floating_point(t)
        assert gk.is_signed(g) == torch.is_signed(t)
    assert gk.is_tensor(gk.ones(1)) and not gk.is_tensor(np.ones(1))
    assert gk.is_same_size(gk.ones(2, 3), gk.zeros(2, 3))
    assert not gk.is_same_size(gk.ones(2, 3), gk.zeros(3, 2))
    assert gk.is_nonzero(gk.tensor([1.5])) and not gk.is_nonzero(gk.tensor(0))
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.is_nonzero(lib.ones(2))
        with pytest.raises(RuntimeError):
            lib.is_nonzero(lib.ones(0))
    assert gk.equal(gk.tensor([1.0, 2.0]), gk.tensor([1.0, 2.0]))
    assert not gk.equal(gk.tensor([1.0, 2.0]), gk.tensor([1.0, 3.0]))
    assert not gk.equal(gk.tensor([1.0, 2.0]), gk.tensor([[1.0, 2.0]]))


def test_clone_detach_t():
    check([(3, 4)], torch.clone, gk.clone)
    check([(3, 4)], torch.t, gk.t)
    check([(4,)], torch.t, gk.t)
    x = gk.ones(2, requires_grad=True)
    d = gk.detach(x)
    assert not d.requires_grad and d.numpy() is x.numpy()


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind_and_select(dim):
    check([(2, 3, 4)], lambda a: torch.stack(torch.unbind(a, dim), 0),
          lambda a: gk.stack(gk.unbind(a, dim), 0))
    check([(2, 3, 4)], lambda a: torch.select(a, dim, -1), lambda a: gk.select(a, dim, -1))
    for lib in (torch, gk):
        with pytest.raises(IndexError):
            lib.select(lib.ones(2, 3), 1, 3)


@pytest.mark.parametrize("spec", [1, 2, 3, 5, [1, 3], [0, 9], [-2], [3, 1], (2, 2)])
def test_tensor_split(spec):
    x = np.random.default_rng(0).standard_normal((4, 7))
    t_parts = torch.tensor_split(torch.tensor(x), spec, dim=1)
    g_parts = gk.tensor_split(gk.tensor(x), spec, dim=1)
    assert len(t_parts) == len(g_parts)
    for t, g in zip(t_parts, g_parts):
        assert g.shape == tuple(t.shape)
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    check([(4, 7)], lambda a: torch.cat(torch.tensor_split(a, spec, dim=1)[:1], 1),
          lambda a: gk.cat(gk.tensor_split(a, spec, dim=1)[:1], 1))


def test_tensor_split_tensor_spec_and_errors():
    x = np.arange(10.0)
    for spec in (torch.tensor(3), torch.tensor([2, 5])):
        t_parts = torch.tensor_split(torch.tensor(x), spec)
        g_parts = gk.tensor_split(gk.tensor(x), gk.tensor(spec.numpy()))
        assert [p.tolist() for p in t_parts] == [p.tolist() for p in g_parts]
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.tensor_split(lib.ones(4), 0)


def test_hsplit_vsplit_split_with_sizes():
    x = np.random.default_rng(1).standard_normal((4, 6))
    for fn, spec in (("hsplit", 3), ("hsplit", [1, 4]), ("vsplit", 2), ("vsplit", [3])):
        t_parts = getattr(torch, fn)(torch.tensor(x), spec)
        g_parts = getattr(gk, fn)(gk.tensor(x), spec)
        assert [p.tolist() for p in t_parts] == [p.tolist() for p in g_parts]
    assert [p.tolist() for p in gk.hsplit(gk.arange(6), 2)] == [[0, 1, 2], [3, 4, 5]]
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.hsplit(lib.ones(4, 5), 2)
        with pytest.raises(RuntimeError):
            lib.vsplit(lib.ones(4), 2)
    check([(4, 6)], lambda a: torch.split_with_sizes(a, [1, 5], 1)[1],
          lambda a: gk.split_with_sizes(a, [1, 5], 1)[1])


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 6])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (2, 0), (-1, -2)])
def test_rot90(k, dims):
    check([(2, 3, 4)], lambda a: torch.rot90(a, k, dims), lambda a: gk.rot90(a, k, dims))


def test_rot90_errors():
    for lib in (torch, gk):
        for args in ((1, (0,)), (1, (0, 0))):
            with pytest.raises(RuntimeError):
                lib.rot90(lib.ones(2, 3), *args)
        with pytest.raises(RuntimeError):
            lib.rot90(lib.ones(3))


@pytest.mark.parametrize("offset", [0, 1, -2])
def test_diagflat(offset):
    check([(2, 3)], lambda a: torch.diagflat(a, offset), lambda a: gk.diagflat(a, offset))


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_values_and_gradients(accumulate):
    rows, cols = np.array([0, 2, 0, 1]), np.array([1, 1, 1, 0])
    check([(3, 4), (4,)],
          lambda x, v: torch.index_put(x, (torch.tensor(rows), torch.tensor(cols)), v,
                                       accumulate),
          lambda x, v: gk.index_put(x, (gk.tensor(rows), gk.tensor(cols)), v, accumulate))
    mask = np.array([True, False, True])
    check([(3, 4), (4,)],
          lambda x, v: torch.index_put(x, (torch.tensor(mask),), v, accumulate),
          lambda x, v: gk.index_put(x, (gk.tensor(mask),), v, accumulate))


def test_index_put_accumulate_gradcheck_and_float32():
    idx = (gk.tensor([0, 0, 2]),)
    x = gk.tensor(np.random.default_rng(2).standard_normal((3, 2)), requires_grad=True)
    v = gk.tensor(np.random.default_rng(3).standard_normal((3, 2)), requires_grad=True)
    assert gradcheck(lambda a, b: gk.index_put(a, idx, b, accumulate=True), (x, v))
    check([(3, 2), (2,)], lambda x, v: torch.index_put(x, (torch.tensor([1, 1]),), v, True),
          lambda x, v: gk.index_put(x, (gk.tensor([1, 1]),), v, True), dtype=np.float32)
    with pytest.raises(TypeError):
        gk.index_put(gk.ones(3), gk.tensor([0]), gk.tensor(1.0))


def test_f_functions_under_torch_names():
    check([(2, 3, 8), (4, 3, 3)], torch.conv1d, gk.conv1d)
    check([(1, 2, 5, 5), (3, 2, 3, 3), (3,)], lambda x, w, b: torch.conv2d(x, w, b, 1, 1),
          lambda x, w, b: gk.conv2d(x, w, b, 1, 1))
    check([(1, 2, 4, 4, 4), (3, 2, 2, 2, 2)], torch.conv3d, gk.conv3d)
    check([(1, 2, 5), (2, 3, 3)], lambda x, w: torch.conv_transpose1d(x, w, stride=2),
          lambda x, w: gk.conv_transpose1d(x, w, stride=2))
    check([(1, 2, 4, 4), (2, 3, 3, 3)], torch.conv_transpose2d, gk.conv_transpose2d)
    check([(1, 2, 3, 3, 3), (2, 1, 2, 2, 2)], torch.conv_transpose3d, gk.conv_transpose3d)
    check([(2, 3, 9)], lambda x: torch.avg_pool1d(x, 3, 2), lambda x: gk.avg_pool1d(x, 3, 2))
    check([(2, 3, 9)], lambda x: torch.adaptive_avg_pool1d(x, 4),
          lambda x: gk.adaptive_avg_pool1d(x, 4))
    check([(2, 3, 9)], lambda x: torch.max_pool1d(x, 3), lambda x: gk.max_pool1d(x, 3))
    check([(2, 3, 6, 6)], lambda x: torch.max_pool2d(x, 2, 1, 1),
          lambda x: gk.max_pool2d(x, 2, 1, 1))
    check([(1, 2, 4, 4, 4)], lambda x: torch.max_pool3d(x, 2), lambda x: gk.max_pool3d(x, 2))
    check([(4, 5), (4, 5)], torch.cosine_similarity, gk.cosine_similarity)
    check([(4, 5), (4, 5)], torch.pairwise_distance, gk.pairwise_distance)
    check([(4, 2), (4, 3), (5, 2, 3)], torch.bilinear, gk.bilinear)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 9), sections=st.integers(1, 5))
def test_tensor_split_sizes_hypothesis(n, sections):
    t_sizes = [p.shape[0] for p in torch.tensor_split(torch.arange(n), sections)]
    g_sizes = [p.shape[0] for p in gk.tensor_split(gk.arange(n), sections)]
    assert g_sizes == t_sizes
