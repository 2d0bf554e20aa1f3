"""Stride-1 convolution as kh·kw GEMMs on shifted views of the padded input: no im2col.

With xp the padded input (n, C, Hp, Wp) and each image's rows laid end to end, the window
offset (i, j) of every output pixel is one shift of that flat image:

    X_ij[n, c, q] = xp[n, c].flat[i·dh·Wp + j·dw + q],      q = y·Wp + x < OH·Wp

a strided *view* (no copy) whose rows are runs of the input, so BLAS reads it in place and

    out[n, :, q] = Σ_(i,j) W[:, :, i, j] · X_ij[n, :, q] + b        (O, C) @ (C, OH·Wp)

Columns q with x ≥ OW (Wp − OW per row, "junk") run over the row's end; they are computed and
dropped (the last reads (kw − 1)·dw past the image: zeros kept after each channel). Backward:

    dx = the same sum on the gradient padded by d·(k − 1) − pad, with W[:, :, i, j]ᵀ at the
         flipped offset (kh − 1 − i, kw − 1 − j)          (the transposed convolution)
    dW[:, :, i, j] = Σ_n G[n] · X_ij[n]ᵀ                  G: the gradient (n, O, OH·Wp) with
                                                          zeros in the junk columns

im2col copies the kh·kw-times larger window matrix before its one GEMM; here the GEMMs read the
input where it lies and only the (n, O, OH·Wp) sum is written, kh·kw times (in cache: the
batch goes through in chunks of ~1 MB of output). On the ResNet-20 3×3 layers (batch 128,
float32, one thread) the forward measured 15.7 → 12.9 ms (16 channels, 32×32), 11.3 → 9.1
(32, 16×16), 8.7 → 8.1 (64, 8×8); with few channels it loses (3→16: 2.9 → 7.6 ms), see the
table in ops/conv_select.py.
"""

import numpy as np

from gradkit.ops import parallel
from gradkit.ops.scratch import recycled, scratch, zero_padded


def applies(geo):
    """Stride 1, one group (any kernel, padding and dilation)."""
    return geo.sh == geo.sw == 1 and geo.groups == 1


_CHUNK_BYTES = 1 << 20


def _chunks(N, rows, pixels, dtype):
    """Slices of the batch whose (images, rows, pixels) sum holds ~1 MB (at least 4 of them,
    for the op threads)."""
    return parallel.batch_slices(N, rows * pixels * np.dtype(dtype).itemsize, _CHUNK_BYTES)


def _padded_flat(slot, a, top, left, height, width, tail):
    """a (n, C, H, W) zero-padded to (height, width) with a at (top, left), each channel's
    padded image laid flat and followed by ``tail`` zeros: an (n, C, height·width + tail)
    array in a buffer kept for these sizes (Scratch.zeros), so that every shift X_k is a
    plain slice (as_strided took 5 µs a view, 2,400 views a ResNet-20 step)."""
    n, C, H, W = a.shape
    key = (slot, "flat", n, C, H, W, top, left, height, width, tail, a.dtype.str)
    flat = scratch.zeros(key, (n, C, height * width + tail), a.dtype, 0)
    image = np.reshape(flat[:, :, :height * width], (n, C, height, width), copy=False)
    image[:, :, top:top + H, left:left + W] = a
    return flat


def _shifted(flat, offset, rows, Wp):
    """X[n, c, q] = flat[n, c, offset + q] for q < rows·Wp: a view."""
    return flat[:, :, offset:offset + rows * Wp]


def _sum_of_shifts(flat, mats, offsets, rows, Wp, slot):
    """Σ_k mats[k] · X_k, X_k the view at offsets[k], as an (n, M, rows·Wp) scratch array."""
    n, M = flat.shape[0], mats[0].shape[0]
    total = scratch.take(slot, (n, M, rows * Wp), flat.dtype)
    term = scratch.take(slot + "_term", total.shape, flat.dtype)
    np.matmul(mats[0], _shifted(flat, offsets[0], rows, Wp), out=total)
    for mat, offset in zip(mats[1:], offsets[1:]):
        total += np.matmul(mat, _shifted(flat, offset, rows, Wp), out=term)
    return total


