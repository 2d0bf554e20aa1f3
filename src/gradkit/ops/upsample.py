"""Resampling: F.interpolate (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area) and F.pixel_shuffle / F.pixel_unshuffle, with PyTorch's index rules.

Every mode but area is separable: along each spatial axis an output position o reads a few
input positions ("taps") idx_t[o] with weights w_t[o], so

    out[o] = Σ_t w_t[o] · x[idx_t[o]]            (one axis after the other)
    dx[k]  = Σ_t Σ_{o: idx_t[o] = k} w_t[o] · g[o]   (the scatter-add of the weights)

Each idx_t is non-decreasing, so the scatter-add is one ``np.add.reduceat`` over runs of equal
indices per tap (no loop over pixels, no ``np.add.at``). Source coordinates, as PyTorch's CPU
kernels compute them (in float32 for float32 input, float64 for float64; nearest always in
float32), with scale = 1/scale_factor when a scale_factor is passed on, else in/out:

    nearest        src = min(⌊o·scale⌋, in − 1); on 4-D input out = in is the identity and
                   out = 2·in is o >> 1 whatever the scale (PyTorch's 2-d kernel; 1-d, 3-d not)
    nearest-exact  src = min(⌊(o + ½)·scale⌋, in − 1)
    linear         src = o·(in − 1)/(out − 1) with align_corners, else max(scale·(o + ½) − ½, 0);
                   taps ⌊src⌋ and ⌊src⌋ + 1 (clamped) with weights 1 − λ, λ, λ = src − ⌊src⌋;
                   an axis with out = in is copied whatever the scale (as PyTorch)
    bicubic        src as linear but not clamped at 0; taps ⌊src⌋ − 1 … ⌊src⌋ + 2 clamped to the
                   input, Keys' cubic convolution weights with A = −0.75

area is adaptive average pooling to the output size. upsample, upsample_nearest and
upsample_bilinear (align_corners=True) are PyTorch's deprecated spellings, with its warning.
pixel_shuffle moves r×r channel blocks into space: (*, C·r², H, W) → (*, C, H·r, W·r);
pixel_unshuffle is its inverse. Only float input is resampled (PyTorch also takes uint8 for
some modes); antialias is not implemented. torch 2.13 gives no warning for the default
align_corners, so neither does gradkit.

    F.interpolate(x, scale_factor=2, mode="bilinear")     # x (N, C, H, W) -> (N, C, 2H, 2W)
    F.pixel_shuffle(gk.randn(1, 12, 8, 8), 2).shape        # (1, 3, 16, 16)

Differs from PyTorch on purpose: on 3-D and 5-D input, nearest with a scale_factor where
out = in or out = 2·in, PyTorch's backward takes the identity / o >> 1 shortcut that its forward
does not (x of length 2 by 1.25 reads x[0] twice but sends the gradient to x[0] and x[1]);
likewise bicubic when every output size equals the input's (PyTorch's backward copies the
gradient, its forward resamples). gradkit's gradient is always that of its forward.
"""

import warnings

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.pool import adaptive_avg_pool1d, adaptive_avg_pool2d
from gradkit.ops.pool3d import adaptive_avg_pool3d
from gradkit.tensor import Tensor

__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle", "upsample", "upsample_bilinear",
           "upsample_nearest"]

_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_CUBIC_A = -0.75


class Resample(Function):
    """out = the taps' weighted sum along each axis in turn;  dx = the weights scattered back.

    plan: one (axis, input size, taps) per resampled axis; taps: (idx, weight or None)."""

    def forward(self, x, plan):
        self.plan, self.shapes = plan, []
        for axis, _, taps in plan:
            self.shapes.append(x.shape)
            out = None
            for idx, weight in taps:
                term = np.take(x, idx, axis=axis)
                if weight is not None:
                    term *= _broadcast_along(weight, axis, x.ndim)
                out = term if out is None else np.add(out, term, out=out)
            x = out
        return x

    def backward(self, grad):
        for (axis, size, taps), shape in zip(reversed(self.plan), reversed(self.shapes)):
            dx = np.zeros(shape, grad.dtype)
            for idx, weight in taps:
                part = (grad if weight is None else
                        grad * _broadcast_along(weight, axis, grad.ndim))
                _scatter_add(dx, part, idx, axis)
            grad = dx
        return grad


