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

scatter runs col2im only for a convolution both strided and dilated: at stride 1 it adds
whole flat images at once (_scatter_flat), and a strided one with dilation 1 splits into one
stride-1 scatter per phase of x (_scatter_phases); both add the same terms in the same order
as col2im, so the results are identical.

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
from gradkit.ops.conv import _chunks, _inside
from gradkit.ops.scratch import recycled, scratch
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


def _col2im(cols, geo, out):
    """The adjoint of _im2col: cols (n, C, *k, *Y) added back onto the pixels of out
    (n, C, *X) each window reads, out zeroed first (pixels no window reads get 0). One
    strided add per kernel offset of the part of its windows inside x: no padded buffer."""
    out.fill(0)
    for offset in itertools.product(*map(range, geo.kernel)):
        spans = [_inside(m, n, i * d - lo, s) for m, n, i, d, (lo, _), s
                 in zip(geo.y_size, geo.x_size, offset, geo.dilation, geo.pads, geo.stride)]
        if None in spans:
            continue
        target = tuple(slice(first, first + (stop - start - 1) * s + 1, s)
                       for (start, stop, first), s in zip(spans, geo.stride))
        source = tuple(slice(start, stop) for start, stop, _ in spans)
        out[(..., *target)] += cols[(slice(None), slice(None), *offset, *source)]


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
        out = recycled.empty((N, O, *geo.y_size), x.dtype)
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
    if all(s == 1 for s in geo.stride):
        x = recycled.empty((y.shape[0], w.shape[1] * geo.groups, *geo.x_size), y.dtype)
        return _scatter_flat(y, w, geo, x)
    if all(d == 1 for d in geo.dilation):
        return _scatter_phases(y, w, geo)
    N, O, G = y.shape[0], y.shape[1], geo.groups
    C, K, P = w.shape[1] * G, math.prod(w.shape[1:]), math.prod(geo.y_size)
    x = recycled.empty((N, C, *geo.x_size), y.dtype)
    wt = w.reshape(G, 1, O // G, K).transpose(0, 1, 3, 2)
    for part in _chunks(N, C * math.prod(geo.kernel), P, y.dtype):
        n = part.stop - part.start
        cols = scratch.take("dcols", (n, G, K, P), y.dtype)
        np.matmul(wt, y[part].reshape(n, G, O // G, P).transpose(1, 0, 2, 3),
                  out=cols.transpose(1, 0, 2, 3))
        _col2im(cols.reshape(n, C, *geo.kernel, *geo.y_size), geo, x[part])
    return x


def _scatter_phases(y, w, geo):
    """scatter at stride s (dilation 1) as ∏s scatters at stride 1, one per phase r… of x:
    x[…, s·u + r] gets the taps i = a + s·m with a = (r + lo) mod s, at u = y + m − lo_r,
    lo_r = ⌊(r + lo)/s⌋: a stride-1 scatter of y with the sub-kernel w[…, a::s] padded by
    lo_r (and, after, as much as its windows need); a phase that no tap reaches is 0. Against
    the strided adds of _col2im (one thread): ConvTranspose2d(64→32, k4, s2, p1)'s forward on
    (16, 64, 16, 16) 6.1 → 5.5 ms, ConvTranspose3d(32→16, k4, s2, p1) on (4, 32, 6, 8, 8)
    5.7 → 3.9 ms."""
    N, C, n = y.shape[0], w.shape[1] * geo.groups, len(geo.kernel)
    x = recycled.empty((N, C, *geo.x_size), y.dtype)
    for phase in itertools.product(*map(range, geo.stride)):
        first = [(r + lo) % s for r, (lo, _), s in zip(phase, geo.pads, geo.stride)]
        kernel = tuple(len(range(a, k, s)) for a, k, s in zip(first, geo.kernel, geo.stride))
        size = tuple(len(range(r, m, s)) for r, m, s in zip(phase, geo.x_size, geo.stride))
        target = x[(..., *(slice(r, None, s) for r, s in zip(phase, geo.stride)))]
        if 0 in size:
            continue
        if 0 in kernel:
            target.fill(0)
            continue
        before = [(r + lo) // s for r, (lo, _), s in zip(phase, geo.pads, geo.stride)]
        pads = tuple((lo, max(0, m + k - 1 - L - lo))
                     for lo, m, k, L in zip(before, geo.y_size, kernel, size))
        sub = w[(..., *(slice(a, None, s) for a, s in zip(first, geo.stride)))]
        _scatter_flat(y, sub, Geometry(kernel, (1,) * n, (1,) * n, pads, geo.groups, size,
                                       geo.y_size), target)
    return x


def _scatter_flat(y, w, geo, x):
    """scatter at stride 1 into x (N, C, *X), on flat images. With the padded x-space (*Xp)
    laid out flat, the window at y… reads xp.flat[q(y…) + f(i…)], q(y…) = Σ y_j·∏Xp[j+1:]
    and the offset f(i…) = Σ i_j·d_j·∏Xp[j+1:]. So y is placed on the grid (Y_0, *Xp[1:])
    (zeros in the "junk" cells y_j ≥ Y_j), one GEMM per group gives cols = Wᵀ · y on that
    grid, and each kernel offset adds one contiguous run, xp.flat[f(i…) + q] += cols[c, i…, q].
    Against _col2im's strided adds of short rows, conv3d(16→32, k3, p1)'s input gradient on
    (4, 16, 8, 16, 16) measured 6.4 → 4.2 ms (one thread)."""
    N, O, G = y.shape[0], y.shape[1], geo.groups
    C, k = w.shape[1] * G, math.prod(geo.kernel)
    padded = [n + lo + hi for n, (lo, hi) in zip(geo.x_size, geo.pads)]
    inner = [math.prod(padded[j + 1:]) for j in range(len(padded))]
    Q = geo.y_size[0] * inner[0]
    offsets = [sum(i * d * t for i, d, t in zip(offset, geo.dilation, inner))
               for offset in itertools.product(*map(range, geo.kernel))]
    flat = max(math.prod(padded), offsets[-1] + Q)
    wt = w.reshape(G, O // G, C // G * k).transpose(0, 2, 1)
    on_grid = (slice(None), slice(None), slice(None), *map(slice, geo.y_size[1:]))
    crop = (slice(None), slice(None), *(slice(lo, lo + n) for n, (lo, _)
                                         in zip(geo.x_size, geo.pads)))
    for part in _chunks(N, C * k, Q, y.dtype):
        n = part.stop - part.start
        grid = scratch.take("grid", (n, O, geo.y_size[0], *padded[1:]), y.dtype)
        grid.fill(0)
        grid[on_grid] = y[part]
        cols = scratch.take("dcols", (n, G, C // G * k, Q), y.dtype)
        np.matmul(wt, grid.reshape(n, G, O // G, Q), out=cols)
        cols = cols.reshape(n, C, k, Q)
        xp = scratch.take("dpad", (n, C, flat), y.dtype)
        np.copyto(xp[:, :, :Q], cols[:, :, 0])
        xp[:, :, Q:].fill(0)
        for i, offset in enumerate(offsets[1:], 1):
            xp[:, :, offset:offset + Q] += cols[:, :, i]
        x[part] = xp[:, :, :math.prod(padded)].reshape(n, C, *padded)[crop]
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
