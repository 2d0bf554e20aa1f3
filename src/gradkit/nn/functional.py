"""gradkit.nn.functional (``import gradkit.nn.functional as F``): every layer and loss as a
stateless function with PyTorch's name and signature. The math lives in gradkit.ops (one
Function per op, forward and backward side by side); this module gathers it in one place.

``inplace=True`` is accepted where PyTorch has it, for compatibility; gradkit always returns a
new tensor.
"""

import warnings

from gradkit.errors import ArgumentError
from gradkit.nn.dropout import dropout
from gradkit.ops import activations as _act
from gradkit.ops import unary as _unary
from gradkit.ops.activations import glu, logsigmoid, normalize, prelu, softsign
from gradkit.ops.conv import conv1d, conv2d
from gradkit.ops.hinge import multi_margin_loss, multiclass_hinge_loss, multilabel_hinge_loss
from gradkit.ops.index import getitem as _getitem
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
    "softmax", "softplus", "tanh", "celu", "glu", "hardsigmoid", "hardswish", "hardtanh",
    "logsigmoid", "mish", "normalize", "prelu", "relu6", "selu", "silu", "softmin", "softsign",
    "threshold",
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


def silu(input, inplace=False):
    """x·σ(x)."""
    return _act.silu(input)


def mish(input, inplace=False):
    """x·tanh(softplus x)."""
    return _act.mish(input)


def hardswish(input, inplace=False):
    """x·relu6(x + 3)/6."""
    return _act.hardswish(input)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3)/6."""
    return _act.hardsigmoid(input)


def selu(input, inplace=False):
    """1.0507·(x if x > 0 else 1.6733(eˣ − 1))."""
    return _act.selu(input)


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value."""
    return _act.threshold(input, threshold, value)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(−x) along ``dim`` (dim=None: PyTorch's legacy default, with a warning)."""
    if dtype is not None:
        input = input.to(dtype)
    return _act.softmin(input, _implicit_dim(input.ndim, "softmin") if dim is None else dim)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val); gradient only strictly inside."""
    return _act.hardtanh(input, min_val, max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return _act.relu6(input)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, α(e^(x/α) − 1))."""
    return _act.celu(input, alpha)


def pad(input, pad, mode="constant", value=None):
    """Pad the last dims: ``pad = (left, right, top, bottom, ...)`` from the last dim backwards;
    modes constant (with ``value``, default 0), reflect, replicate, circular. A negative width
    crops that side, as in PyTorch. reflect needs each width < the dim's size, circular each
    width ≤ it (PyTorch's errors)."""
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unsupported mode {mode!r}; use constant, reflect, "
                                  "replicate or circular")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ArgumentError(f"pad: padding length must be even and at most twice the input's "
                            f"{input.ndim} dims, got {len(pad)} widths {tuple(pad)}")
    crop, grow = [slice(None)] * input.ndim, [0] * len(pad)
    for i in range(len(pad) // 2):
        d = input.ndim - 1 - i
        lo, hi, n = int(pad[2 * i]), int(pad[2 * i + 1]), input.shape[d]
        _check_width(mode, lo, hi, n, d, input.shape)
        crop[d] = slice(max(-lo, 0), n - max(-hi, 0))
        grow[2 * i], grow[2 * i + 1] = max(lo, 0), max(hi, 0)
    if any(p < 0 for p in pad):
        input = _getitem(input, tuple(crop))
    return _pad(input, grow, mode, 0.0 if value is None else value)


def _check_width(mode, lo, hi, n, dim, shape):
    if n + min(lo, 0) + min(hi, 0) < 0:
        raise ArgumentError(f"pad: widths ({lo}, {hi}) crop more than the {n} elements of "
                            f"dim {dim} of input {list(shape)}")
    if mode == "reflect" and max(lo, hi) >= n:
        raise ArgumentError(f"Argument #4: Padding size should be less than the corresponding "
                            f"input dimension, but got: padding ({lo}, {hi}) at dimension {dim} "
                            f"of input {list(shape)}")
    if mode == "circular" and max(lo, hi) > n:
        raise ArgumentError(f"pad: padding ({lo}, {hi}) at dimension {dim} of input "
                            f"{list(shape)}: Padding value causes wrapping around more than once.")


# The op modules below each name their functions in __all__ (F's names, PyTorch's signatures).
from gradkit.ops import (attention as _attention, conv3d as _conv3d,  # noqa: E402
                         conv_transpose as _conv_transpose, ctc as _ctc, distance as _distance,
                         dropout as _dropout, embedding as _embedding, feature_norm as _fnorm,
                         fold as _fold, loss as _loss, margin_loss as _margin_loss,
                         misc_functional as _misc_functional,
                         pool as _pool, pool3d as _pool3d, prob_loss as _prob_loss,
                         upsample as _upsample)
from gradkit.ops.attention import *  # noqa: F401,F403,E402
from gradkit.ops.conv3d import *  # noqa: F401,F403,E402
from gradkit.ops.conv_transpose import *  # noqa: F401,F403,E402
from gradkit.ops.ctc import *  # noqa: F401,F403,E402
from gradkit.ops.distance import *  # noqa: F401,F403,E402
from gradkit.ops.dropout import *  # noqa: F401,F403,E402
from gradkit.ops.embedding import *  # noqa: F401,F403,E402
from gradkit.ops.feature_norm import *  # noqa: F401,F403,E402
from gradkit.ops.fold import *  # noqa: F401,F403,E402
from gradkit.ops.loss import *  # noqa: F401,F403,E402
from gradkit.ops.margin_loss import *  # noqa: F401,F403,E402
from gradkit.ops.misc_functional import *  # noqa: F401,F403,E402
from gradkit.ops.pool import *  # noqa: F401,F403,E402
from gradkit.ops.pool3d import *  # noqa: F401,F403,E402
from gradkit.ops.prob_loss import *  # noqa: F401,F403,E402
from gradkit.ops.upsample import *  # noqa: F401,F403,E402

__all__ += sorted({name for m in (_attention, _conv3d, _conv_transpose, _ctc, _distance, _dropout,
                                  _embedding, _fnorm, _fold, _loss, _margin_loss,
                                  _misc_functional, _pool, _pool3d,
                                  _prob_loss, _upsample) for name in m.__all__} - set(__all__))
