"""Convolution over any number of spatial dims as im2col + GEMM, in three kernels that the
transposed convolutions (1-d to 3-d) and conv3d share, and the argument checks they share.

Layouts are PyTorch's. A convolution maps x-space (N, C, *X) to y-space (N, O, *Y) with a
weight (O, C/groups, *k); s is the stride, d the dilation, p the padding of x, and · runs over
the spatial dims. ops/conv.py's _im2col is the 2-d case of ``_im2col`` here and its
input-gradient scatter the 2-d case of ``_col2im``; these N-d forms use the same layout and
the same per-thread scratch buffers (ops/scratch.py), one chunk of ~1 MB of columns at a
time (conv._chunks).

    im2col:  cols[c, i…, n, y…] = xp[n, c, y·s + i·d …]     (a strided view, one copy)
    col2im:  xp[n, c, y·s + i·d …] += cols[c, i…, n, y…]     (one strided add per offset i…)

col2im is the adjoint of im2col, ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩. With W the weight as a
(O, C/groups·∏k) matrix per group:

    correlate(x, w=W)  = W · im2col(x)                  x-space → y-space (conv forward)
    correlate(x, y=y)  = (im2col(x) · yᵀ)ᵀ              x-space, y-space → weight
    scatter(y, W)      = col2im(Wᵀ · y)                 y-space → x-space (the adjoint)

the second being dW[o, c, i…] = Σ over (n, y…) of xp[n, c, y·s + i·d …] · y[n, o, y…]. A
convolution is correlate(x, w=W), with dx = scatter(dout, W) and dW = correlate(x, y=dout);
a transposed convolution is scatter(x, W), with dx and dW from one correlate(dout, w=W, y=x).
"""

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.conv import _chunks
from gradkit.ops.scratch import scratch
from gradkit.tensor import Tensor


def _im2col(xp, geo):
    """The windows of xp (n, C, *padded X) as a (groups, C/groups·∏k, n, ∏Y) scratch array:
    cols[c, i…, n, y…] = xp[n, c, y·s + i·d …]."""
    N, C = xp.shape[:2]
    sN, sC, *spatial = xp.strides
    view = as_strided(xp, (C, *geo.kernel, N, *geo.y_size),
                      (sC, *(t * d for t, d in zip(spatial, geo.dilation)), sN,
                       *(t * s for t, s in zip(spatial, geo.stride))), writeable=False)
    cols = scratch.take("cols", view.shape, xp.dtype)
    np.copyto(cols, view)
    return cols.reshape(geo.groups, C // geo.groups * math.prod(geo.kernel), N,
                        math.prod(geo.y_size))


def _col2im(cols, geo):
    """The adjoint of _im2col: cols (n, C, *k, *Y) added back onto the pixels each window
    reads, cropped to (n, C, *X); pixels no window reads (padding excepted) get 0."""
    N, C = cols.shape[:2]
    padded_size = tuple(n + lo + hi for n, (lo, hi) in zip(geo.x_size, geo.pads))
    xp = scratch.take("dpad", (N, C, *padded_size), cols.dtype)
    xp.fill(0)
    for offset in itertools.product(*map(range, geo.kernel)):
        window = tuple(slice(i * d, i * d + s * (n - 1) + 1, s)
                       for i, d, s, n in zip(offset, geo.dilation, geo.stride, geo.y_size))
        xp[(..., *window)] += cols[(slice(None), slice(None), *offset)]
    return xp[(..., *(slice(lo, lo + n) for (lo, _), n in zip(geo.pads, geo.x_size)))]


