"""F.embedding_bag and nn.EmbeddingBag against PyTorch: modes sum/mean/max, 2-d input and 1-d
input with offsets (empty bags, include_last_offset), per_sample_weights (with their
gradient), padding_idx, scale_grad_by_freq, max_norm, float32/float64, gradcheck, the layer's
init, repr and from_pretrained, and bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit import nn
from gradkit.autograd import gradcheck
from gradkit.nn import functional as F

IDX = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0, 4])
OFFSETS = np.array([0, 4, 4, 7])


def run(dtype, indices, offsets=None, psw=None, **options):
    """Forward values and the gradients of weight (and per_sample_weights) in both."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((10, 5)).astype(dtype)
    gw, tw = gk.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    gp = tp = None
    if psw is not None:
        gp, tp = gk.tensor(psw, requires_grad=True), torch.tensor(psw, requires_grad=True)
    g_off = None if offsets is None else gk.tensor(offsets)
    t_off = None if offsets is None else torch.tensor(offsets)
    out = F.embedding_bag(gk.tensor(indices), gw, g_off, per_sample_weights=gp, **options)
    ref = TF.embedding_bag(torch.tensor(indices), tw, t_off, per_sample_weights=tp, **options)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    assert out.dtype == dtype and out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **tol)
    g = rng.standard_normal(ref.shape).astype(dtype)
    out.backward(gk.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), **tol)
    if psw is not None:
        np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 4, -1])
def test_offsets_modes_padding(mode, padding_idx, dtype):
    run(dtype, IDX, OFFSETS, mode=mode, padding_idx=padding_idx)
    run(dtype, IDX, np.append(OFFSETS, 11), mode=mode, padding_idx=padding_idx,
        include_last_offset=True)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_two_d_input_and_int32(mode):
    run(np.float64, IDX[:10].reshape(2, 5), mode=mode)
    run(np.float64, IDX[:10].reshape(5, 2).astype(np.int32), mode=mode, padding_idx=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_per_sample_weights(dtype):
    psw = np.random.default_rng(1).standard_normal(IDX.shape).astype(dtype)
    run(dtype, IDX, OFFSETS, psw=psw, mode="sum")
    run(dtype, IDX, OFFSETS, psw=psw, mode="sum", padding_idx=2)
    run(dtype, IDX[:10].reshape(2, 5), psw=psw[:10].reshape(2, 5), mode="sum")


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_scale_grad_by_freq_and_max_norm(mode):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((10, 5))
    gw, tw = gk.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.embedding_bag(gk.tensor(IDX), gw, gk.tensor(OFFSETS), mode=mode,
                    scale_grad_by_freq=True).backward(gk.ones(4, 5, dtype=gk.float64))
    # PyTorch's embedding_bag divides by misplaced counts (see the module docstring of
    # ops/embedding.py); the reference is F.embedding's scaling, then the bags' reduction.
    bags = torch.tensor(np.searchsorted(OFFSETS, np.arange(IDX.size), side="right") - 1)
    sizes = torch.bincount(bags, minlength=4).clamp(min=1).double()
    rows = TF.embedding(torch.tensor(IDX), tw, scale_grad_by_freq=True)
    if mode == "mean":
        rows = rows / sizes[bags][:, None]
    torch.zeros(4, 5, dtype=torch.float64).index_add(0, bags, rows).sum().backward()
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-10)
    run(np.float64, np.array([3, 1, 7, 0]), np.array([0, 2]), mode=mode,
        scale_grad_by_freq=True)
    rng = np.random.default_rng(3)
    w = rng.standard_normal((10, 5)) * 3
    gw, tw = gk.tensor(w.copy()), torch.tensor(w.copy())
    out = F.embedding_bag(gk.tensor(IDX), gw, gk.tensor(OFFSETS), max_norm=1.5, mode=mode)
    ref = TF.embedding_bag(torch.tensor(IDX), tw, torch.tensor(OFFSETS), max_norm=1.5,
                           mode=mode)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gw.numpy(), tw.numpy(), rtol=1e-10)


def test_empty_input_and_all_empty_bags():
    run(np.float64, np.array([], np.int64), np.array([0, 0, 0]), mode="mean")
    run(np.float64, np.array([], np.int64), np.array([0, 0, 0]), mode="max")


