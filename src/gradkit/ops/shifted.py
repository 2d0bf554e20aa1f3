"""Stride-1 convolution as GEMMs on shifted views of the padded input: no im2col.

With xp the padded input (n, C, Hp, Wp) and each image's rows laid end to end, the window
offset (i, j) of every output pixel is one shift of that flat image:

    X_ij[n, c, q] = xp[n, c].flat[i·dh·Wp + j·dw + q],      q = y·Wp + x < OH·Wp

so that out[n, :, q] = Σ_(i,j) W[:, :, i, j] · X_ij[n, :, q] + b. The kw column shifts are
stacked along the channels, one copy of whole rows each (memcpy speed, where im2col copies
kh·kw times with short strided runs):

    S[n, j·C + c, p] = xp[n, c].flat[j·dw + p]                  (n, kw·C, Hp·Wp)
    out[n, :, q] = Σ_i W_i · S[n, :, i·dh·Wp + q] + b           W_i[o, j·C + c] = W[o, c, i, j]

kh GEMMs (O, kw·C) @ (kw·C, OH·Wp) per image, on views of S at the row offsets i·dh·Wp: a
contraction kw times longer than one GEMM per offset (which ran at 60-80% of the speed on
AVX-512 OpenBLAS) and 1/kw of the additions. Columns q with x ≥ OW (Wp − OW per row,
"junk") run over the row's end; they are computed and dropped (the last read (kw − 1)·dw
past the image: zeros kept after each channel). Backward:

    dx = the same correlation on the gradient padded by d·(k − 1) − pad, with the kernel
         flipped and in ↔ out (the transposed convolution)
    dW[:, :, i, j] = Σ_n G[n] · X_ij[n]ᵀ                  G: the gradient (n, O, OH·Wp) with
                                                          zeros in the junk columns

(dW keeps one GEMM per offset: its contraction is over the pixels, long already). The batch
goes through in chunks of ~512 kB of output, so the stack and the sum stay in cache. On the
ResNet-20 3×3 layers (batch 128, float32, one thread, an AVX-512 VM), forward / backward ms,
one GEMM per offset with 1 MB chunks → stacked with 512 kB: 16 channels 32×32 14.0 / 25.6 →
11.4 / 21.5, 32 channels 16×16 10.3 / 21.0 → 8.8 / 18.4 (im2col: 14.6 / 23.9 and 10.6 /
18.3); the ResNet-20 step 699 → 657 ms at one thread, 452 → 445 at two. With few channels it
loses (see the table in ops/conv_select.py).
"""

import numpy as np

from gradkit.ops import parallel
from gradkit.ops.scratch import recycled, scratch, zero_padded


def applies(geo):
    """Stride 1, one group (any kernel, padding and dilation)."""
    return geo.sh == geo.sw == 1 and geo.groups == 1


_CHUNK_BYTES = 1 << 19


def _chunks(N, rows, pixels, dtype):
    """Slices of the batch whose (images, rows, pixels) sum holds ~512 kB (at least 4 of them,
    for the op threads): forward's stack of column shifts is kw times larger than the sum,
    and both stay in cache. ResNet-20's layers, batch 128, forward + backward ms, 1 MB →
    512 kB → 256 kB chunks: 32→32 16×16 at one thread 21.7 → 18.4 → 16.6 (forward 9.7 → 8.8
    → 8.4), but 16→16 32×32 at two threads 13.6 with 512 kB against 19.6 with 256 kB (the
    chunking is the same at every thread count, see parallel.batch_slices)."""
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


def _stacked(flat, kw, dw, length, slot):
    """S[n, j·C + c, q] = flat[n, c, j·dw + q] for q < length: the kw column shifts of the flat
    images stacked along the channels, an (n, kw·C, length) scratch array (kw copies of
    whole rows, as fast as memcpy)."""
    n, C = flat.shape[:2]
    stack = scratch.take(slot, (n, kw, C, length), flat.dtype)
    for j in range(kw):
        stack[:, j] = flat[:, :, j * dw:j * dw + length]
    return stack.reshape(n, kw * C, length)


def _row_mats(kernel):
    """The kernel (M, C, kh, kw) as kh matrices (M, kw·C), row i's [m, j·C + c] = k[m, c, i, j],
    in the order of _stacked's rows: a (kh, M, kw·C) array."""
    M, C, kh, kw = kernel.shape
    return np.ascontiguousarray(kernel.transpose(2, 0, 3, 1)).reshape(kh, M, kw * C)


