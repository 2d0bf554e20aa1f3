"""nn.MultiheadAttention: PyTorch's layer, parameter for parameter (its state_dict loads
unchanged). The math is F.multi_head_attention_forward's, in gradkit/ops/mha.py.

Parameters: in_proj_weight (3E, E) when kdim = vdim = E, else q_proj_weight (E, E),
k_proj_weight (E, kdim), v_proj_weight (E, vdim); in_proj_bias (3E,); out_proj, a Linear
(state_dict keys out_proj.weight, out_proj.bias); bias_k, bias_v (1, 1, E) with add_bias_kv.
Init as PyTorch: xavier_uniform_ in-projections, zero biases, out_proj.weight
U(±1/√E) (kaiming_uniform_, a = √5), xavier_normal_ bias_k/bias_v.

    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    out, weights = mha(x, x, x)          # x (N, L, 16): out (N, L, 16), weights (N, L, L)
"""

import math

import numpy as np

from gradkit.devices import check_device
from gradkit.errors import ArgumentError
from gradkit.nn import init
from gradkit.nn.linear import Linear
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.ops.mha import attend, check_shapes, each_input
from gradkit.ops.shape import squeeze, transpose, unsqueeze

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads of embed_dim/num_heads each (Vaswani et al. 2017):
    out = concat_h softmax(q_h k_hᵀ/√d_h + mask) v_h · W_oᵀ + b_o, with q, k, v the input
    projections of query, key, value. Input (L, N, E), or (N, L, E) with ``batch_first``, or
    unbatched (L, E); key/value likewise with S and kdim/vdim. ``dropout`` drops attention
    weights in training mode. Masks (True = masked out) as in PyTorch: key_padding_mask
    (N, S), attn_mask (L, S) or (N·num_heads, L, S).

    Differences from PyTorch: no inference fast path (the results are the same, but a padded
    position of a batch is never returned as a NestedTensor's 0); float masks get no
    gradient; bad shapes raise ShapeError (PyTorch: AssertionError)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ArgumentError(f"MultiheadAttention: embed_dim and num_heads must be greater "
                                f"than 0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ArgumentError(f"MultiheadAttention: embed_dim must be divisible by "
                                f"num_heads, got embed_dim={embed_dim}, num_heads={num_heads}")
        super().__init__()
        check_device(type(self).__name__, device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads

        def param(*shape):
            return Parameter(np.empty(shape, dtype))
        separate = not self._qkv_same_embed_dim
        self.register_parameter("in_proj_weight", None if separate else param(3 * embed_dim,
                                                                                embed_dim))
        for name, width in (("q_proj_weight", embed_dim), ("k_proj_weight", self.kdim),
                            ("v_proj_weight", self.vdim)):
            self.register_parameter(name, param(embed_dim, width) if separate else None)
        self.register_parameter("in_proj_bias", param(3 * embed_dim) if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self.register_parameter("bias_k", param(1, 1, embed_dim) if add_bias_kv else None)
        self.register_parameter("bias_v", param(1, 1, embed_dim) if add_bias_kv else None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            if getattr(self, name) is not None:
                init.xavier_uniform_(getattr(self, name))
        init.kaiming_uniform_(self.out_proj.weight, a=math.sqrt(5))
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for name in ("bias_k", "bias_v"):
            if getattr(self, name) is not None:
                init.xavier_normal_(getattr(self, name))

    def _label(self):
        return f"MultiheadAttention(embed_dim={self.embed_dim})"

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """(attn_output, attn_output_weights): output shaped as the query; weights (N, L, S)
        averaged over heads or (N, num_heads, L, S) (unbatched: without N), or None when
        ``need_weights`` is False."""
        batched = check_shapes(self._label(), query, key, value, key_padding_mask, attn_mask,
                               self.num_heads, (self.embed_dim, self.kdim, self.vdim),
                               self.batch_first)
        if not batched:
            query, key, value = each_input(lambda x: unsqueeze(x, 0), query, key, value)
            key_padding_mask = None if key_padding_mask is None else unsqueeze(
                key_padding_mask, 0)
        elif not self.batch_first:
            query, key, value = each_input(lambda x: transpose(x, 0, 1), query, key, value)
        in_proj = self.in_proj_weight
        if not self._qkv_same_embed_dim:
            in_proj = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        bias_kv = None if self.bias_k is None else (self.bias_k, self.bias_v)
        out, weights = attend(query, key, value, self.num_heads, in_proj, self.in_proj_bias,
                              bias_kv, self.add_zero_attn, self.dropout if self.training
                              else 0.0, (self.out_proj.weight, self.out_proj.bias),
                              key_padding_mask, need_weights, attn_mask, average_attn_weights,
                              is_causal)
        if not batched:
            return squeeze(out, 0), None if weights is None else squeeze(weights, 0)
        if not self.batch_first:
            out = transpose(out, 0, 1)
        return out, weights

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")