def _offsets(geo, Wp, flipped=False):
    """The flat offset of every kernel position (i, j), in the order of w[:, :, i, j]."""
    return [((geo.kh - 1 - i if flipped else i) * geo.dh) * Wp
            + (geo.kw - 1 - j if flipped else j) * geo.dw
            for i in range(geo.kh) for j in range(geo.kw)]


def forward(x, w, b, geo):
    """out (N, O, OH, OW) = w ⋆ x + b at stride 1."""
    Hp, Wp = geo.H + geo.pt + geo.pb, geo.W + geo.pl + geo.pr
    mats = list(np.ascontiguousarray(w.transpose(2, 3, 0, 1)).reshape(-1, geo.O, geo.C))
    offsets = _offsets(geo, Wp)
    bias = 0 if b is None else b.reshape(1, -1, 1, 1)
    out = recycled.empty((geo.N, geo.O, geo.OH, geo.OW), x.dtype)

    def chunk(part):
        xp = _padded_flat("shift_x", x[part], geo.pt, geo.pl, Hp, Wp, (geo.kw - 1) * geo.dw)
        total = _sum_of_shifts(xp, mats, offsets, geo.OH, Wp, "shift_out")
        valid = total.reshape(-1, geo.O, geo.OH, Wp)[..., :geo.OW]
        np.add(valid, bias, out=out[part])

    parallel.map(chunk, _chunks(geo.N, geo.O, geo.OH * Wp, x.dtype))
    return out


def backward(grad, x, w, geo, input_grad, weight_grad):
    """(dx, dW) of the output gradient (N, O, OH, OW); either is None when not wanted."""
    dx = _input_grad(grad, w, geo) if input_grad else None
    return dx, _weight_grad(grad, x, geo) if weight_grad else None


def _input_grad(grad, w, geo):
    """dx: the transposed convolution, as the sum of shifts of the padded gradient."""
    grad, (top, _, left, _) = geo.transposed_gradient(grad)
    Hg, Wg = geo.H + geo.dh * (geo.kh - 1), geo.W + geo.dw * (geo.kw - 1)
    mats = list(np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(-1, geo.C, geo.O))
    offsets = _offsets(geo, Wg, flipped=True)
    dx = recycled.empty((geo.N, geo.C, geo.H, geo.W), grad.dtype)

    def chunk(part):
        gp = _padded_flat("shift_g", grad[part], top, left, Hg, Wg, (geo.kw - 1) * geo.dw)
        total = _sum_of_shifts(gp, mats, offsets, geo.H, Wg, "shift_dx")
        dx[part] = total.reshape(-1, geo.C, geo.H, Wg)[..., :geo.W]

    parallel.map(chunk, _chunks(geo.N, geo.C, geo.H * Wg, grad.dtype))
    return dx


def _weight_grad(grad, x, geo):
    """dW[:, :, i, j] = Σ_n G[n] · X_ij[n]ᵀ, summed over the chunks of the batch."""
    Hp, Wp = geo.H + geo.pt + geo.pb, geo.W + geo.pl + geo.pr
    offsets = _offsets(geo, Wp)

    def chunk(part):
        xp = _padded_flat("shift_x", x[part], geo.pt, geo.pl, Hp, Wp, (geo.kw - 1) * geo.dw)
        gpw = zero_padded("shift_gw", grad[part], 0, 0, geo.OH, Wp)
        gmat = gpw.reshape(gpw.shape[0], geo.O, geo.OH * Wp)
        return np.stack([np.matmul(gmat, _shifted(xp, k, geo.OH, Wp).transpose(0, 2, 1)).sum(0)
                         for k in offsets])

    dw = parallel.sum_in_order(parallel.map(chunk, _chunks(geo.N, max(geo.O, geo.C),
                                                           geo.OH * Wp, grad.dtype)),
                               (geo.kh * geo.kw, geo.O, geo.C), grad.dtype)
    return np.ascontiguousarray(dw.reshape(geo.kh, geo.kw, geo.O, geo.C).transpose(2, 3, 0, 1))
