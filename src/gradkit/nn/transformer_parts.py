"""The pieces the Transformer layers share: the activation by name, PyTorch-initialised
Linear layers, the sequence shape check, and PyTorch's causal-mask detection and
generation (masks as nn.MultiheadAttention takes them: True or −∞ = masked out)."""

import numpy as np

from gradkit.errors import ArgumentError, ShapeError
from gradkit.nn import functional as F
from gradkit.nn import init
from gradkit.nn.linear import Linear
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
