"""F.scaled_dot_product_attention against PyTorch: values and every gradient, masks, causal,
GQA, dropout, edge shapes, bad input (nn.MultiheadAttention: test_multihead_attention.py)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd.check import gradcheck
from gradkit.errors import ArgumentError, ShapeError
from tests.oracle import check

TF = torch.nn.functional


# ----- scaled_dot_product_attention -----

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sdpa_plain(dtype):
    check([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], TF.scaled_dot_product_attention,
          F.scaled_dot_product_attention, dtype=dtype)


def test_sdpa_broadcast_batch_and_scale():
    check([(2, 3, 4, 5), (1, 3, 6, 5), (3, 6, 7)],
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, scale=0.3),
          lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3))


def test_sdpa_unbatched_2d():
    check([(4, 5), (6, 5), (6, 3)], TF.scaled_dot_product_attention,
          F.scaled_dot_product_attention)


@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 4, 6), (1, 6), (2, 3, 4, 6)])
def test_sdpa_bool_mask(mask_shape):
    keep = np.random.default_rng(3).random(mask_shape) > 0.4
    keep[..., 0] = True
    check([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)],
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(keep)),
          lambda q, k, v: F.scaled_dot_product_attention(q, k, v, gk.tensor(keep)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sdpa_float_mask_gets_a_gradient(dtype):
    check([(2, 4, 5), (2, 6, 5), (2, 6, 7), (4, 6)], TF.scaled_dot_product_attention,
          F.scaled_dot_product_attention, dtype=dtype)


def test_sdpa_float32_mask_with_float64_query():
    mask = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    check([(2, 4, 5), (2, 6, 5), (2, 6, 7)],
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(mask)),
          lambda q, k, v: F.scaled_dot_product_attention(q, k, v, gk.tensor(mask)))


@pytest.mark.parametrize("length,source", [(5, 5), (3, 6), (6, 3)])
def test_sdpa_causal_top_left(length, source):
    check([(2, length, 4), (2, source, 4), (2, source, 3)],
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
          lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True))


@pytest.mark.parametrize("as_float", [False, True])
def test_sdpa_fully_masked_row_gives_zero_as_torch(as_float):
    keep = np.ones((4, 6), bool)
    keep[1] = False
    mask = np.where(keep, 0.0, -np.inf) if as_float else keep
    check([(2, 4, 5), (2, 6, 5), (2, 6, 7)],
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(mask)),
          lambda q, k, v: F.scaled_dot_product_attention(q, k, v, gk.tensor(mask)))
    q = gk.ones(1, 4, 5)
    out = F.scaled_dot_product_attention(q, gk.ones(1, 6, 5), gk.ones(1, 6, 7),
                                         gk.tensor(mask.astype(np.float32) if as_float else keep))
    assert np.all(out.numpy()[:, 1] == 0)


def test_sdpa_gqa():
    check([(2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 7)],
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True),
          lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True))


def test_sdpa_non_contiguous_input():
    check([(2, 5, 4), (2, 5, 6), (2, 6, 7)],
          lambda q, k, v: TF.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(
              -1, -2), v),
          lambda q, k, v: F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(
              -1, -2), v))


@pytest.mark.parametrize("shapes", [[(2, 0, 5), (2, 6, 5), (2, 6, 7)],
                                    [(2, 4, 5), (2, 0, 5), (2, 0, 7)],
                                    [(0, 4, 5), (0, 6, 5), (0, 6, 7)],
                                    [(1, 1, 1), (1, 1, 1), (1, 1, 1)]])
def test_sdpa_empty_and_size_one(shapes):
    check(shapes, TF.scaled_dot_product_attention, F.scaled_dot_product_attention)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4),
       st.integers(1, 4))
def test_sdpa_hypothesis_shapes(batch, length, source, e, ev):
    check([(batch, length, e), (batch, source, e), (batch, source, ev)],
          TF.scaled_dot_product_attention, F.scaled_dot_product_attention)


def test_sdpa_gradcheck():
    rng = np.random.default_rng(0)
    q, k, v, m = (gk.tensor(rng.standard_normal(s), requires_grad=True)
                  for s in [(2, 3, 4), (2, 5, 4), (2, 5, 2), (3, 5)])
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), (q, k, v, m))
    keep = gk.tensor(rng.random((3, 5)) > 0.3)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, keep), (q, k, v))


def test_sdpa_dropout_keeps_the_mean_and_is_off_at_zero():
    gk.manual_seed(0)
    q, k = gk.zeros(1, 200, 4), gk.zeros(1, 50, 4)
    v = gk.ones(1, 50, 3)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    assert abs(out.mean() - 1.0) < 0.05 and out.std() > 0.05
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)


def test_sdpa_dropout_gradient_uses_the_same_mask():
    rng = np.random.default_rng(0)
    q, k, v = (gk.tensor(rng.standard_normal(s), requires_grad=True)
               for s in [(2, 3, 4), (2, 5, 4), (2, 5, 2)])

    def fn(q, k, v):
        gk.manual_seed(7)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    assert gradcheck(fn, (q, k, v))


def test_sdpa_bad_input():
    q, k, v = gk.zeros(2, 4, 5), gk.zeros(2, 6, 5), gk.zeros(2, 6, 7)
    with pytest.raises(ShapeError, match="scaled_dot_product_attention"):
        F.scaled_dot_product_attention(gk.zeros(5), k, v)
    with pytest.raises(ShapeError, match=r"\(2, 6, 4\)"):
        F.scaled_dot_product_attention(q, gk.zeros(2, 6, 4), v)
    with pytest.raises(ShapeError):
        F.scaled_dot_product_attention(q, k, gk.zeros(2, 5, 7))
    with pytest.raises(ShapeError, match="attn_mask"):
        F.scaled_dot_product_attention(q, k, v, gk.zeros(3, 4, 6))
    with pytest.raises(ShapeError, match="attn_mask"):
        F.scaled_dot_product_attention(q, k, v, gk.zeros(1, 2, 4, 6))
    with pytest.raises(ArgumentError, match="bool or float"):
        F.scaled_dot_product_attention(q, k, v, gk.tensor(np.ones((4, 6), np.int64)))
    with pytest.raises(ArgumentError, match="same dtype"):
        F.scaled_dot_product_attention(q.double(), k, v)
    with pytest.raises(ArgumentError, match="between 0 and 1"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)
    with pytest.raises(ArgumentError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, gk.zeros(4, 6), is_causal=True)
    with pytest.raises(ShapeError, match="enable_gqa"):
        F.scaled_dot_product_attention(gk.zeros(1, 3, 4, 5), gk.zeros(1, 2, 6, 5),
                                       gk.zeros(1, 2, 6, 5), enable_gqa=True)
    with pytest.raises(ShapeError, match="enable_gqa"):
        F.scaled_dot_product_attention(gk.zeros(4, 5), gk.zeros(6, 5), gk.zeros(6, 5),
                                       enable_gqa=True)
    with pytest.raises(RuntimeError):  # torch's exception type for all of the above
        F.scaled_dot_product_attention(gk.zeros(2, 4, 4, 5), gk.zeros(2, 2, 6, 5),
                                       gk.zeros(2, 2, 6, 5))
