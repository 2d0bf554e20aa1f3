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

from gradkit.nn.transformer_parts import LayerStack, TransformerLayer, check_sequence

__all__ = ["TransformerDecoderLayer", "TransformerDecoder"]


class TransformerDecoderLayer(TransformerLayer):
    """Self-attention over tgt, attention from tgt to memory, then a feed-forward block, each
    with a residual and a LayerNorm (see the module docstring)."""

    _blocks = 3

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

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)


class TransformerDecoder(LayerStack):
    """``num_layers`` deep copies of ``decoder_layer`` applied in turn, then ``norm``."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__(decoder_layer, num_layers, norm, "decoder_layer")

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """tgt, memory as TransformerDecoderLayer takes them; ``tgt_is_causal=None`` detects a
        causal ``tgt_mask`` as PyTorch does."""
        tgt_is_causal = self._is_causal(tgt, tgt_mask, tgt_is_causal)
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask,
                        memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self._normed(out)
