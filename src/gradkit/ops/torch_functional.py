"""torch.* twins of F's functions (``torch.conv2d`` is ``F.conv2d``) and the torch.*
functions that have no F twin but belong with them: channel_shuffle, pdist, convolution,
constant_pad_nd, rrelu, rms_norm, embedding_renorm_, the in-place activations
celu_/selu_/threshold_/rrelu_, and the old norm and product helpers (frobenius_norm,
nuclear_norm, norm_except_dim, chain_matmul). Exported through ops/aliases.py.

rms_norm: out = x / √(mean(x²) + eps) · weight over the last len(normalized_shape) dims, eps
the dtype's machine epsilon when None (a composition: differentiable in x and weight).

Left out on purpose, because their torch.* signature differs from F's: dropout, embedding,
layer_norm, group_norm, instance_norm, batch_norm, the losses (reduction is an int there),
adaptive_max_pool1d (torch.* always returns the indices too). torch.max_pool1d/2d/3d take no
return_indices (an empty stride means the kernel size), as in PyTorch.

rrelu: out = x where x ≥ 0, else a·x, with a = (lower + upper)/2 in eval mode and a drawn
from U(lower, upper) per element in training (from gradkit.random's generator); the gradient
is 1 or a, as PyTorch's.

    import gradkit as gk
    x = gk.randn(2, 6, 4, 4)
    y = gk.channel_shuffle(gk.conv2d(x, gk.randn(6, 6, 3, 3), padding=1), 3)
"""

import numpy as np

