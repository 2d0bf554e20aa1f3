"""Convolution (conv1d, conv2d) as one matrix product over strided windows.

Layouts are PyTorch's: input (N, C, H, W), weight (O, C/groups, kh, kw), output (N, O, OH, OW)
with OH = ⌊(H + pad_top + pad_bottom − dh·(kh − 1) − 1) / sh⌋ + 1 (the same for OW).

Forward (im2col): the padded input xp is viewed, without copying, as its windows

    cols[c, i, j, n, y, x] = xp[n, c, y·sh + i·dh, x·sw + j·dw]        (np.lib.stride_tricks)

so stride and dilation are just strides of that view. One copy makes it a (C·kh·kw, N·OH·OW)
matrix and the convolution is one GEMM per group (with padding and a 3×3 or smaller kernel,
_im2col_unpadded copies the windows' pixels inside x offset by offset instead, and the
padded copy of x is never made):

    out[o, (n, y, x)] = Σ_(c,i,j) W[o, (c, i, j)] · cols[(c, i, j), (n, y, x)] + b[o]

(measured on ResNet-20 and LeNet-5 layers: this copy + np.matmul is up to 1.5× faster than
np.tensordot on the same view and 2–5× faster than np.einsum(..., optimize=True)).

Backward, with G the output gradient as an (O, N·OH·OW) matrix:

    dW = G · colsᵀ = (cols · Gᵀ)ᵀ           (one GEMM; cols rebuilt from the saved input)
    db = Σ over (n, y, x) of G
    dx = the adjoint of the window view applied to Wᵀ · G: every window scatters its column
         back onto the pixels it read, one strided add per kernel offset (i, j). Pixels that
         no window reads (padding, trailing rows when the stride does not fit) get zero.

For stride 1 and O ≤ C (most layers of a ResNet) one im2col of the gradient padded by
d·(k − 1) − pad serves both: dx is the transposed convolution (that gcols times the flipped
kernel with in ↔ out, one GEMM and no scatter) and dW = (gcols · Xᵀ)ᵀ flipped, X the input
as a (C, N·H·W) matrix. It moves less memory than the scatter (dx measured ~1.4× faster on the
ResNet-20 layers) and dW needs no second im2col; when the layer widens (O > C) gcols would
be the larger matrix, so the scatter is used.

Both weight gradients are products that sum over the N·OH·OW pixels; they are computed with
the taller factor first, (cols · Gᵀ)ᵀ rather than G · colsᵀ: OpenBLAS runs that orientation
1.2–2.7× faster on every ResNet-20 and LeNet-5 layer (one thread, float32; 39 → 13 ms for
dW of the 16→16 layers at batch 128), and the transpose of the small result is free.

Cache blocking: every im2col and its GEMMs run on a chunk of images at a time, sized so the
columns hold ~1 MB (_chunks), and each chunk's product is written per image straight into
the (N, O, OH, OW) output (a batched GEMM with no transpose afterwards). The columns are then
still in cache when the GEMM reads them: forward of the ResNet-20 3×3 layers at batch 128
went 41.9 → 20, 21.4 → 13 and 13.7 → 10.5 ms (16, 32, 64 channels, one thread); 0.5–4 MB
chunks measured alike. The weight gradients add up over the chunks.

Memory: cols is kh·kw times the input of one chunk, ~1 MB instead of 75 MB for a whole
ResNet-20 batch. Forward does not keep it; backward rebuilds what it needs from the input
(which the graph holds anyway), as Caffe does: the saved cols of a ResNet-20 step would add
~780 MB at batch 128. The im2col matrices live in per-thread scratch buffers reused across
calls (see ops/scratch.py).

Conv2d is the im2col algorithm above; ops/conv_select.py picks, per call, it or a faster one
that applies to the shape (Winograd for 3×3 stride 1, a plain GEMM for 1×1, shifted GEMMs
with no im2col for the forward at stride 1), possibly another for the backward, and says how
to force one.

An empty batch (N = 0) gives an empty (0, O, OH, OW) output, and zero dW and db, as in
PyTorch; that is why every reshape of an (…, N·OH·OW) matrix names its sizes (−1 cannot be
inferred from an array of size 0).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gradkit.autograd.function import Function
from gradkit.ops import (chwn, conv_benchmark, conv_select, parallel, pointwise, shifted, winograd,
                         winograd4)
from gradkit.ops.scratch import recycled, scratch as _scratch, zero_padded
from gradkit.tensor import Tensor


class _Geometry:
    """Every size of one convolution, computed once from the shapes and options."""

    __slots__ = ("N", "C", "H", "W", "O", "kh", "kw", "sh", "sw", "dh", "dw", "pt", "pb",
                 "pl", "pr", "OH", "OW", "groups", "wshape")

    def __init__(self, xshape, wshape, stride, pads, dilation, groups):
        self.N, self.C, self.H, self.W = xshape
        self.wshape = wshape
        self.O, _, self.kh, self.kw = wshape
        (self.sh, self.sw), (self.dh, self.dw) = stride, dilation
        self.pt, self.pb, self.pl, self.pr = pads
        self.groups = groups
        self.OH = (self.H + self.pt + self.pb - self.dh * (self.kh - 1) - 1) // self.sh + 1
        self.OW = (self.W + self.pl + self.pr - self.dw * (self.kw - 1) - 1) // self.sw + 1

    def transposed_gradient(self, grad):
        """What the transposed convolution of a stride-1 backward reads: the output gradient
        padded by d·(k − 1) − pad on each side. Returns the gradient, cropped where the
        padding exceeds d·(k − 1), and the (top, bottom, left, right) padding, each ≥ 0."""
        top, left = self.dh * (self.kh - 1) - self.pt, self.dw * (self.kw - 1) - self.pl
        bottom, right = self.dh * (self.kh - 1) - self.pb, self.dw * (self.kw - 1) - self.pr
        grad = grad[:, :, max(-top, 0):grad.shape[2] - max(-bottom, 0),
                    max(-left, 0):grad.shape[3] - max(-right, 0)]
        return grad, (max(top, 0), max(bottom, 0), max(left, 0), max(right, 0))


def _padded(x, top, bottom, left, right):
    """x (N, C, H, W) with zeros around its last two dims, in scratch (x itself if no pad)."""
    if top == bottom == left == right == 0:
        return x
    H, W = x.shape[2:]
    return zero_padded("pad", x, top, left, H + top + bottom, W + left + right)


def _im2col(xp, kh, kw, OH, OW, stride, dilation, groups):
    """The windows cols[c, i, j, n, y, x] = xp[n, c, y·sh + i·dh, x·sw + j·dw] copied into a
    (groups, C/groups·kh·kw, N, OH·OW) scratch array; the view itself copies nothing."""
    N, C = xp.shape[:2]
    sN, sC, sH, sW = xp.strides
    (sh, sw), (dh, dw) = stride, dilation
    windows = as_strided(xp, (C, kh, kw, N, OH, OW),
                         (sC, sH * dh, sW * dw, sN, sH * sh, sW * sw), writeable=False)
    cols = _scratch.take("cols", windows.shape, xp.dtype)
    np.copyto(cols, windows)
    return cols.reshape(groups, C // groups * kh * kw, N, OH * OW)


def _inside(outputs, size, offset, stride):
    """(first, stop, first input) of the outputs o < ``outputs`` whose input o·stride + offset
    lies in [0, size); None when there is none."""
    first = max(0, -(offset // stride))
    stop = min(outputs, (size - 1 - offset) // stride + 1)
    return (first, stop, first * stride + offset) if first < stop else None


def _im2col_unpadded(x, kh, kw, OH, OW, stride, dilation, top, left, groups):
    """_im2col of x (n, C, H, W) padded by ``top`` and ``left`` (and whatever the bottom and
    right need), without the padded copy:

        cols[c, i, j, n, y, x] = x[n, c, y·sh + i·dh − top, x·sw + j·dw − left]   (0 outside)

    one strided copy per kernel offset (i, j) of the windows' pixels inside x, into a buffer
    kept for these sizes (Scratch.zeros) whose other cells, the padding, stay 0. Measured on
    the ResNet-20 3×3 layers (batch 128, one thread): pad + im2col 3.9 → 2.6 ms (64 channels,
    8×8), 3.5 → 3.0 ms (32, 16×16), about even at 16 channels, 32×32."""
    n, C, H, W = x.shape
    (sh, sw), (dh, dw) = stride, dilation
    key = ("cols", n, C, H, W, kh, kw, OH, OW, sh, sw, dh, dw, top, left, x.dtype.str)
    cols = _scratch.zeros(key, (C, kh, kw, n, OH, OW), x.dtype, 0)
    xt = x.transpose(1, 0, 2, 3)
    for i in range(kh):
        rows = _inside(OH, H, i * dh - top, sh)
        for j in range(kw):
            columns = _inside(OW, W, j * dw - left, sw)
            if rows is None or columns is None:
                continue
            (y0, y1, r), (x0, x1, c) = rows, columns
            cols[:, i, j, :, y0:y1, x0:x1] = xt[:, :, r:r + (y1 - y0 - 1) * sh + 1:sh,
                                                c:c + (x1 - x0 - 1) * sw + 1:sw]
    return cols.reshape(groups, C // groups * kh * kw, n, OH * OW)


def _windows(x, kh, kw, OH, OW, stride, dilation, pads, groups):
    """The im2col matrix of x (n, C, H, W) padded by pads = (top, bottom, left, right):
    without the padded copy (_im2col_unpadded) when there is padding, at most 9 kernel
    offsets and at least 32 channels; otherwise from the padded copy in one strided copy,
    which costs fewer calls: fewer GIL hand-overs on the op threads, and faster for few
    channels (LeNet-5's 5×5 layers: 1.1 vs 1.3 ms; ResNet-20's stem, 3→16, forward / backward
    4.4 / 6.1 → 3.4 / 5.5 ms at one thread, 2.5 / 6.4 → 2.0 / 5.4 at two; its 16→32 /2
    9.0 → 7.9 ms forward; 64→64 8×8 loses: 11.0 → 12.8)."""
    top, bottom, left, right = pads
    if kh * kw <= 9 and any(pads) and x.shape[1] >= 32:
        return _im2col_unpadded(x, kh, kw, OH, OW, stride, dilation, top, left, groups)
    return _im2col(_padded(x, top, bottom, left, right), kh, kw, OH, OW, stride, dilation,
                   groups)


_CHUNK_BYTES = 1 << 20


def _chunks(N, rows, pixels, dtype):
    """Slices of the batch whose im2col matrix (rows × images·pixels) holds ~1 MB (at least
    4 of them, for the op threads)."""
    return parallel.batch_slices(N, rows * pixels * np.dtype(dtype).itemsize, _CHUNK_BYTES)


PER_IMAGE_ROWS = 32  # weight gradients with this many window rows or fewer: image by image


class Conv2d(Function):
    """out = W ⋆ x + b over groups; see the module docstring for the formulas and shapes."""

    def forward(self, x, w, b, geo):
        g = self.geo = geo
        self.x, self.w = x, w
        choice = conv_select.choose(geo)
        if choice == "benchmark":
            choice = conv_benchmark.fastest(geo, x, w, b, self.needs_input_grad)
        self.algorithm = _ALGORITHMS.get(conv_select.choose_backward(geo, choice))
        if choice in _ALGORITHMS:
            return _ALGORITHMS[choice].forward(x, w, b, geo)
        G, Og = g.groups, g.O // g.groups
        out = recycled.empty((g.N, g.O, g.OH, g.OW), x.dtype)
        per_image = out.reshape(g.N, G, Og, g.OH * g.OW).transpose(1, 0, 2, 3)
        wg = w.reshape(G, 1, Og, -1)

        def chunk(part):
            cols = self._cols(x[part])
            np.matmul(wg, cols.transpose(0, 2, 1, 3), out=per_image[:, part])
            if b is not None:
                out[part] += b.reshape(-1, 1, 1)

        parallel.map(chunk, _chunks(g.N, g.C * g.kh * g.kw, g.OH * g.OW, x.dtype))
        return out

    def _cols(self, x):
        g = self.geo
        return _windows(x, g.kh, g.kw, g.OH, g.OW, (g.sh, g.sw), (g.dh, g.dw),
                        (g.pt, g.pb, g.pl, g.pr), g.groups)

    def backward(self, grad):
        g, needs = self.geo, self.needs_input_grad
        dx = dw = None
        if self.algorithm is not None:
            dx, dw = self.algorithm.backward(grad, self.x, self.w, g, needs[0], needs[1])
        elif needs[0] and g.sh == g.sw == 1 and g.O <= g.C:
            dx, dw = self._grads_transposed(grad, needs[1])
        else:
            dx, dw = self._grads_scattered(grad, needs[0], needs[1])
        db = _bias_grad(grad) if len(needs) > 2 and needs[2] else None
        return dx, dw, db

    def _grads_scattered(self, grad, input_grad, weight_grad):
        """dW = (cols · Gᵀ)ᵀ summed over the chunks (cols rebuilt from the input, not kept;
        see the module docstring), and dx scattered from Wᵀ·G chunk by chunk. With few
        rows per window (C/groups·kh·kw ≤ PER_IMAGE_ROWS: a first layer) dW is summed image
        by image instead, each image's product on its own gradient as it lies: the one long
        product over the chunk's pixels ran at ~20 GFLOP/s and needed G copied first (LeNet-5's
        conv1, 25 rows: 0.14 → 0.05 ms a chunk, and no copy when dx is not wanted)."""
        g = self.geo
        G, Og = g.groups, g.O // g.groups
        rows = g.C // G * g.kh * g.kw
        per_image = rows <= PER_IMAGE_ROWS
        dx = recycled.empty((g.N, g.C, g.H, g.W), grad.dtype) if input_grad else None

        def chunk(part):
            n = part.stop - part.start
            if input_grad or not per_image:
                gmat = _scratch.take("grad", (g.O, n, g.OH, g.OW), grad.dtype)
                np.copyto(gmat, grad[part].transpose(1, 0, 2, 3))
                gmat = gmat.reshape(G, Og, n * g.OH * g.OW)
            if input_grad:
                dx[part] = self._input_grad_scattered(gmat, n, grad.dtype)
            if not weight_grad:
                return None
            cols = self._cols(self.x[part])  # (G, rows, n, OH·OW)
            if per_image:  # Σ_n cols[n] · G[n]ᵀ, (G, n, rows, OH·OW) @ (G, n, OH·OW, Og)
                images = grad[part].reshape(n, G, Og, g.OH * g.OW).transpose(1, 0, 3, 2)
                return np.matmul(cols.transpose(0, 2, 1, 3), images).sum(axis=1)
            return np.matmul(cols.reshape(G, rows, n * g.OH * g.OW), gmat.transpose(0, 2, 1))

        dwts = parallel.map(chunk, _chunks(g.N, rows * G, g.OH * g.OW, grad.dtype))
        if not weight_grad:
            return dx, None
        dwt = parallel.sum_in_order(dwts, (G, rows, Og), grad.dtype)
        return dx, dwt.transpose(0, 2, 1).reshape(g.wshape)

    def _input_grad_scattered(self, gmat, n, dtype):
        """dx of n images: each window's column of Wᵀ·G added back onto the pixels it read."""
        g, G = self.geo, self.geo.groups
        dcols = _scratch.take("dcols", (G, g.C // G * g.kh * g.kw, gmat.shape[2]), dtype)
        np.matmul(self.w.reshape(G, g.O // G, -1).transpose(0, 2, 1), gmat, out=dcols)
        dcols = dcols.reshape(g.C, g.kh, g.kw, n, g.OH, g.OW)
        dxp = _scratch.take("dpad", (g.C, n, g.H + g.pt + g.pb, g.W + g.pl + g.pr), dtype)
        dxp.fill(0)
        rows, cols = g.sh * (g.OH - 1) + 1, g.sw * (g.OW - 1) + 1
        for i in range(g.kh):
            for j in range(g.kw):
                y, x = i * g.dh, j * g.dw
                dxp[:, :, y:y + rows:g.sh, x:x + cols:g.sw] += dcols[:, i, j]
        return dxp[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W].transpose(1, 0, 2, 3)

    def _grads_transposed(self, grad, weight_grad):
        """Stride 1: with Gp the gradient padded by d·(k − 1) − pad and gcols its windows
        (one im2col, flipped-kernel order),

            dx = conv(Gp, flip(W) with in ↔ out) = W'·gcols
            dW[o, c, i, j] = Σ x[n, c, y, x] · Gp[n, o, y + dh·(kh−1−i), x + dw·(kw−1−j)]
                           = (gcols · Xᵀ)ᵀ flipped,     X = x as a (C, N·H·W) matrix,

        both chunk by chunk over the batch."""
        g, w = self.geo, self.w
        G, Og, Cg = g.groups, g.O // g.groups, g.C // g.groups
        grad, pads = g.transposed_gradient(grad)
        wt = w[:, :, ::-1, ::-1].reshape(G, Og, Cg, g.kh * g.kw).transpose(0, 2, 1, 3)
        wt = wt.reshape(G, 1, Cg, -1)
        dx = recycled.empty((g.N, g.C, g.H, g.W), grad.dtype)
        per_image = dx.reshape(g.N, G, Cg, g.H * g.W).transpose(1, 0, 2, 3)

        def chunk(part):
            gcols = _windows(grad[part], g.kh, g.kw, g.H, g.W, (1, 1), (g.dh, g.dw), pads, G)
            np.matmul(wt, gcols.transpose(0, 2, 1, 3), out=per_image[:, part])
            if weight_grad:
                n = part.stop - part.start
                xmat = self.x[part].transpose(1, 0, 2, 3)  # a view when the chunk is one image
                if not xmat.flags.c_contiguous:
                    xmat = _scratch.take("input", xmat.shape, self.x.dtype)
                    np.copyto(xmat, self.x[part].transpose(1, 0, 2, 3))
                return np.matmul(gcols.reshape(G, -1, n * g.H * g.W),
                                 xmat.reshape(G, Cg, n * g.H * g.W).transpose(0, 2, 1))

        dwts = parallel.map(chunk, _chunks(g.N, g.O * g.kh * g.kw, g.H * g.W, grad.dtype))
        if not weight_grad:
            return dx, None
        dwt = parallel.sum_in_order(dwts, (G, Og * g.kh * g.kw, Cg), grad.dtype)
        dwt = dwt.reshape(G, Og, g.kh, g.kw, Cg).transpose(0, 1, 4, 2, 3)
        return dx, dwt[..., ::-1, ::-1].reshape(g.wshape)


def _bias_grad(grad):
    """db = Σ over (n, y, x) of the gradient: the images added first, then each channel's
    contiguous pixels (2× faster than one sum over axes (0, 2, 3): LeNet-5's conv1
    0.17 → 0.09 ms)."""
    N, O = grad.shape[:2]
    if N == 0 or not grad.flags.c_contiguous:
        return grad.sum(axis=(0, 2, 3))
    return grad.sum(axis=0).reshape(O, -1).sum(axis=1)


_ALGORITHMS = {"winograd": winograd, "winograd4": winograd4, "pointwise": pointwise,
               "shifted": shifted, "chwn": chwn}


def _tuple(value, n, name, op):
    """An int or a length-n sequence of ints as an n-tuple of positive ints."""
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != n or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < 1 for v in values):
        raise ValueError(f"{op}: {name} must be positive, got {value!r}")
    return tuple(int(v) for v in values)


def _pads(padding, kernel, stride, dilation, op):
    """Padding as (before, after) per spatial dim, PyTorch's rule for 'same' and 'valid'.

    'same' pads d·(k − 1) in total, ⌊total/2⌋ before and the rest after (so an even kernel
    pads one more at the end), and needs stride 1."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a tuple of "
                             f"{n} ints, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided "
                             f"convolutions (stride={stride})")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    values = (padding,) * n if isinstance(padding, (int, np.integer)) else tuple(padding)
    if len(values) != n or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a tuple of {n} "
                         f"ints, got {padding!r}")
    if any(v < 0 for v in values):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return tuple((int(v), int(v)) for v in values)


def _check(op, x, w, b, groups, layout):
    """Types, ranks, dtypes and channel counts, with errors naming the op and the shapes."""
    for name, t in (("input", x), ("weight", w), ("bias", b)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    k = len(layout)
    if w.ndim != k + 2:
        kernel = "k" if k == 1 else "kh, kw"
        raise ValueError(f"{op}: expected weight (out, in/groups, {kernel}), "
                         f"got {tuple(w.shape)}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if w.shape[0] % groups:
        raise ValueError(f"{op}: out channels {w.shape[0]} of weight {tuple(w.shape)} are not "
                         f"divisible by groups={groups}")
    C = w.shape[1] * groups
    if x.ndim not in (k + 1, k + 2) or x.shape[-k - 1] != C:
        want = ", ".join(("N", str(C)) + layout)
        raise ValueError(f"{op}: expected input ({want}) for weight {tuple(w.shape)}"
                         f"{f' and groups={groups}' if groups > 1 else ''}, "
                         f"got {tuple(x.shape)}")
    if x.dtype.kind != "f" or w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        raise TypeError(f"{op}: input, weight and bias must share one floating dtype, got "
                        f"{x.dtype}, {w.dtype}{'' if b is None else f', {b.dtype}'}")
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ValueError(f"{op}: expected bias ({w.shape[0]},) for weight {tuple(w.shape)}, "
                         f"got {tuple(b.shape)}")


def _conv(op, x, w, b, stride, pads, dilation, groups):
    """Run Conv2d on a 4-d input after checking that every window fits."""
    geo = _Geometry(x.shape, w.shape, stride, sum(pads, ()), dilation, groups)
    if geo.OH < 1 or geo.OW < 1:
        padded = (geo.H + geo.pt + geo.pb, geo.W + geo.pl + geo.pr)
        span = (geo.dh * (geo.kh - 1) + 1, geo.dw * (geo.kw - 1) + 1)
        raise ValueError(f"{op}: the dilated kernel {span} is larger than the padded input "
                         f"{padded} (input {tuple(x.shape)}, weight {tuple(w.shape)})")
    return Conv2d.apply(x, w, b, geo=geo)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation, as in PyTorch) of input (N, C, H, W) or (C, H, W)
    with weight (O, C/groups, kh, kw) and optional bias (O,), giving (N, O, OH, OW).

    stride, dilation: int or (sh, sw); padding: int, (ph, pw), 'valid' or 'same'."""
    _check("conv2d", input, weight, bias, groups, ("H", "W"))
    stride = _tuple(stride, 2, "stride", "conv2d")
    dilation = _tuple(dilation, 2, "dilation", "conv2d")
    pads = _pads(padding, weight.shape[2:], stride, dilation, "conv2d")
    if input.ndim == 3:
        return _conv("conv2d", input.unsqueeze(0), weight, bias, stride, pads, dilation,
                     groups).squeeze(0)
    return _conv("conv2d", input, weight, bias, stride, pads, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution of input (N, C, L) or (C, L) with weight (O, C/groups, k) and optional
    bias (O,), giving (N, O, OL); computed as conv2d over a height of 1.

    stride, dilation: int or (s,); padding: int, (p,), 'valid' or 'same'."""
    _check("conv1d", input, weight, bias, groups, ("L",))
    stride = _tuple(stride, 1, "stride", "conv1d")
    dilation = _tuple(dilation, 1, "dilation", "conv1d")
    pads = _pads(padding, weight.shape[2:], stride, dilation, "conv1d")
    x = input.unsqueeze(-2)
    if input.ndim == 2:
        x = x.unsqueeze(0)
    out = _conv("conv1d", x, weight.unsqueeze(2), bias, (1,) + stride, ((0, 0),) + pads,
                (1,) + dilation, groups)
    out = out.squeeze(2)
    return out.squeeze(0) if input.ndim == 2 else out
