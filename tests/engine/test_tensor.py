"""Tensor basics: creation, dtype policy, seeding, conversions, repr."""

import numpy as np
import pytest
import torch

import gradkit as gk


def test_dtype_policy():
    assert gk.tensor([1.5, 2.0]).dtype == np.float32
    assert gk.tensor(np.ones(3)).dtype == np.float64
    assert gk.tensor(np.ones(3, np.float32)).dtype == np.float32
    assert gk.tensor(np.ones(3, np.float16)).dtype == np.float16  # kept, as torch.tensor does
    assert gk.tensor([1, 2]).dtype == np.int64
    assert gk.tensor([True, False]).dtype == np.bool_
    assert gk.tensor(3.0).dtype == np.float32 and gk.tensor(3.0).shape == ()
    assert gk.tensor([1, 2], dtype=gk.float64).dtype == np.float64
    for make in (gk.randn, gk.rand, gk.zeros, gk.ones, gk.empty):
        assert make(2, 3).dtype == np.float32
    assert gk.arange(5).dtype == np.int64 and gk.arange(0.0, 1.0, 0.25).dtype == np.float32
    assert gk.linspace(0, 1, 5).dtype == np.float32 and gk.eye(3).dtype == np.float32


def test_casts():
    x = gk.tensor([1.7, -2.2], requires_grad=True)
    assert x.double().dtype == np.float64 and x.float() is x
    assert x.to(gk.float64).dtype == np.float64 and x.to("cpu") is x
    assert x.long().tolist() == [1, -2] and not x.long().requires_grad
    y = x.double() * 2
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 2.0]


def test_tensor_copies_but_from_numpy_and_numpy_share():
    a = np.zeros(3)
    t, f = gk.tensor(a), gk.from_numpy(a)
    a[0] = 5
    assert t.tolist() == [0.0, 0.0, 0.0] and f.tolist() == [5.0, 0.0, 0.0]
    assert f.numpy() is a and f.dtype == np.float64


def test_creation_matches_torch_shapes_and_values():
    assert gk.zeros(2, 3).shape == (2, 3) and gk.zeros((2, 3)).shape == (2, 3)
    assert gk.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert gk.full((2,), 7).dtype == np.int64
    x = gk.randn(4, 5)
    for like in (gk.zeros_like, gk.ones_like, gk.randn_like, gk.rand_like, gk.empty_like):
        assert like(x).shape == (4, 5) and like(x).dtype == np.float32
    assert gk.full_like(x, 2.0).numpy().sum() == 40.0
    np.testing.assert_allclose(gk.linspace(-1, 1, 7).numpy(), torch.linspace(-1, 1, 7).numpy(),
                               atol=1e-7)
    np.testing.assert_array_equal(gk.arange(1, 10, 3).numpy(), torch.arange(1, 10, 3).numpy())
    np.testing.assert_array_equal(gk.eye(2, 3).numpy(), torch.eye(2, 3).numpy())
    r = gk.randint(0, 5, (100,))
    assert r.dtype == np.int64 and 0 <= r.numpy().min() and r.numpy().max() < 5
    assert gk.randint(3, (4, 2)).shape == (4, 2)
    u = gk.rand(10_000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = gk.randn(10_000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05


def test_manual_seed_makes_every_draw_reproducible():
    def draws():
        return [gk.randn(3).numpy(), gk.rand(2).numpy(), gk.randint(0, 100, (4,)).numpy(),
                gk.empty(3).normal_(0, 2).numpy(), gk.empty(3).uniform_(-1, 1).numpy()]

    gk.manual_seed(42)
    first = draws()
    gk.manual_seed(42)
    second = draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    state = gk.get_rng_state()
    third = draws()
    gk.set_rng_state(state)
    for a, b in zip(third, draws()):
        np.testing.assert_array_equal(a, b)


def test_facts_and_conversions():
    x = gk.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and len(x) == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3 and x.numel() == 6
    assert x.T.shape == (3, 2) and x.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert x.sum().item() == 21.0 and isinstance(x.sum().item(), float)
    assert float(x[1, 2]) == 6.0 and int(gk.tensor(3)) == 3
    assert [row.tolist() for row in x] == [[1, 2, 3], [4, 5, 6]]
    assert np.asarray(x) is x.numpy()
    with pytest.raises(ValueError, match="one-element"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x > 0)
    with pytest.raises(TypeError, match="0-d"):
        len(gk.tensor(1.0))


def test_numpy_arrays_and_scalars_mix_without_upcasting():
    x = gk.ones(3)
    assert (x * np.float64(2.0)).dtype == np.float32
    assert (np.float32(2.0) * x).dtype == np.float32
    y = np.ones(3, np.float32) + x  # ndarray on the left defers to Tensor
    assert isinstance(y, gk.Tensor) and y.dtype == np.float32


def test_repr_is_useful():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    assert "dtype=float64" in repr(gk.tensor(np.ones(2)))
    assert repr(gk.tensor([1, 2])) == "tensor([1, 2])"


def test_setitem_writes_in_place_when_allowed():
    x = gk.zeros(2, 3)
    x[0, 1:] = 5.0
    x[gk.tensor([1])] = gk.ones(3)
    assert x.tolist() == [[0, 5, 5], [1, 1, 1]]


@pytest.mark.parametrize("bad", [np.array([object()]), np.array(["a"]), np.array([1 + 2j]),
                                 [object()], "abc"])
def test_tensor_refuses_non_numeric_data(bad):
    with pytest.raises(TypeError, match="cannot make a tensor"):
        gk.tensor(bad)