import gradkit
from gradkit import random
from gradkit.autograd import grad_mode
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.activations import celu, selu, threshold
from gradkit.ops.arithmetic import matmul, mul, sub, where
from gradkit.ops.conv import conv1d, conv2d
from gradkit.ops.conv3d import conv3d
from gradkit.ops.conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from gradkit.ops.distance import bilinear, cosine_similarity, pairwise_distance
from gradkit.ops.pool import adaptive_avg_pool1d, avg_pool1d
from gradkit.ops.pool import max_pool1d as _max_pool1d
from gradkit.ops.pool import max_pool2d as _max_pool2d
from gradkit.ops.pool3d import max_pool3d as _max_pool3d
from gradkit.ops.shape import transpose
from gradkit.tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "convolution", "avg_pool1d", "adaptive_avg_pool1d", "max_pool1d", "max_pool2d",
    "max_pool3d", "cosine_similarity", "pairwise_distance", "bilinear", "pixel_shuffle",
    "pixel_unshuffle", "channel_shuffle", "pdist", "constant_pad_nd", "rrelu", "rrelu_",
    "celu_", "selu_", "threshold_", "chain_matmul", "frobenius_norm", "nuclear_norm",
    "norm_except_dim", "rms_norm", "embedding_renorm_",
]
def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """torch.max_pool1d: F.max_pool1d without return_indices (an empty stride is the kernel)."""
    return _max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """torch.max_pool2d: F.max_pool2d without return_indices (an empty stride is the kernel)."""
    return _max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """torch.max_pool3d: F.max_pool3d without return_indices (an empty stride is the kernel)."""
    return _max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def pixel_shuffle(input, upscale_factor):
    """torch.pixel_shuffle: F.pixel_shuffle."""
    return gradkit.nn.functional.pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    """torch.pixel_unshuffle: F.pixel_unshuffle."""
    return gradkit.nn.functional.pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input, groups):
    """Interleave the channels (dim 1) of ``groups`` groups: (N, g·k, *) → view (N, g, k, *),
    swap g and k, flatten back."""
    if input.ndim < 3:
        raise ShapeError(f"channel_shuffle: expected input of at least 3 dims (N, C, *), got "
                         f"shape {tuple(input.shape)}")
    c = input.shape[1]
    if groups <= 0 or c % groups:
        raise ArgumentError(f"channel_shuffle: number of channels {c} must be divisible by "
                            f"groups {groups}")
    n, rest = input.shape[0], input.shape[2:]
    grouped = input.reshape(n, groups, c // groups, *rest)
    return transpose(grouped, 1, 2).reshape(n, c, *rest)


def pdist(input, p=2):
    """The p-norm distances between every pair of rows i < j of an (N, M) input, as the
    N(N−1)/2 vector in row-major order of (i, j)."""
    if input.ndim != 2:
        raise ShapeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise ArgumentError(f"pdist only supports non-negative p values, got {p}")
    rows, cols = np.triu_indices(input.shape[0], 1)
    return gradkit.linalg.vector_norm(sub(input[rows], input[cols]), p, -1)


def chain_matmul(*matrices):
    """The product of the matrices, left to right (PyTorch's deprecated chain_matmul; use
    gk.linalg.multi_dot or @)."""
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    out = matrices[0]
    for m in matrices[1:]:
        out = matmul(out, m)
    return out


def frobenius_norm(input, dim, keepdim=False):
    """√(Σ x²) over dims ``dim`` (PyTorch's deprecated frobenius_norm)."""
    return gradkit.linalg.vector_norm(input, 2, dim, keepdim)


def constant_pad_nd(input, pad, value=0):
    """F.pad in "constant" mode, ``pad = (left, right, top, bottom, ...)`` from the last dim;
    a negative width crops that side instead."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ArgumentError(f"constant_pad_nd: expected an even number of widths for at most "
                            f"{input.ndim} dims, got {len(pad)}")
    crop = [slice(None)] * input.ndim
    for k in range(len(pad) // 2):
        d = input.ndim - 1 - k
        crop[d] = slice(max(-pad[2 * k], 0), input.shape[d] - max(-pad[2 * k + 1], 0))
    cropped = input[tuple(crop)] if any(w < 0 for w in pad) else input
    return gradkit.ops.pad(cropped, [max(w, 0) for w in pad], "constant", value)


def norm_except_dim(v, pow=2, dim=0):
    """The pow-norm of each slice of v along dim, kept in v's shape with 1s elsewhere
    (dim = −1: the norm of all of v); the norm of weight normalisation."""
    if dim == -1:
        return gradkit.linalg.vector_norm(v, pow)
    others = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return gradkit.linalg.vector_norm(v, pow, others, keepdim=True)


def nuclear_norm(input, dim=None, keepdim=False):
    """The sum of singular values of the matrices in dims ``dim`` (the last two by default)."""
    return gradkit.linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def _functional_in_place(op, what):
    def f(input, *args, **kwargs):
        return gradkit.methods.inplace._in_place(input, what, lambda x: op(x, *args, **kwargs),
                                                 [])

    f.__name__ = what
    f.__doc__ = f"In-place {op.__name__}: writes the result into input's array."
    return f


celu_ = _functional_in_place(celu, "celu_")
selu_ = _functional_in_place(selu, "selu_")
threshold_ = _functional_in_place(threshold, "threshold_")


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """conv1d/2d/3d or conv_transpose1d/2d/3d, chosen by the input's dims and ``transposed``."""
    n = input.ndim - 2
    if n not in (1, 2, 3):
        raise ShapeError(f"convolution: expected a 3-, 4- or 5-D input (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    if transposed:
        op = (conv_transpose1d, conv_transpose2d, conv_transpose3d)[n - 1]
        return op(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return (conv1d, conv2d, conv3d)[n - 1](input, weight, bias, stride, padding, dilation,
                                           groups)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """Randomised leaky ReLU (see the module docstring)."""
    if not 0 <= lower <= upper:
        raise ArgumentError(f"rrelu: expected 0 <= lower <= upper, got lower={lower}, "
                            f"upper={upper}")
    if training:
        rng = random.default_generator if generator is None else generator
        slope = Tensor._make(rng.uniform(lower, upper, input.shape).astype(input.dtype), None)
    else:
        slope = (lower + upper) / 2
    return where(input >= 0, input, mul(input, slope))


rrelu_ = _functional_in_place(rrelu, "rrelu_")


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the last dims (see the module docstring)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ShapeError(f"rms_norm: expected input with shape [*, {', '.join(map(str, shape))}]"
                         f", got {list(input.shape)}")
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    eps = float(np.finfo(input.dtype).eps) if eps is None else float(eps)
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Scale, in place, the rows of the embedding table ``input`` that ``indices`` name and
    whose norm_type-norm exceeds max_norm, to norm max_norm (F.embedding's max_norm step);
    returns input."""
    if input.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError("embedding_renorm_: a leaf Variable that requires grad is being "
                           "used in an in-place operation.")
    gradkit.ops.embedding._renorm(input, np.asarray(indices._data).reshape(-1), max_norm,
                                  norm_type)
    return input
