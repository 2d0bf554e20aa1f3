"""The Transformer's encoder (Vaswani et al. 2017) as PyTorch builds it, with its submodule
names, so a PyTorch state_dict loads unchanged: TransformerEncoderLayer, TransformerEncoder
(and, from gradkit/nn/transformer_decoder.py, the decoder and nn.Transformer).

One encoder layer, x (S, N, E) or (N, S, E) with ``batch_first``, or unbatched (S, E):

    post-norm (default)   x = norm1(x + SA(x));        x = norm2(x + FF(x))
    norm_first            x = x + SA(norm1(x));        x = x + FF(norm2(x))
    SA(x) = dropout1(self_attn(x, x, x))   FF(x) = dropout2(linear2(dropout(act(linear1(x)))))

Masks are nn.MultiheadAttention's (True = masked out). The Linear layers start as PyTorch's
(U(±1/√fan_in), not gradkit's Linear default); a TransformerEncoder holds deep copies of its
layer (state_dict keys ``layers.0.…``). No inference fast path: a padded position comes out
computed, never as a NestedTensor's 0.

    layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, batch_first=True)
    encoder = nn.TransformerEncoder(layer, num_layers=2)
    out = encoder(x, src_key_padding_mask=padding)     # x (N, S, 64) -> (N, S, 64)
"""

from gradkit.devices import check_device
from gradkit.errors import ShapeError
from gradkit.nn import init
from gradkit.nn.module import Module
from gradkit.nn.normalization import LayerNorm
from gradkit.nn.transformer_decoder import TransformerDecoder, TransformerDecoderLayer
from gradkit.nn.transformer_parts import (LayerStack, TransformerLayer, check_sequence,
                                          square_subsequent_mask)

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
           "TransformerDecoder", "Transformer"]


class TransformerEncoderLayer(TransformerLayer):
    """Self-attention then a feed-forward block, each with a residual and a LayerNorm (after
    the sum by default, before the block with ``norm_first``); see the module docstring.
    ``activation``: 'relu', 'gelu' or a callable."""

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """src (S, N, E), (N, S, E) with batch_first, or (S, E) -> the same shape."""
        check_sequence(f"TransformerEncoderLayer(d_model={self.d_model})", "src", src,
                       self.d_model, self.batch_first)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerEncoder(LayerStack):
    """``num_layers`` deep copies of ``encoder_layer`` applied in turn, then ``norm`` if given.
    ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch compatibility (they
    steer PyTorch's inference fast path, which gradkit does not have)."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__(encoder_layer, num_layers, norm, "encoder_layer")
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """src (S, N, E), (N, S, E) with the layers' batch_first, or (S, E) -> the same.
        ``is_causal=None`` detects a causal ``mask`` as PyTorch does."""
        is_causal = self._is_causal(src, mask, is_causal)
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, is_causal=is_causal,
                        src_key_padding_mask=src_key_padding_mask)
        return self._normed(out)


class Transformer(Module):
    """The encoder-decoder of Vaswani et al. 2017: ``num_encoder_layers`` encoder layers and
    ``num_decoder_layers`` decoder layers, each stack ending in a LayerNorm (or
    ``custom_encoder`` / ``custom_decoder``); every matrix parameter starts xavier_uniform_,
    as in PyTorch. forward(src, tgt, …) -> the decoder's output, shaped as tgt."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias)

        def norm():
            return LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        if custom_encoder is None:
            custom_encoder = TransformerEncoder(TransformerEncoderLayer(*layer_args, dtype=dtype),
                                                num_encoder_layers, norm())
        if custom_decoder is None:
            custom_decoder = TransformerDecoder(TransformerDecoderLayer(*layer_args, dtype=dtype),
                                                num_decoder_layers, norm())
        self.encoder, self.decoder = custom_encoder, custom_decoder
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        label = f"Transformer(d_model={self.d_model})"
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_dim] != tgt.shape[batch_dim]):
            raise ShapeError(f"{label}: the batch number of src and tgt must be equal, got src "
                             f"{tuple(src.shape)} and tgt {tuple(tgt.shape)}")
        check_sequence(label, "src", src, self.d_model, self.batch_first)
        check_sequence(label, "tgt", tgt, self.d_model, self.batch_first)
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The causal float mask (sz, sz): −∞ above the diagonal, 0 elsewhere."""
        check_device("Transformer.generate_square_subsequent_mask", device)
        return square_subsequent_mask(sz, dtype)