def _broadcast_along(weight, axis, ndim):
    """A per-position weight shaped to broadcast along ``axis``."""
    return weight.reshape((-1,) + (1,) * (ndim - 1 - axis))


def _scatter_add(dx, part, idx, axis):
    """dx[k] += Σ_{o: idx[o] = k} part[o] along ``axis``, for a non-decreasing idx."""
    starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
    where = [slice(None)] * dx.ndim
    where[axis] = idx[starts]
    dx[tuple(where)] += np.add.reduceat(part, starts, axis=axis)


def _scale(size_in, size_out, scale_factor, dtype):
    """PyTorch's compute_scales_value: 1/scale_factor when one is passed on, else in/out."""
    if scale_factor is not None and scale_factor > 0:
        return dtype(1.0 / scale_factor)
    return dtype(size_in) / dtype(size_out)


def _nearest(mode, size_in, size_out, scale_factor, shortcuts):
    dst = np.arange(size_out)
    if mode == "nearest" and shortcuts and size_out == size_in:
        return [(dst, None)]
    if mode == "nearest" and shortcuts and size_out == 2 * size_in:
        return [(dst >> 1, None)]
    scale = _scale(size_in, size_out, scale_factor, np.float32)
    if mode == "nearest":
        src = np.floor(dst.astype(np.float32) * scale)
    else:
        src = np.floor(((dst + 0.5) * np.float64(scale)).astype(np.float32))
    return [(np.minimum(src.astype(np.int64), size_in - 1), None)]


def _source(size_in, size_out, scale_factor, align_corners, cubic, dtype):
    """PyTorch's area_pixel_compute_source_index, then its index ⌊src⌋ and fraction λ."""
    dst = np.arange(size_out).astype(dtype)
    if align_corners:
        scale = dtype(size_in - 1) / dtype(size_out - 1) if size_out > 1 else dtype(0)
        src = scale * dst
    else:
        scale = _scale(size_in, size_out, scale_factor, dtype)
        src = scale * (dst + dtype(0.5)) - dtype(0.5)
        if not cubic:
            src = np.maximum(src, dtype(0))
    index = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), size_in - 1)
    lam = np.clip(src - index.astype(dtype), dtype(0), dtype(1))
    return index, lam


def _linear(size_in, size_out, scale_factor, align_corners, dtype):
    if size_out == size_in:  # PyTorch copies such an axis, whatever the scale_factor
        return [(np.arange(size_in), None)]
    index, lam = _source(size_in, size_out, scale_factor, align_corners, False, dtype)
    upper = index + (index < size_in - 1)
    return [(index, dtype(1) - lam), (upper, lam)]


def _cubic(size_in, size_out, scale_factor, align_corners, dtype):
    index, t = _source(size_in, size_out, scale_factor, align_corners, True, dtype)
    a, one = dtype(_CUBIC_A), dtype(1)

    def near(x):  # |x| ≤ 1
        return ((a + 2) * x - (a + 3)) * x * x + one

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = (far(t + one), near(t), near(one - t), far(2 * one - t))
    return [(np.clip(index - 1 + j, 0, size_in - 1), w) for j, w in enumerate(weights)]


def _output_size(input, size, scale_factor, recompute_scale_factor, n):
    """The spatial output size and the scale factors passed on to the index rules."""
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ArgumentError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ArgumentError("interpolate: either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ArgumentError("interpolate: recompute_scale_factor is not meaningful with an "
                            "explicit size")
    if size is not None:
        sizes = list(size) if isinstance(size, (tuple, list)) else [size] * n
        if len(sizes) != n:
            raise ArgumentError(f"interpolate: input with spatial dimensions of {spatial} "
                                f"needs an output size of {n} ints, got {size}")
        if not all(isinstance(s, (int, np.integer)) for s in sizes):
            raise TypeError(f"interpolate: expected size to be an int or a tuple of ints, got "
                            f"{size!r}")
        return [int(s) for s in sizes], [None] * n
    factors = (list(scale_factor) if isinstance(scale_factor, (tuple, list))
               else [scale_factor] * n)
    if len(factors) != n:
        raise ArgumentError(f"interpolate: input with spatial dimensions of {spatial} needs "
                            f"{n} scale factors, got {scale_factor}")
    sizes = [int(s * float(f)) for s, f in zip(spatial, factors)]
    return sizes, ([None] * n if recompute_scale_factor else [float(f) for f in factors])


