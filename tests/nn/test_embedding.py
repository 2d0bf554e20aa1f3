"""nn.Embedding and F.embedding against PyTorch: lookups of int64/int32 indices of any shape,
gradients accumulating over duplicates, padding_idx, scale_grad_by_freq, max_norm renorm in
place, from_pretrained, state_dict, errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import nn
from gradkit.autograd.check import gradcheck

TF = torch.nn.functional


def compare(indices, weight, dtype=np.float64, tol=1e-12, **kw):
    """Forward, the weight's gradient and the weight after the call, gradkit vs PyTorch."""
    weight = weight.astype(dtype)
    wg, wt = gk.tensor(weight.copy(), requires_grad=True), torch.tensor(weight.copy(),
                                                                      requires_grad=True)
    out_g = F.embedding(gk.tensor(indices), wg, **kw)
    out_t = TF.embedding(torch.tensor(indices), wt, **kw)
    assert out_g.shape == tuple(out_t.shape) and out_g.dtype == dtype
    np.testing.assert_allclose(out_g.numpy(), out_t.detach().numpy(), rtol=tol, atol=tol)
    up = np.random.default_rng(1).standard_normal(out_g.shape).astype(dtype)
    out_g.backward(gk.tensor(up))
    out_t.backward(torch.tensor(up))
    assert wg.grad.dtype == dtype
    np.testing.assert_allclose(wg.grad.numpy(), wt.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(wg.numpy(), wt.detach().numpy(), rtol=tol, atol=tol)


WEIGHT = np.random.default_rng(0).standard_normal((6, 4))


@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("indices, kw", [
    ([[1, 2, 2], [5, 0, 2]], {}), ([3], {}), (4, {}), (np.zeros((0, 3)), {}),
    ([[1, 2, 2], [5, 0, 0]], {"padding_idx": 0}), ([1, 5, 5], {"padding_idx": -1}),
    ([[1, 2, 2, 2], [3, 1, 0, 4]], {"scale_grad_by_freq": True}),
    ([[1, 2, 2, 2], [3, 1, 0, 4]], {"scale_grad_by_freq": True, "padding_idx": 2}),
    ([[1, 2, 2], [5, 3, 1]], {"max_norm": 1.0}),
    ([[1, 2, 2], [5, 3, 1]], {"max_norm": 1.5, "norm_type": 1.0}),
])
def test_embedding_matches_torch(index_dtype, dtype, indices, kw):
    tol = 1e-12 if dtype == np.float64 else 1e-6
    compare(np.array(indices).astype(index_dtype), WEIGHT, dtype, tol, **kw)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=0, max_size=3), st.integers(1, 4))
def test_embedding_any_index_shape(shape, seed):
    indices = np.random.default_rng(seed).integers(0, 6, size=shape)
    compare(indices, WEIGHT)


def test_embedding_gradcheck_and_non_contiguous_indices():
    w = gk.tensor(WEIGHT, requires_grad=True)
    idx = gk.tensor(np.array([[0, 1, 1], [4, 4, 4]]))
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))  # padding_idx: compare() only
    assert gradcheck(lambda w: F.embedding(idx.t(), w), (w,))  # scale_grad_by_freq: neither


def test_embedding_layer_init_state_dict_and_repr():
    gk.manual_seed(0)
    e = nn.Embedding(10, 3, padding_idx=2)
    assert e.weight.shape == (10, 3) and e.weight.dtype == np.float32
    np.testing.assert_array_equal(e.weight.numpy()[2], 0)
    assert abs(float(e.weight.numpy().std()) - 1) < 0.5
    t = torch.nn.Embedding(10, 3, padding_idx=2)
    e.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(e.weight.numpy(), t.weight.detach().numpy())
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    assert repr(e) == repr(t)
    assert repr(nn.Embedding(4, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)) == (
        repr(torch.nn.Embedding(4, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)))
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    assert nn.Embedding(5, 2, dtype=gk.float64).weight.dtype == np.float64


def test_embedding_layer_matches_torch_in_training():
    t = torch.nn.Embedding(7, 3, padding_idx=0, max_norm=1.2).double()
    g = nn.Embedding(7, 3, padding_idx=0, max_norm=1.2).double()
    g.load_state_dict({k: v.numpy().copy() for k, v in t.state_dict().items()})
    idx = np.array([[0, 3, 3], [6, 1, 3]])
    out_t, out_g = t(torch.tensor(idx)), g(gk.tensor(idx))
    np.testing.assert_allclose(out_g.numpy(), out_t.detach().numpy(), rtol=1e-12)
    out_t.sum().backward()
    out_g.sum().backward()
    np.testing.assert_allclose(g.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.weight.numpy(), t.weight.detach().numpy(), rtol=1e-12)


def test_from_pretrained_freeze_and_padding():
    table = gk.tensor(WEIGHT)
    e = nn.Embedding.from_pretrained(table, padding_idx=1)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(WEIGHT), padding_idx=1)
    assert not e.weight.requires_grad and e.padding_idx == 1 and repr(e) == repr(t)
    np.testing.assert_array_equal(e(gk.tensor([1, 2])).numpy(), WEIGHT[[1, 2]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False)
    trainable(gk.tensor([0, 0, 3])).sum().backward()
    np.testing.assert_array_equal(trainable.weight.grad.numpy()[:, 0], [2, 0, 0, 1, 0, 0])
    with pytest.raises(ValueError, match="from_pretrained"):
        nn.Embedding.from_pretrained(gk.zeros(3))


def test_embedding_errors():
    e = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"index 7 .*num_embeddings=5"):
        e(gk.tensor([1, 7]))
    with pytest.raises(IndexError, match=r"index -1"):
        e(gk.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="int64 or int32"):
        e(gk.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(gk.tensor([1]), gk.zeros(5, 2), padding_idx=-6)
    with pytest.raises(NotImplementedError):
        nn.Embedding(5, 2, sparse=True)
    with pytest.raises(TypeError, match="Embedding"):
        e([1, 2])
