"""The Transformer's decoder as PyTorch builds it (exported by gradkit/nn/transformer.py):
TransformerDecoderLayer and TransformerDecoder, with PyTorch's submodule names.

One decoder layer, tgt (T, N, E) and memory (S, N, E) (batch first with ``batch_first``):

    post-norm (default)   x = norm1(x + SA(x));   x = norm2(x + MA(x, m));   x = norm3(x + FF(x))
    norm_first            x = x + SA(norm1(x));   x = x + MA(norm2(x), m);   x = x + FF(norm3(x))
    SA(x) = dropout1(self_attn(x, x, x))          MA(x, m) = dropout2(multihead_attn(x, m, m))
    FF(x) = dropout3(linear2(dropout(act(linear1(x)))))

    layer = nn.TransformerDecoderLayer(d_model=64, nhead=4, batch_first=True)
    causal = nn.Transformer.generate_square_subsequent_mask(T)
    out = nn.TransformerDecoder(layer, 2)(tgt, memory, tgt_mask=causal, tgt_is_causal=True)
"""

import copy

from gradkit.devices import check_device
from gradkit.nn.attention import MultiheadAttention
from gradkit.nn.containers import ModuleList
from gradkit.nn.dropout import Dropout
from gradkit.nn.module import Module
from gradkit.nn.normalization import LayerNorm
from gradkit.nn.transformer_parts import (activation_fn, check_sequence, detect_is_causal_mask,
                                          sequence_length, torch_linear)

__all__ = ["TransformerDecoderLayer", "TransformerDecoder"]


class TransformerDecoderLayer(Module):
    """Self-attention over tgt, attention from tgt to memory, then a feed-forward block, each
    with a residual and a LayerNorm (see the module docstring)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self.linear1 = torch_linear(d_model, dim_feedforward, bias, dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = torch_linear(dim_feedforward, d_model, bias, dtype)
        self.norm_first = norm_first
        for i in (1, 2, 3):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                                dtype=dtype))
        for i in (1, 2, 3):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = activation_fn(activation)
        self.d_model, self.batch_first = d_model, batch_first

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """tgt (T, N, E), memory (S, N, E) (batch first with batch_first; unbatched without
        N) -> the shape of tgt."""
        label = f"TransformerDecoderLayer(d_model={self.d_model})"
        check_sequence(label, "tgt", tgt, self.d_model, self.batch_first)
        check_sequence(label, "memory", memory, self.d_model, self.batch_first)
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` applied in turn, then ``norm``."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"TransformerDecoder: expected decoder_layer to be a Module, got "
                            f"{type(decoder_layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """tgt, memory as TransformerDecoderLayer takes them; ``tgt_is_causal=None`` detects a
        causal ``tgt_mask`` as PyTorch does."""
        first = self.layers[0] if self.num_layers else None
        size = sequence_length(tgt, getattr(first, "batch_first", False))
        tgt_is_causal = detect_is_causal_mask(tgt_mask, tgt_is_causal, size)
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask,
                        memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)