def _correlate(flat, mats, rows, Wp, dh, dw, slot):
    """Σ_(i,j) kernel[:, :, i, j] · X_ij as an (n, M, rows·Wp) scratch array, X_ij the shift
    of the flat images by i·dh·Wp + j·dw and mats = _row_mats(kernel): one GEMM per kernel
    row i over the stacked column shifts (K = kw·C, kw times longer than one GEMM per offset,
    which ran at 60-80% of their speed), on the view of the stack at i·dh·Wp."""
    (n, C), (kh, M, K) = flat.shape[:2], mats.shape
    span = rows * Wp
    stack = _stacked(flat, K // C, dw, (kh - 1) * dh * Wp + span, slot + "_stack")  # kw = K / C
    total = scratch.take(slot, (n, M, span), flat.dtype)
    term = scratch.take(slot + "_term", total.shape, flat.dtype)
    for i, mat in enumerate(mats):
        view = stack[:, :, i * dh * Wp:i * dh * Wp + span]
        if i == 0:
            np.matmul(mat, view, out=total)
        else:
            total += np.matmul(mat, view, out=term)
    return total


def forward(x, w, b, geo):
    """out (N, O, OH, OW) = w ⋆ x + b at stride 1."""
    Hp, Wp = geo.H + geo.pt + geo.pb, geo.W + geo.pl + geo.pr
    mats = _row_mats(w)
    bias = 0 if b is None else b.reshape(1, -1, 1, 1)
    out = recycled.empty((geo.N, geo.O, geo.OH, geo.OW), x.dtype)

    def chunk(part):
        xp = _padded_flat("shift_x", x[part], geo.pt, geo.pl, Hp, Wp, (geo.kw - 1) * geo.dw)
        total = _correlate(xp, mats, geo.OH, Wp, geo.dh, geo.dw, "shift_out")
        valid = total.reshape(-1, geo.O, geo.OH, Wp)[..., :geo.OW]
        np.add(valid, bias, out=out[part])

    parallel.map(chunk, _chunks(geo.N, geo.O, geo.OH * Wp, x.dtype))
    return out


def backward(grad, x, w, geo, input_grad, weight_grad):
    """(dx, dW) of the output gradient (N, O, OH, OW); either is None when not wanted."""
    dx = _input_grad(grad, w, geo) if input_grad else None
    return dx, _weight_grad(grad, x, geo) if weight_grad else None


def _input_grad(grad, w, geo):
    """dx: the transposed convolution, the same correlation on the padded gradient with the
    kernel flipped and in ↔ out."""
    grad, (top, _, left, _) = geo.transposed_gradient(grad)
    Hg, Wg = geo.H + geo.dh * (geo.kh - 1), geo.W + geo.dw * (geo.kw - 1)
    mats = _row_mats(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # flipped, in ↔ out
    dx = recycled.empty((geo.N, geo.C, geo.H, geo.W), grad.dtype)

    def chunk(part):
        gp = _padded_flat("shift_g", grad[part], top, left, Hg, Wg, (geo.kw - 1) * geo.dw)
        total = _correlate(gp, mats, geo.H, Wg, geo.dh, geo.dw, "shift_dx")
        dx[part] = total.reshape(-1, geo.C, geo.H, Wg)[..., :geo.W]

    parallel.map(chunk, _chunks(geo.N, geo.C, geo.H * Wg, grad.dtype))
    return dx


def _weight_grad(grad, x, geo):
    """dW[:, :, i, j] = Σ_n G[n] · X_ij[n]ᵀ, one GEMM per kernel offset on the shifted view
    (stacking the column shifts, as forward does, made these 1.2-1.4× slower: their K is the
    pixels, long already), summed over the chunks of the batch."""
    Hp, Wp = geo.H + geo.pt + geo.pb, geo.W + geo.pl + geo.pr
    span = geo.OH * Wp
    offsets = [i * geo.dh * Wp + j * geo.dw for i in range(geo.kh) for j in range(geo.kw)]

    def chunk(part):
        xp = _padded_flat("shift_x", x[part], geo.pt, geo.pl, Hp, Wp, (geo.kw - 1) * geo.dw)
        gpw = zero_padded("shift_gw", grad[part], 0, 0, geo.OH, Wp)
        gmat = gpw.reshape(gpw.shape[0], geo.O, span)
        return np.stack([np.matmul(gmat, xp[:, :, k:k + span].transpose(0, 2, 1)).sum(0)
                         for k in offsets])

    dw = parallel.sum_in_order(parallel.map(chunk, _chunks(geo.N, max(geo.O, geo.C), span,
                                                           grad.dtype)),
                               (geo.kh * geo.kw, geo.O, geo.C), grad.dtype)
    return np.ascontiguousarray(dw.reshape(geo.kh, geo.kw, geo.O, geo.C).transpose(2, 3, 0, 1))