def _check_dims(input, mode):
    """PyTorch's errors for a mode given input of the wrong rank."""
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"interpolate: only 3D, 4D and 5D input is supported, got "
                                  f"{input.ndim}D input {tuple(input.shape)} (mode {mode!r})")
    if mode in _MODE_DIMS and input.ndim != _MODE_DIMS[mode] + 2:
        raise NotImplementedError(f"interpolate: got {input.ndim}D input, but {mode} mode "
                                  f"needs {_MODE_DIMS[mode] + 2}D input")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample input (N, C, *spatial) with 1–3 spatial dims to ``size`` or by
    ``scale_factor`` (output size ⌊in·scale_factor⌋); see the module docstring for the modes.

    align_corners (linear modes only, default False) maps the corner pixels' centres onto
    each other; recompute_scale_factor=True uses in/out instead of 1/scale_factor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    modes = ("nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic", "trilinear")
    if mode not in modes:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented; use one of "
                                  f"{', '.join(modes)}")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ArgumentError("interpolate: align_corners option can only be set with the "
                            "interpolating modes: linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    _check_dims(input, mode)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"interpolate: mode {mode!r} not implemented for "
                                  f"{input.dtype} input")
    n = input.ndim - 2
    sizes, factors = _output_size(input, size, scale_factor,
                                  recompute_scale_factor or (mode == "area" and size is None), n)
    if min(sizes) <= 0 or (min(input.shape[2:]) <= 0 and mode != "area"):
        raise ShapeError(f"interpolate: input and output sizes should be greater than 0, but "
                         f"got input {tuple(input.shape[2:])} and output {tuple(sizes)}")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[n - 1](input,
                                                                                     sizes)
    dtype = input.dtype.type
    plan = []
    for axis, (size_in, size_out, factor) in enumerate(zip(input.shape[2:], sizes, factors), 2):
        if mode.startswith("nearest"):
            taps = _nearest(mode, size_in, size_out, factor, n == 2)
        elif mode == "bicubic":
            taps = _cubic(size_in, size_out, factor, bool(align_corners), dtype)
        else:
            taps = _linear(size_in, size_out, factor, bool(align_corners), dtype)
        plan.append((axis, size_in, taps))
    return Resample.apply(input, plan=plan)


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", UserWarning, stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated (with PyTorch's UserWarning): interpolate with these options."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated (with PyTorch's UserWarning): interpolate, mode nearest."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated (with PyTorch's UserWarning): interpolate, bilinear with align_corners."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _shuffle_input(op, input, factor, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ArgumentError(f"{op}: {name} must be a positive int, got {factor!r}")
    if input.ndim < 3:
        raise ShapeError(f"{op}: expected input (*, C, H, W) with at least 3 dims, got "
                         f"{tuple(input.shape)}")
    return tuple(input.shape[:-3]), tuple(input.shape[-3:])


def pixel_shuffle(input, upscale_factor):
    """(*, C·r², H, W) → (*, C, H·r, W·r): out[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]."""
    batch, (C, H, W) = _shuffle_input("pixel_shuffle", input, upscale_factor,
                                      "upscale_factor")
    r = int(upscale_factor)
    if C % (r * r):
        raise ShapeError(f"pixel_shuffle: expected the channel dim of input "
                         f"{tuple(input.shape)} to be divisible by upscale_factor² = {r * r}, "
                         f"got {C}")
    b = len(batch)
    x = input.reshape(*batch, C // (r * r), r, r, H, W)
    x = x.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return x.reshape(*batch, C // (r * r), H * r, W * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H·r, W·r) → (*, C·r², H, W), the inverse of pixel_shuffle."""
    batch, (C, H, W) = _shuffle_input("pixel_unshuffle", input, downscale_factor,
                                      "downscale_factor")
    r = int(downscale_factor)
    if H % r or W % r:
        raise ShapeError(f"pixel_unshuffle: expected the height and width of input "
                         f"{tuple(input.shape)} to be divisible by downscale_factor = {r}")
    b = len(batch)
    x = input.reshape(*batch, C, H // r, r, W // r, r)
    x = x.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return x.reshape(*batch, C * r * r, H // r, W // r)
