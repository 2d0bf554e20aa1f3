"""The pieces the Transformer layers share: the activation by name, PyTorch-initialised
Linear layers, the sequence shape check, PyTorch's causal-mask detection and generation
(masks as nn.MultiheadAttention takes them: True or −∞ = masked out), and the two bases:
TransformerLayer (what an encoder and a decoder layer both hold and do) and LayerStack (deep
copies of one layer, as TransformerEncoder and TransformerDecoder hold them)."""

import copy

import numpy as np

from gradkit.devices import check_device
from gradkit.errors import ArgumentError, ShapeError
from gradkit.nn import functional as F
from gradkit.nn import init
from gradkit.nn.attention import MultiheadAttention
from gradkit.nn.containers import ModuleList
from gradkit.nn.dropout import Dropout
from gradkit.nn.linear import Linear
from gradkit.nn.module import Module
from gradkit.nn.normalization import LayerNorm
from gradkit.tensor import Tensor


def activation_fn(activation):
    """'relu' / 'gelu' as F.relu / F.gelu; a callable (a function or a Module) as it is."""
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise ArgumentError(f"activation should be relu/gelu, not {activation}")


def torch_linear(in_features, out_features, bias, dtype):
    """A Linear initialised as PyTorch's (w, b ~ U(±1/√in_features))."""
    return init.torch_default_(Linear(in_features, out_features, bias=bias, dtype=dtype))


def check_sequence(label, name, x, d_model, batch_first):
    """Raise ShapeError naming ``label`` unless x is (S, N, d_model), (N, S, d_model) with
    ``batch_first``, or (S, d_model)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{label}: expected {name} to be a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        lead = "N, S" if batch_first else "S, N"
        want = {2: f"(S, {d_model})", 3: f"({lead}, {d_model})"}.get(
            x.ndim, f"({lead}, {d_model}) or (S, {d_model})")
        raise ShapeError(f"{label}: expected {name} {want}, got {tuple(x.shape)}")


def causal_reference(size, mask):
    """The square causal mask in ``mask``'s kind: True above the diagonal for a bool mask,
    −∞ there and 0 elsewhere for a float one."""
    above = np.triu(np.ones((size, size), bool), 1)
    return above if mask.dtype == bool else np.where(above, -np.inf, 0.0)


def detect_is_causal_mask(mask, is_causal, size):
    """PyTorch's rule: an explicit ``is_causal`` wins; when None, a mask equal to the square
    causal mask of ``size`` counts as causal."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    data = mask._data
    reference = causal_reference(size, data)
    return data.shape == reference.shape and bool(np.all(data == reference))


def square_subsequent_mask(size, dtype=None):
    """The float causal mask (size, size): −∞ above the diagonal, 0 on and below it."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    return Tensor(np.triu(np.full((size, size), -np.inf, dtype), 1))


def sequence_length(x, batch_first):
    """S of a (S, E), (S, N, E) or, with batch_first, (N, S, E) sequence."""
    return x.shape[1 if batch_first and x.ndim == 3 else 0]


class TransformerLayer(Module):
    """An encoder layer (``_blocks = 2``: self-attention, feed-forward) or a decoder layer
    (``_blocks = 3``: self-attention, attention to memory as ``multihead_attn``, feed-forward),
    its submodules made in PyTorch's order: self_attn, [multihead_attn], linear1, dropout,
    linear2, norm1 … norm<blocks>, dropout1 … dropout<blocks>.

        SA(x) = dropout1(self_attn(x, x, x))
        FF(x) = dropout<blocks>(linear2(dropout(act(linear1(x)))))"""

    _blocks = 2

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)
        attention = {"dropout": dropout, "bias": bias, "batch_first": batch_first,
                     "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        if self._blocks == 3:
            self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = torch_linear(d_model, dim_feedforward, bias, dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = torch_linear(dim_feedforward, d_model, bias, dtype)
        self.norm_first = norm_first
        for i in range(1, self._blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                                dtype=dtype))
        for i in range(1, self._blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = activation_fn(activation)
        self.d_model, self.batch_first = d_model, batch_first

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        last = getattr(self, f"dropout{self._blocks}")
        return last(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class LayerStack(Module):
    """``num_layers`` deep copies of one layer (``layers.0.…`` in the state_dict), then
    ``norm`` if given."""

    def __init__(self, layer, num_layers, norm, name):
        super().__init__()
        if not isinstance(layer, Module):
            raise TypeError(f"{type(self).__name__}: expected {name} to be a Module, got "
                            f"{type(layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def _is_causal(self, x, mask, is_causal):
        """PyTorch's rule, with the sequence length read as the first layer reads x."""
        first = self.layers[0] if self.num_layers else None
        size = sequence_length(x, getattr(first, "batch_first", False))
        return detect_is_causal_mask(mask, is_causal, size)

    def _normed(self, out):
        return out if self.norm is None else self.norm(out)