def _padded(x, pads):
    """x (n, C, *X) with pads[i] = (before, after) zeros around spatial dim i, in scratch (x
    itself when nothing is padded)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    xp = scratch.take("pad", shape, x.dtype)
    xp.fill(0)
    xp[(..., *(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads)))] = x
    return xp


class Geometry:
    """The sizes of one convolution: kernel k, stride s, dilation d, pads ((before, after) per
    spatial dim of x), groups, and the spatial sizes X of x-space and Y of y-space."""

    __slots__ = ("kernel", "stride", "dilation", "pads", "groups", "x_size", "y_size")

    def __init__(self, kernel, stride, dilation, pads, groups, x_size, y_size):
        self.kernel, self.stride, self.dilation, self.pads = kernel, stride, dilation, pads
        self.groups, self.x_size, self.y_size = groups, tuple(x_size), tuple(y_size)


def correlate(x, geo, w=None, y=None):
    """One pass over the windows of x (N, C, *X), chunk by chunk, giving (out, dW):

        out (N, O, *Y) = W · im2col(x) per group          when w (O, C/groups, *k) is given
        dW (O, C/groups, *k) = (im2col(x) · yᵀ)ᵀ          when y (N, O, *Y) is given

    (None for the one not asked). dW puts the taller factor first, as in ops/conv.py; a
    transposed convolution's backward asks for both and so builds its columns once."""
    N, C, G = x.shape[0], x.shape[1], geo.groups
    O, P = w.shape[0] if y is None else y.shape[1], math.prod(geo.y_size)
    out = dwt = None
    if w is not None:
        out = np.empty((N, O, *geo.y_size), x.dtype)
        per_image = out.reshape(N, G, O // G, P).transpose(1, 0, 2, 3)
        wg = w.reshape(G, 1, O // G, -1)
    if y is not None:
        dwt = np.zeros((G, C // G * math.prod(geo.kernel), O // G), x.dtype)
    for part in _chunks(N, C * math.prod(geo.kernel), P, x.dtype):
        n = part.stop - part.start
        cols = _im2col(_padded(x[part], geo.pads), geo)
        if w is not None:
            np.matmul(wg, cols.transpose(0, 2, 1, 3), out=per_image[:, part])
        if y is not None:
            ymat = scratch.take("grad", (O, n, *geo.y_size), y.dtype)
            np.copyto(ymat, y[part].swapaxes(0, 1))
            dwt += np.matmul(cols.reshape(G, -1, n * P),
                             ymat.reshape(G, O // G, n * P).transpose(0, 2, 1))
    if dwt is not None:
        dwt = dwt.reshape(G, C // G, *geo.kernel, O // G)
        dwt = np.moveaxis(dwt, -1, 1).reshape(O, C // G, *geo.kernel)
    return out, dwt


def scatter(y, w, geo):
    """x (N, C, *X) = col2im(Wᵀ · y) per group, for y (N, O, *Y) and w (O, C/groups, *k)."""
    N, O, G = y.shape[0], y.shape[1], geo.groups
    C, K, P = w.shape[1] * G, math.prod(w.shape[1:]), math.prod(geo.y_size)
    x = np.empty((N, C, *geo.x_size), y.dtype)
    wt = w.reshape(G, 1, O // G, K).transpose(0, 1, 3, 2)
    for part in _chunks(N, C * math.prod(geo.kernel), P, y.dtype):
        n = part.stop - part.start
        cols = scratch.take("dcols", (n, G, K, P), y.dtype)
        np.matmul(wt, y[part].reshape(n, G, O // G, P).transpose(1, 0, 2, 3),
                  out=cols.transpose(1, 0, 2, 3))
        x[part] = _col2im(cols.reshape(n, C, *geo.kernel, *geo.y_size), geo)
    return x


def ints(value, n, name, op, minimum):
    """An int or a length-n sequence of ints as an n-tuple, each at least ``minimum``; a
    TypeError for another type, as PyTorch's."""
    values = (value,) * n if isinstance(value, (int, np.integer)) else value
    if not isinstance(values, (tuple, list)) or not all(
            isinstance(v, (int, np.integer)) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if len(values) != n:
        raise ArgumentError(f"{op}: expected {name} to be a single int or a tuple of {n} "
                            f"ints, got {value!r}")
    if any(v < minimum for v in values):
        rule = "positive" if minimum == 1 else "non-negative"
        raise ArgumentError(f"{op}: {name} must be {rule}, got {value!r}")
    return tuple(int(v) for v in values)


def check_tensors(op, x, w, b, groups, layout, transposed):
    """Types, ranks, groups, channels, dtypes and the bias of a convolution's input, weight
    (O, C/groups, *k) and bias (O,), or of a transposed one's: weight (C_in, C_out/groups, *k)
    and bias (C_out,)."""
    for name, t in (("input", x), ("weight", w), ("bias", b)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    k = len(layout)
    if w.ndim != k + 2:
        kernel = ", ".join("k" + d.lower() for d in layout) if k > 1 else "k"
        channels = "in, out/groups" if transposed else "out, in/groups"
        raise ShapeError(f"{op}: expected weight ({channels}, {kernel}), got {tuple(w.shape)}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ArgumentError(f"{op}: groups must be a positive int, got {groups!r}")
    if w.shape[0] % groups:
        raise ShapeError(f"{op}: dim 0 ({w.shape[0]}) of weight {tuple(w.shape)} is not "
                         f"divisible by groups={groups}")
    c_in, c_out = (w.shape[0], w.shape[1] * groups) if transposed else (
        w.shape[1] * groups, w.shape[0])
    if x.ndim not in (k + 1, k + 2) or x.shape[-k - 1] != c_in:
        want = ", ".join(("N", str(c_in)) + layout)
        raise ShapeError(f"{op}: expected input ({want}) for weight {tuple(w.shape)}"
                         f"{f' and groups={groups}' if groups > 1 else ''}, "
                         f"got {tuple(x.shape)}")
    if x.dtype.kind != "f" or w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        raise ArgumentError(f"{op}: input, weight and bias must share one floating dtype, "
                            f"got {x.dtype}, {w.dtype}{'' if b is None else f', {b.dtype}'}")
    if b is not None and tuple(b.shape) != (c_out,):
        raise ShapeError(f"{op}: expected bias ({c_out},) for weight {tuple(w.shape)}"
                         f"{f' and groups={groups}' if groups > 1 else ''}, "
                         f"got {tuple(b.shape)}")
