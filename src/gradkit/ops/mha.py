"""Multi-head attention (Vaswani et al. 2017) as PyTorch computes it, built from gradkit ops:

    q, k, v = x_q W_qᵀ + b_q,  x_k W_kᵀ + b_k,  x_v W_vᵀ + b_v        each (N, L|S, E)
    split E into H heads of E/H;  per head  o_h = softmax(q_h k_hᵀ / √(E/H) + mask) v_h
    out = concat_h(o_h) W_oᵀ + b_o

Masks follow nn.MultiheadAttention (the opposite of F.scaled_dot_product_attention): a bool
``attn_mask`` (L, S) or (N·H, L, S) and ``key_padding_mask`` (N, S) mark with True what is
*masked out*; float masks are added to the scores (they are constants here: no gradient
flows into a float mask, where PyTorch would give one). ``add_bias_kv`` appends the learned
rows bias_k/bias_v to the keys and values, ``add_zero_attn`` a row of zeros; both extend the
masks with a column of 0. With ``need_weights`` the weights are formed explicitly (a fully
masked row gives NaN, as in PyTorch); without, the heads go through one
F.scaled_dot_product_attention (a fully masked row gives 0, as there).

    out, weights = multi_head_attention_forward(q, k, v, 8, 2, w_in, b_in, None, None,
                                                False, 0.0, w_out, b_out)
"""

import math

import numpy as np

from gradkit import random
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.arithmetic import Mul, matmul
from gradkit.ops.linear import linear
from gradkit.ops.reduce import mean, softmax
from gradkit.ops.sdpa import scaled_dot_product_attention
from gradkit.ops.shape import cat, permute, reshape, split, squeeze, transpose, unsqueeze
from gradkit.tensor import Tensor

__all__ = ["multi_head_attention_forward"]


def _shape_text(dims):
    return "(" + ", ".join(str(d) for d in dims) + ")"


def check_shapes(label, query, key, value, key_padding_mask, attn_mask, num_heads, dims,
                 batch_first=False):
    """Raise ShapeError naming ``label`` unless the inputs fit multi-head attention with
    ``dims`` = (embed_dim, kdim, vdim); return whether the input is batched."""
    embed_dim, kdim, vdim = dims
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{label}: expected {name} to be a Tensor, got {type(t).__name__}")
    batched = query.ndim == 3
    lead = ("N", "L") if batch_first else ("L", "N")
    if query.ndim not in (2, 3) or query.shape[-1] != embed_dim:
        three, two = _shape_text(lead + (embed_dim,)), f"(L, {embed_dim})"
        want = {3: three, 2: two}.get(query.ndim, f"{three} or {two}")
        raise ShapeError(f"{label}: expected query {want}, got {tuple(query.shape)}")
    n = query.shape[0 if batch_first else 1] if batched else None
    seq = 1 if batch_first and batched else 0
    s_len = key.shape[seq] if key.ndim == query.ndim else None
    for name, t, width in (("key", key, kdim), ("value", value, vdim)):
        expected = ((n, "S") if batch_first else ("S", n)) if batched else ("S",)
        fits = (t.ndim == query.ndim and t.shape[-1] == width and t.shape[seq] == s_len
                and (not batched or t.shape[1 - seq] == n))
        if not fits:
            raise ShapeError(f"{label}: expected {name} {_shape_text(expected + (width,))} "
                             f"to go with query {tuple(query.shape)}, got {tuple(t.shape)}")
    if key_padding_mask is not None:
        want = (n, s_len) if batched else (s_len,)
        if tuple(key_padding_mask.shape) != want:
            raise ShapeError(f"{label}: expected key_padding_mask {_shape_text(want)}, got "
                             f"{tuple(key_padding_mask.shape)}")
    if attn_mask is not None:
        length = query.shape[seq]
        heads = num_heads * (n if batched else 1)
        if tuple(attn_mask.shape) not in ((length, s_len), (heads, length, s_len)):
            raise ShapeError(f"{label}: expected attn_mask ({length}, {s_len}) or "
                             f"({heads}, {length}, {s_len}) (N·num_heads, L, S), got "
                             f"{tuple(attn_mask.shape)}")
    return batched


