"""F functions without a room of their own: the shrinks, rrelu, rms_norm, gumbel_softmax and
the power-average pools lp_pool1d/2d/3d. Each is a composition of differentiable ops, so
its gradient comes with it (and is PyTorch's, which composes them the same way).

    hardshrink      x where |x| > λ, else 0
    softshrink      x − λ where x > λ, x + λ where x < −λ, else 0   (λ ≥ 0)
    tanhshrink      x − tanh x
    rrelu           x where x ≥ 0, else a·x; a = (lower + upper)/2 in eval, a ~ U(lower, upper)
                    per element in training (gradkit.random's generator)
    rms_norm        x / √(mean(x²) + eps) · weight over the last dims (eps: the dtype's epsilon)
    gumbel_softmax  y = softmax((logits + g)/τ) along dim, g = −log E, E ~ Exp(1) (gradkit.random);
                    hard=True returns the one-hot of argmax y with the gradient of y
                    (straight through: y_hard − y.detach() + y)
    lp_pool         (Σ_window x^p)^(1/p), computed as torch does from the average pool:
                    (sign(a)·relu(|a|)·k)^(1/p), a = avg_pool(x^p), k the window size;
                    p = ±inf is max_pool(|x|) / −max_pool(−|x|)

    import gradkit as gk
    import gradkit.nn.functional as F
    y = F.gumbel_softmax(gk.randn(4, 10), tau=0.5, hard=True)     # one-hot rows
    z = F.lp_pool2d(gk.randn(1, 3, 8, 8), 2, 2)                   # (1, 3, 4, 4)
"""

import warnings

import numpy as np

from gradkit import random
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops import more_math, torch_functional
from gradkit.ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from gradkit.ops.pool3d import avg_pool3d, max_pool3d
from gradkit.ops.reduce import softmax
from gradkit.ops.unary import relu
from gradkit.tensor import Tensor

__all__ = ["hardshrink", "softshrink", "tanhshrink", "rrelu", "rms_norm", "gumbel_softmax",
           "lp_pool1d", "lp_pool2d", "lp_pool3d"]


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0;  dx = g·[|x| > lambd]."""
    return more_math.hardshrink(input, lambd)


def softshrink(input, lambd=0.5):
    """x − λ where x > λ, x + λ where x < −λ, else 0;  dx = g·[|x| > λ]. λ must be ≥ 0."""
    if lambd < 0:
        raise ArgumentError(f"softshrink: lambda must be in range [0, inf), but found {lambd}")
    return more_math.softshrink(input, lambd)


def tanhshrink(input):
    """x − tanh x;  dx = g·tanh²x."""
    return more_math.tanhshrink(input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU (see the module docstring); ``inplace`` is accepted and ignored
    (a new tensor is returned)."""
    return torch_functional.rrelu(input, lower, upper, training)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / √(mean(x²) + eps) · weight over the last len(normalized_shape) dims."""
    return torch_functional.rms_norm(input, normalized_shape, weight, eps)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax (Concrete) distribution of ``logits`` along ``dim``;
    soft probabilities, or one-hot rows with the soft gradient when ``hard`` (see the module
    docstring). ``eps`` is deprecated and has no effect, as in PyTorch."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    if not isinstance(logits, Tensor) or logits.dtype.kind != "f":
        raise ArgumentError(f"gumbel_softmax: expected floating-point logits, got "
                            f"{getattr(logits, 'dtype', type(logits).__name__)}")
    exp = random.default_generator.exponential(size=logits.shape).astype(logits.dtype)
    with np.errstate(divide="ignore"):
        gumbels = Tensor._make(-np.log(exp), None)
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    soft = y_soft._data
    axis = dim % soft.ndim if soft.ndim else 0
    index = np.expand_dims(np.argmax(soft, axis=axis), axis) if soft.ndim else 0
    y_hard = np.zeros_like(soft)
    if soft.ndim:
        np.put_along_axis(y_hard, index, 1.0, axis=axis)
    else:
        y_hard[...] = 1.0
    return Tensor._make(y_hard - soft, None) + y_soft


_POOLS = {1: ("L", max_pool1d, avg_pool1d), 2: ("H, W", max_pool2d, avg_pool2d),
          3: ("D, H, W", max_pool3d, avg_pool3d)}


def _lp_pool(op, n, input, norm_type, kernel_size, stride, ceil_mode):
    if not isinstance(input, Tensor):
        raise ArgumentError(f"{op}: expected a Tensor input, got {type(input).__name__}")
    dims, max_pool, avg_pool = _POOLS[n]
    if input.ndim not in (n + 1, n + 2):
        raise ShapeError(f"{op}: expected input (N, C, {dims}) or (C, {dims}), got "
                         f"{tuple(input.shape)}")
    if norm_type == float("inf"):
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    sizes = (kernel_size,) * n if isinstance(kernel_size, int) else tuple(kernel_size)
    out = avg_pool(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    return ((out.sign() * relu(out.abs())) * int(np.prod(sizes))) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pool over windows of length kernel_size of input (N, C, L) or (C, L):
    (Σ x^p)^(1/p); stride defaults to kernel_size, no padding."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pool over kh×kw windows of input (N, C, H, W) or (C, H, W):
    (Σ x^p)^(1/p); stride defaults to kernel_size, no padding."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pool over kd×kh×kw windows of input (N, C, D, H, W) or (C, D, H, W):
    (Σ x^p)^(1/p); stride defaults to kernel_size, no padding."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)
