"""Attention for F: scaled_dot_product_attention (one Function, in gradkit/ops/sdpa.py) and
multi_head_attention_forward (gradkit/ops/mha.py), with PyTorch's conventions:

    q: (…, L, E)   k: (…, S, E)   v: (…, S, Ev)   out: (…, L, Ev)   (batch dims broadcast)
    A = scale · q kᵀ + mask        scale = 1/√E unless given
    P = softmax(A) along S         out = P v

A boolean ``attn_mask`` says which (query, key) pairs *take part* (True = attend; the others
get −∞); a float mask is added to A. A row with every key masked out gives P = 0, so out = 0
and no gradient, as PyTorch's safe softmax does. ``is_causal`` is the top-left aligned mask
tril(ones(L, S)). Note nn.MultiheadAttention's masks mean the opposite (True = masked out).

    out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=0.1)
"""

from gradkit.ops.mha import multi_head_attention_forward
from gradkit.ops.sdpa import scaled_dot_product_attention

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]