def test_gradcheck():
    rng = np.random.default_rng(4)
    w = gk.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    p = gk.tensor(rng.standard_normal(7), requires_grad=True)
    idx, off = gk.tensor(np.array([0, 1, 5, 2, 2, 3, 1])), gk.tensor(np.array([0, 3, 3]))
    assert gradcheck(lambda a, b: F.embedding_bag(idx, a, off, mode="sum",
                                                  per_sample_weights=b), (w, p))
    assert gradcheck(lambda a: F.embedding_bag(idx, a, off, mode="mean", padding_idx=2), (w,))
    assert gradcheck(lambda a: F.embedding_bag(idx, a, off, mode="max"), (w,))


def test_layer_matches_pytorch():
    layer = nn.EmbeddingBag(10, 5, mode="max", padding_idx=3)
    ref = torch.nn.EmbeddingBag(10, 5, mode="max", padding_idx=3)
    assert np.all(layer.weight.numpy()[3] == 0) and layer.weight.dtype == np.float32
    ref.weight.data = torch.tensor(layer.weight.numpy())
    x, off = IDX, OFFSETS
    np.testing.assert_allclose(layer(gk.tensor(x), gk.tensor(off)).numpy(),
                               ref(torch.tensor(x), torch.tensor(off)).detach().numpy())
    assert repr(layer) == repr(ref)
    bag = nn.EmbeddingBag(10, 5, mode="sum", include_last_offset=True, max_norm=1.0)
    assert repr(bag) == repr(torch.nn.EmbeddingBag(10, 5, mode="sum",
                                                   include_last_offset=True, max_norm=1.0))
    table = gk.randn(4, 2)
    pre = nn.EmbeddingBag.from_pretrained(table, mode="sum")
    assert not pre.weight.requires_grad and pre.mode == "sum"
    assert nn.EmbeddingBag.from_pretrained(table, freeze=False).weight.requires_grad
    out = pre(gk.tensor(np.array([[0, 1], [2, 3]])))
    np.testing.assert_allclose(out.numpy(), table.numpy().reshape(2, 2, 2).sum(1), rtol=1e-6)


def test_bad_arguments():
    w = gk.randn(10, 3)
    idx = gk.tensor(IDX)
    with pytest.raises(ValueError, match="offsets has to be"):
        F.embedding_bag(idx, w)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(gk.tensor(IDX[:10].reshape(2, 5)), w, gk.tensor(np.array([0])))
    with pytest.raises(ValueError, match="mode"):
        F.embedding_bag(idx, w, gk.tensor(OFFSETS), mode="min")
    with pytest.raises(NotImplementedError):
        F.embedding_bag(idx, w, gk.tensor(OFFSETS), mode="mean",
                        per_sample_weights=gk.randn(11))
    with pytest.raises(ValueError, match="max mode"):
        F.embedding_bag(idx, w, gk.tensor(OFFSETS), mode="max", scale_grad_by_freq=True)
    with pytest.raises(ValueError, match="offsets\\[0\\]"):
        F.embedding_bag(idx, w, gk.tensor(np.array([1, 4])))
    with pytest.raises(ValueError, match="per_sample_weights"):
        F.embedding_bag(idx, w, gk.tensor(OFFSETS), mode="sum", per_sample_weights=gk.randn(3))
    with pytest.raises(IndexError):
        F.embedding_bag(gk.tensor(np.array([0, 10])), w, gk.tensor(np.array([0])))
    with pytest.raises(ValueError):
        F.embedding_bag(gk.tensor(np.zeros((2, 2, 2), np.int64)), w)
    with pytest.raises(ValueError):
        nn.EmbeddingBag(5, 2, mode="prod")
    with pytest.raises(ValueError):
        nn.EmbeddingBag(5, 2, padding_idx=5)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 7), max_size=12), st.lists(st.integers(0, 12), max_size=4),
       st.sampled_from(["sum", "mean", "max"]))
def test_drawn_bags(indices, cuts, mode):
    indices = np.array(indices, np.int64)
    offsets = np.array([0] + sorted(min(c, indices.size) for c in cuts), np.int64)
    run(np.float64, indices, offsets, mode=mode)
