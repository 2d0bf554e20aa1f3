"""gradkit.nn.functional (``import gradkit.nn.functional as F``): every layer and loss as a
stateless function with PyTorch's name and signature. The math lives in gradkit.ops (one
Function per op, forward and backward side by side); this module gathers it in one place.

``inplace=True`` is accepted where PyTorch has it, for compatibility; gradkit always returns a
new tensor.
"""

import warnings

from gradkit.nn.dropout import dropout
from gradkit.ops import unary as _unary
from gradkit.ops.conv import conv1d, conv2d
from gradkit.ops.hinge import multi_margin_loss, multiclass_hinge_loss, multilabel_hinge_loss
from gradkit.ops.index import one_hot
from gradkit.ops.linear import linear
from gradkit.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,
                              cross_entropy, nll_loss)
from gradkit.ops.norm import batch_norm
from gradkit.ops.pool import (adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d,
                              max_pool2d)
from gradkit.ops.reduce import log_softmax as _log_softmax
from gradkit.ops.reduce import softmax as _softmax
from gradkit.ops.regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss
from gradkit.ops.shape import pad as _pad

__all__ = [
    "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "cross_entropy", "dropout", "elu",
    "gelu", "huber_loss", "l1_loss", "leaky_relu", "linear", "log_softmax", "max_pool1d",
    "max_pool2d", "mse_loss", "multi_margin_loss", "multiclass_hinge_loss",
    "multilabel_hinge_loss", "nll_loss", "one_hot", "pad", "relu", "sigmoid", "smooth_l1_loss",
    "softmax", "softplus", "tanh",
]


def relu(input, inplace=False):
    """max(x, 0)."""
    return _unary.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope·x."""
    return _unary.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else α(eˣ − 1)."""
    return _unary.elu(input, alpha)


def softplus(input, beta=1.0, threshold=20.0):
    """ln(1 + e^(βx))/β, and x where βx > threshold."""
    return _unary.softplus(input, beta, threshold)


def gelu(input, approximate="none"):
    """x·Φ(x), or its tanh approximation with ``approximate='tanh'``."""
    return _unary.gelu(input, approximate)


def sigmoid(input):
    """1 / (1 + e⁻ˣ)."""
    return _unary.sigmoid(input)


def tanh(input):
    return _unary.tanh(input)


def _implicit_dim(ndim, name):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """e^x / Σ e^x along ``dim`` (computed after subtracting the max). dim=None picks PyTorch's
    legacy default (0 for 0-, 1- and 3-d input, else 1) with a warning."""
    if dtype is not None:
        input = input.to(dtype)
    return _softmax(input, _implicit_dim(input.ndim, "softmax") if dim is None else dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log softmax along ``dim``, computed directly (never the log of 0)."""
    if dtype is not None:
        input = input.to(dtype)
    return _log_softmax(input, _implicit_dim(input.ndim, "log_softmax") if dim is None else dim)


def pad(input, pad, mode="constant", value=None):
    """Pad the last dims: ``pad = (left, right, top, bottom, ...)`` from the last dim backwards;
    modes constant (with ``value``, default 0), reflect, replicate, circular."""
    return _pad(input, pad, mode, 0.0 if value is None else value)