def _additive(mask, dtype, name):
    """A mask as a float array to add to the scores: bool True -> −∞, float as it is."""
    if mask is None:
        return None
    data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype == bool:
        return np.where(data, dtype.type(-np.inf), dtype.type(0))
    if data.dtype.kind != "f":
        raise ArgumentError(f"multi_head_attention_forward: only bool and floating types of "
                            f"{name} are supported, got {data.dtype}")
    return data.astype(dtype, copy=False)


def _project(query, key, value, weights, bias, embed_dim):
    """q, k, v = the three input projections; one GEMM for self-attention, as PyTorch.
    ``weights`` is in_proj_weight (3E, ·) or the three separate weights."""
    e = embed_dim
    if not isinstance(weights, Tensor):
        biases = (None,) * 3 if bias is None else split(bias, e)
        return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))
    if key is value and query is key:
        return split(linear(query, weights, bias), e, dim=-1)
    if key is value:
        q_bias, kv_bias = (None, None) if bias is None else (bias[:e], bias[e:])
        return (linear(query, weights[:e], q_bias),
                *split(linear(key, weights[e:], kv_bias), e, dim=-1))
    biases = (None,) * 3 if bias is None else split(bias, e)
    return tuple(linear(x, weights[i * e:(i + 1) * e], b)
                 for i, (x, b) in enumerate(zip((query, key, value), biases)))


