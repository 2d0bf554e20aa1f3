"""Dropout variants (PyTorch's F names): channel dropout (dropout1d, dropout2d, dropout3d) and
the SELU-preserving alpha dropout (alpha_dropout, feature_alpha_dropout).

Every variant is out = x·m·s + t with a random keep mask m ~ Bernoulli(1 − p) (``p`` the
probability of dropping, as in PyTorch), drawn from gradkit.random:

    element-wise (alpha_dropout):        m has the input's shape
    channel-wise (the others):           m is (N, C, 1, …, 1): a whole channel kept or dropped
    dropout1d/2d/3d:                     s = 1/(1 − p),  t = 0            (E[out] = x)
    alpha dropout (Klambauer et al.):    a = ((1 − p)(1 + p·α′²))^(−1/2),  α′ = λα of SELU
                                         s = a,  t = a·α′·(m − 1 + p): a dropped unit
                                         becomes a·α′·(p − 1), a kept one a·x + a·α′·p

so standard-normal input keeps mean 0 and variance 1. ``p = 1`` gives zeros, ``p = 0`` or
eval mode the input itself. dx = g·m·s. Unbatched input (C, L) to dropout1d and (C, D, H, W)
to dropout3d drops channels of the one sample; dropout2d, as PyTorch, reads 3-D input as
(N, C, L) with a warning.
"""

import warnings

import numpy as np

from gradkit import random
from gradkit.autograd.function import Function
from gradkit.errors import ShapeError

__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

SELU_ALPHA_SCALE = 1.7580993408473766  # λα of SELU: −λα is its limit at −∞, a dropped unit


class MaskedAffine(Function):
    """out = x·s + t, s and t constant arrays broadcasting to x;  dx = g·s."""

    def forward(self, x, scale, shift):
        self.scale = scale
        out = x * scale
        if shift is not None:
            out += shift
        return out

    def backward(self, g):
        return g * self.scale


def check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input, p, training, feature, alpha):
    """The shared body: the mask, its scale and shift, applied (see the module docstring)."""
    check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    dtype = input.dtype
    if feature and input.ndim < 2:
        raise ShapeError(f"feature dropout: expected input (N, C, *), got {tuple(input.shape)}")
    shape = input.shape[:2] + (1,) * (input.ndim - 2) if feature else input.shape
    if p == 1:
        return MaskedAffine.apply(input, scale=np.zeros(shape, dtype), shift=None)
    keep = (random.uniform(shape, dtype=dtype) >= p).astype(dtype)
    if not alpha:
        keep *= dtype.type(1.0 / (1.0 - p))
        return MaskedAffine.apply(input, scale=keep, shift=None)
    a = 1.0 / np.sqrt((SELU_ALPHA_SCALE ** 2 * p + 1.0) * (1.0 - p))
    shift = (keep - 1.0) * dtype.type(SELU_ALPHA_SCALE * a)
    shift += dtype.type(SELU_ALPHA_SCALE * a * p)
    keep *= dtype.type(a)
    return MaskedAffine.apply(input, scale=keep, shift=shift)


def _unbatched(input, batched, fn):
    """fn on ``input`` with a batch dim of 1 added (and removed after) unless ``batched``."""
    return fn(input) if batched else fn(input.unsqueeze(0)).squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p``, scale the rest
    by 1/(1 − p). ``inplace`` is accepted; the result is always a new tensor."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected input (N, C, L) or (C, L), got "
                         f"{tuple(input.shape)}")
    return _unbatched(input, input.ndim == 3,
                      lambda x: _dropout(x, p, training, feature=True, alpha=False))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input with probability ``p``, scale
    the rest by 1/(1 − p); 3-D input is read as (N, C, L), with PyTorch's warning."""
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated; dropout2d expects (N, C, H, W) or (C, H, W) input. Use "
                      "dropout instead", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L). Use dropout1d for that", stacklevel=2)
    return _dropout(input, p, training, feature=True, alpha=False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``,
    scale the rest by 1/(1 − p)."""
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated; dropout3d expects (N, C, D, H, W) or (C, D, H, W) input. "
                      "Use dropout instead", stacklevel=2)
    return _unbatched(input, input.ndim == 5,
                      lambda x: _dropout(x, p, training, feature=True, alpha=False))


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of each element (for SELU networks): keeps mean and variance."""
    return _dropout(input, p, training, feature=False, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels of (N, C, *) input."""
    return _dropout(input, p, training, feature=True, alpha=True)
