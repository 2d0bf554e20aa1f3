"""im2col with the batch innermost, the (C, H, W, N) layout of cuda-convnet: for small images.

In PyTorch's layout (N, C, H, W) each window copy of im2col moves runs of OW values (one row of
one kernel offset of one image; single values at stride 2), and the input gradient's scatter
adds runs as short: 8 values in the last stage of a CIFAR ResNet, 10 in LeNet-5's second
convolution, and NumPy pays for every run. With the n images of a chunk innermost,

    xt[c, y, x, ν] = x[ν, c, y − pt, x − pl]                   (zero outside x: the padding)
    cols[(c, i, j), (y, x, ν)] = xt[c, y·sh + i·dh, x·sw + j·dw, ν]
    out[o, (y, x, ν)] = Σ_(c,i,j) W[o, (c, i, j)] · cols[(c, i, j), (y, x, ν)] + b[o]

every run is OW·n values at stride 1 (n at larger strides), and the product is one
(O, C·kh·kw) @ (C·kh·kw, OH·OW·n) GEMM per chunk. The price is two transposed copies per
chunk (x into xt, and the product back into (N, O, OH, OW)), each the size of the input or
output, where the window copy is kh·kw times the input: it pays for small images and loses
for large ones, whose NCHW runs are long already (see the table in ops/conv_select.py).

Backward, with G the output gradient in the same layout, an (O, OH·OW·n) matrix:

    dW = (cols · Gᵀ)ᵀ                      (the taller factor first, as in ops/conv.py)
    dx, at stride 1 when O ≤ C: the transposed convolution, gcols the windows of G padded by
        d·(k − 1) − pad, W' the kernel flipped with in ↔ out:
            dx = W' · gcols,   dW = (gcols · Xᵀ)ᵀ flipped,   X = xt without padding
    dx, otherwise: dcols = Wᵀ · G, each kernel offset's rows added back onto the pixels its
        windows read (one strided add of OW·n-value runs per offset)

All of it runs chunk by chunk over the batch (~2 MB of windows, on the op threads; the weight
gradient's partial sums added in chunk order, see ops/parallel.py).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gradkit.ops import parallel
from gradkit.ops.scratch import recycled, scratch


def applies(geo):
    """Any kernel, stride, padding and dilation; one group."""
    return geo.groups == 1


_CHUNK_BYTES = 1 << 21


def _chunks(N, rows, pixels, dtype):
    """Slices of the batch whose window matrix (rows × pixels·images) holds ~2 MB (at least 4
    of them, for the op threads). With 1 MB, LeNet-5's 6→16 5×5 layer made 8 chunks of ~40
    small NumPy calls each (25 of them the scatter's strided adds), and two threads ran them
    no faster than one, each chunk twice as long beside the other (the GIL held through every
    call's dispatch): the LeNet-5 step at 2 threads 11.0-12.4 → 10.2-11.4 ms with 2 MB (three
    A/B runs), at 1 thread even; ResNet-20 even at both."""
    return parallel.batch_slices(N, rows * pixels * np.dtype(dtype).itemsize, _CHUNK_BYTES)


def _batch_inner(slot, a, top, left, height, width):
    """a (n, C, H, W) as (C, height, width, n) with a at [top:top + H, left:left + W] and zeros
    around it, in a buffer kept for these sizes whose border stays zero (Scratch.zeros)."""
    n, C, H, W = a.shape
    key = (slot, n, C, H, W, height, width, top, left, a.dtype.str)  # all that places a
    out = scratch.zeros(key, (C, height, width, n), a.dtype, 0)
    out[:, top:top + H, left:left + W] = a.transpose(1, 2, 3, 0)
    return out


def _windows(xt, kh, kw, OH, OW, stride, dilation, slot):
    """cols[(c, i, j), (y, x, ν)] = xt[c, y·sh + i·dh, x·sw + j·dw, ν] copied into a scratch
    (C·kh·kw, OH·OW·n) matrix; the strided view itself copies nothing."""
    C, _, _, n = xt.shape
    sC, sH, sW, sN = xt.strides
    (sh, sw), (dh, dw) = stride, dilation
    view = as_strided(xt, (C, kh, kw, OH, OW, n), (sC, sH * dh, sW * dw, sH * sh, sW * sw, sN),
                      writeable=False)
    cols = scratch.take(slot, view.shape, xt.dtype)
    np.copyto(cols, view)
    return cols.reshape(C * kh * kw, OH * OW * n)


def _padded_size(geo):
    return geo.H + geo.pt + geo.pb, geo.W + geo.pl + geo.pr


def _input_windows(x, geo):
    """The window matrix of a chunk of the input x (n, C, H, W)."""
    Hp, Wp = _padded_size(geo)
    xt = _batch_inner("chwn_x", x, geo.pt, geo.pl, Hp, Wp)
    return _windows(xt, geo.kh, geo.kw, geo.OH, geo.OW, (geo.sh, geo.sw), (geo.dh, geo.dw),
                    "chwn_cols")


def forward(x, w, b, geo):
    """out (N, O, OH, OW) = w ⋆ x + b."""
    wmat = w.reshape(geo.O, -1)
    out = recycled.empty((geo.N, geo.O, geo.OH, geo.OW), x.dtype)

    def chunk(part):
        cols = _input_windows(x[part], geo)
        product = np.matmul(wmat, cols,
                            out=scratch.take("chwn_out", (geo.O, cols.shape[1]), x.dtype))
        if b is not None:
            product += b.reshape(-1, 1)
        n = part.stop - part.start
        out[part] = product.reshape(geo.O, geo.OH, geo.OW, n).transpose(3, 0, 1, 2)

    parallel.map(chunk, _chunks(geo.N, geo.C * geo.kh * geo.kw, geo.OH * geo.OW, x.dtype))
    return out


def backward(grad, x, w, geo, input_grad, weight_grad):
    """(dx, dW) of the output gradient (N, O, OH, OW); either is None when not wanted."""
    if input_grad and geo.sh == geo.sw == 1 and geo.O <= geo.C:
        return _grads_transposed(grad, x, w, geo, weight_grad)
    return _grads_scattered(grad, x, w, geo, input_grad, weight_grad)


def _grads_scattered(grad, x, w, geo, input_grad, weight_grad):
    """dW = (cols · Gᵀ)ᵀ and dx scattered from Wᵀ · G, chunk by chunk."""
    K = geo.C * geo.kh * geo.kw
    wt = w.reshape(geo.O, K).T
    dx = recycled.empty((geo.N, geo.C, geo.H, geo.W), grad.dtype) if input_grad else None

    def chunk(part):
        gmat = _batch_inner("chwn_g", grad[part], 0, 0, geo.OH, geo.OW).reshape(geo.O, -1)
        if input_grad:
            dcols = np.matmul(wt, gmat,
                              out=scratch.take("chwn_dcols", (K, gmat.shape[1]), grad.dtype))
            dx[part] = _scattered(dcols, geo, part.stop - part.start).transpose(3, 0, 1, 2)
        if weight_grad:
            return np.matmul(_input_windows(x[part], geo), gmat.T)

    dwts = parallel.map(chunk, _chunks(geo.N, K, geo.OH * geo.OW, grad.dtype))
    if not weight_grad:
        return dx, None
    return dx, parallel.sum_in_order(dwts, (K, geo.O), grad.dtype).T.reshape(geo.wshape)


def _scattered(dcols, geo, n):
    """dxt[c, y·sh + i·dh, x·sw + j·dw, ν] = Σ over the windows (i, j) that read that pixel
    of dcols[(c, i, j), (y, x, ν)], cropped to the unpadded input: a (C, H, W, n) view."""
    Hp, Wp = _padded_size(geo)
    dcols = dcols.reshape(geo.C, geo.kh, geo.kw, geo.OH, geo.OW, n)
    dxt = scratch.take("chwn_dxt", (geo.C, Hp, Wp, n), dcols.dtype)
    dxt.fill(0)
    rows, cols = geo.sh * (geo.OH - 1) + 1, geo.sw * (geo.OW - 1) + 1
    for i in range(geo.kh):
        for j in range(geo.kw):
            y, x = i * geo.dh, j * geo.dw
            dxt[:, y:y + rows:geo.sh, x:x + cols:geo.sw] += dcols[:, i, j]
    return dxt[:, geo.pt:geo.pt + geo.H, geo.pl:geo.pl + geo.W]


def _grads_transposed(grad, x, w, geo, weight_grad):
    """Stride 1: dx = W' · gcols and dW = (gcols · Xᵀ)ᵀ flipped, from one window copy of the
    padded gradient per chunk (the module docstring)."""
    kh, kw, dh, dw = geo.kh, geo.kw, geo.dh, geo.dw
    grad, (top, _, left, _) = geo.transposed_gradient(grad)
    Hg, Wg = geo.H + dh * (kh - 1), geo.W + dw * (kw - 1)
    K = geo.O * kh * kw
    wt = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)).reshape(geo.C, K)
    dx = recycled.empty((geo.N, geo.C, geo.H, geo.W), grad.dtype)

    def chunk(part):
        n = part.stop - part.start
        gt = _batch_inner("chwn_gp", grad[part], top, left, Hg, Wg)
        gcols = _windows(gt, kh, kw, geo.H, geo.W, (1, 1), (dh, dw), "chwn_gcols")
        product = np.matmul(wt, gcols,
                            out=scratch.take("chwn_dx", (geo.C, gcols.shape[1]), grad.dtype))
        dx[part] = product.reshape(geo.C, geo.H, geo.W, n).transpose(3, 0, 1, 2)
        if weight_grad:
            xmat = _batch_inner("chwn_xi", x[part], 0, 0, geo.H, geo.W).reshape(geo.C, -1)
            return np.matmul(gcols, xmat.T)

    dwts = parallel.map(chunk, _chunks(geo.N, K, geo.H * geo.W, grad.dtype))
    if not weight_grad:
        return dx, None
    dwt = parallel.sum_in_order(dwts, (K, geo.C), grad.dtype)
    dwt = dwt.reshape(geo.O, kh, kw, geo.C).transpose(0, 3, 1, 2)
    return dx, np.ascontiguousarray(dwt[..., ::-1, ::-1])