def _heads(x, num_heads):
    """(N, S, E) -> (N, H, S, E/H)."""
    n, s, e = x.shape
    return permute(reshape(x, n, s, num_heads, e // num_heads), 0, 2, 1, 3)


def _merged_mask(attn_mask, key_padding_mask, n, num_heads, extra):
    """attn_mask and key_padding_mask (additive arrays) as one (N|1, H|1, L|1, S) array, with
    ``extra`` zero columns for bias_k/bias_v and the zero-attention row."""
    merged = None
    if attn_mask is not None:
        length, s = attn_mask.shape[-2:]
        merged = attn_mask.reshape((1, 1, length, s) if attn_mask.ndim == 2
                                   else (n, num_heads, length, s))
    if key_padding_mask is not None:
        padding = key_padding_mask.reshape(n, 1, 1, key_padding_mask.shape[-1])
        merged = padding if merged is None else merged + padding
    if merged is not None and extra:
        merged = np.pad(merged, [(0, 0)] * 3 + [(0, extra)])
    return merged


def attend(query, key, value, num_heads, in_proj, in_proj_bias, bias_kv, add_zero_attn,
           dropout_p, out_proj, key_padding_mask=None, need_weights=True, attn_mask=None,
           average_attn_weights=True, is_causal=False, static_kv=(None, None)):
    """The batch-first core: query (N, L, E), key (N, S, kdim), value (N, S, vdim); masks as
    nn.MultiheadAttention takes them for batched input. ``in_proj`` is in_proj_weight or the
    tuple (q_proj_weight, k_proj_weight, v_proj_weight); ``bias_kv`` is (bias_k, bias_v) or
    None; ``out_proj`` is (weight, bias). Returns (out (N, L, E), weights or None)."""
    n, length, embed_dim = query.shape
    dtype = query.dtype
    padding = _additive(key_padding_mask, dtype, "key_padding_mask")
    if is_causal and attn_mask is None:
        raise ArgumentError("multi_head_attention_forward: need attn_mask if specifying the "
                            "is_causal hint (nn.Transformer.generate_square_subsequent_mask "
                            "makes one)")
    if is_causal and padding is None and not need_weights:
        mask = None
    else:
        mask = _additive(attn_mask, dtype, "attn_mask")
        is_causal = is_causal and padding is None
    q, k, v = _project(query, key, value, in_proj, in_proj_bias, embed_dim)
    if bias_kv is not None:
        bias_k, bias_v = (b.expand(n, 1, embed_dim) for b in bias_kv)
        k, v = cat([k, bias_k], dim=1), cat([v, bias_v], dim=1)
    q = _heads(q, num_heads)
    head_dim = embed_dim // num_heads
    k = _heads(k, num_heads) if static_kv[0] is None else reshape(static_kv[0], n, num_heads,
                                                                    -1, head_dim)
    v = _heads(v, num_heads) if static_kv[1] is None else reshape(static_kv[1], n, num_heads,
                                                                    -1, head_dim)
    if add_zero_attn:
        zeros = Tensor._make(np.zeros((n, num_heads, 1, head_dim), dtype), None)
        k, v = cat([k, zeros], dim=2), cat([v, zeros], dim=2)
    extra = int(bias_kv is not None) + int(bool(add_zero_attn))
    mask = _merged_mask(mask, padding, n, num_heads, extra)
    weights = None
    if need_weights:
        scores = matmul(q * (1.0 / math.sqrt(head_dim)), transpose(k, -2, -1))
        if mask is not None:
            scores = scores + Tensor._make(mask, None)
        weights = softmax(scores, dim=-1)
        if dropout_p > 0:  # the weights returned are the dropped ones, as in PyTorch
            keep = random.uniform(weights.shape, dtype=dtype) >= dropout_p
            scale = dtype.type(0.0 if dropout_p == 1 else 1.0 / (1.0 - dropout_p))
            weights = Mul.apply(weights, Tensor._make(keep * scale, None))
        out = matmul(weights, v)
        if average_attn_weights:
            weights = mean(weights, dim=1)
    else:
        mask = None if mask is None else Tensor._make(mask, None)
        out = scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)
    out = reshape(permute(out, 0, 2, 1, 3), n, length, embed_dim)
    return linear(out, *out_proj), weights


def each_input(fn, query, key, value):
    """fn applied to query, key and value, once per distinct tensor, so that ``key is value``
    and ``query is key`` stay true (the self-attention check of _project relies on them)."""
    q = fn(query)
    k = q if key is query else fn(key)
    v = k if value is key else (q if value is query else fn(value))
    return q, k, v


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """PyTorch's F.multi_head_attention_forward: query (L, N, E) or (L, E), key (S, N, kdim),
    value (S, N, vdim) -> (attn_output (L, N, E), attn_weights (N, L, S) averaged over heads,
    (N, H, L, S) per head, or None); unbatched input drops N. Dropout on the attention
    weights only when ``training``."""
    label = "multi_head_attention_forward"
    separate = use_separate_proj_weight
    in_proj = (q_proj_weight, k_proj_weight, v_proj_weight) if separate else in_proj_weight
    dims = ((embed_dim_to_check, k_proj_weight.shape[1], v_proj_weight.shape[1]) if separate
            else (embed_dim_to_check,) * 3)
    batched = check_shapes(label, query, key, value, key_padding_mask, attn_mask, num_heads,
                           dims)
    if embed_dim_to_check % num_heads:
        raise ArgumentError(f"{label}: embed_dim {embed_dim_to_check} not divisible by "
                            f"num_heads {num_heads}")
    if (bias_k is None) != (bias_v is None):
        raise ArgumentError(f"{label}: bias_k and bias_v must be given together")
    if bias_k is not None and (static_k is not None or static_v is not None):
        raise ArgumentError(f"{label}: bias cannot be added to a static key or value")
    if not batched:
        query, key, value = each_input(lambda x: unsqueeze(x, 1), query, key, value)
        if key_padding_mask is not None:
            key_padding_mask = unsqueeze(key_padding_mask, 0)
    query, key, value = each_input(lambda x: transpose(x, 0, 1), query, key, value)
    out, weights = attend(query, key, value, num_heads, in_proj, in_proj_bias,
                          None if bias_k is None else (bias_k, bias_v), add_zero_attn,
                          dropout_p if training else 0.0, (out_proj_weight, out_proj_bias),
                          key_padding_mask, need_weights, attn_mask, average_attn_weights,
                          is_causal, (static_k, static_v))
    out = transpose(out, 0, 1)
    if not batched:
        out = squeeze(out, 1)
        weights = None if weights is None else squeeze(weights, 0)
    return out, weights
