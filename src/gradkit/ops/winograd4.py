"""Winograd F(4×4, 3×3) with the batch innermost: a 3×3, stride-1 convolution with 4× fewer
multiplications than im2col, for the wide layers (64 channels and more, ops/conv_select.py).

The padded input is cut into 6×6 tiles d that overlap by 2 (tile (ty, tx) starts at pixel
(4·ty, 4·tx)); each gives a 4×4 block of the output (Lavin & Gray 2016, points 0, ±1, ±2, ∞):

    Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A

    Bᵀ = [4  0 −5  0  1  0]    G = [ 1/4     0     0 ]    Aᵀ = [1  1  1  1  1  0]
         [0 −4 −4  1  1  0]        [−1/6  −1/6  −1/6 ]         [0  1 −1  2 −2  0]
         [0  4 −4 −1  1  0]        [−1/6   1/6  −1/6 ]         [0  1  1  4  4  0]
         [0 −2 −1  2  1  0]        [1/24  1/12   1/6 ]         [0  1 −1  8 −8  1]
         [0  2 −1 −2  1  0]        [1/24 −1/12   1/6 ]
         [0  4  0 −5  0  1]        [  0     0     1  ]

With U[ξν] = (G g Gᵀ)[ξν] an (O, C) matrix and V[ξν] = (Bᵀ d B)[ξν] a (C, tiles) matrix, the
sum over channels is one batched GEMM over the 36 tile positions, M[ξν] = U[ξν] · V[ξν]:
36·O·C multiplications per 16 outputs where im2col needs 144·O·C.

Layout: as in ops/chwn.py, a chunk of n images is first copied to (C, H, W, n), so that the
tiles are gathered in runs of n values into a (6, 6, C, TH·TW·n) array, and each transform is
two small products over one axis of the tile, Bᵀ · (6, 6·rest) and then Bᵀ · (6, 6, rest)
(2-3× faster than one product with the 36×36 Kronecker matrix: 12 instead of 72 flops a
value). The transforms are then ~40% of the work, where in NCHW with whole-array additions
(ops/winograd.py's F(2×2, 3×3)) they were most of it.

Backward, the adjoint of each linear step:

    dx = the same F(4×4, 3×3) convolution of the output gradient padded by 2 − pad, with the
         kernel flipped and in ↔ out (the transposed convolution at stride 1)
    dM = A dY Aᵀ per 4×4 block of the output gradient (a (36, O, tiles) array)
    dUᵀ[ξν] = V[ξν] · dM[ξν]ᵀ   (V rebuilt from the input, not kept),   dW = Gᵀ dU G

Float error: the transforms multiply by up to 8 (Aᵀ) and 5 (Bᵀ), so float32 results are
~5-10× further from the exact value than im2col's (on the 64→64 8×8 case of
tests/ops/test_winograd4.py, relative to the largest value of output, dx and dW: 1.9-3.3e-6
against im2col's 2.9-4.9e-7, on two machines; bounded there). That is the precision cuDNN's
Winograd algorithms give; float64 is exact to ~1e-14.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gradkit.ops import parallel
from gradkit.ops.chwn import _batch_inner
from gradkit.ops.scratch import recycled, scratch

BT = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
               [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], float)
G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
AT = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
               [0, 1, -1, 8, -8, 1]], float)


def applies(geo):
    """F(4×4, 3×3) computes this convolution: 3×3 kernel, stride 1, no dilation, one group."""
    return ((geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw, geo.groups)
            == (3, 3, 1, 1, 1, 1, 1))


def _tiles(OH, OW):
    """Tile counts (TH, TW) covering an OH × OW output."""
    return -(-OH // 4), -(-OW // 4)


def _along_both_axes(matrix, tiles, slot):
    """matrix · t · matrixᵀ for every tile t of ``tiles`` (k, k, rest): the product over the
    first axis as one (r, k) @ (k, k·rest) GEMM, then over the second as r (r, k) @ (k, rest)
    GEMMs; the result is a scratch (r, r, rest) array."""
    k, _, rest = tiles.shape
    r = matrix.shape[0]
    rows = np.matmul(matrix, tiles.reshape(k, k * rest),
                     out=scratch.take(slot + "_rows", (r, k * rest), tiles.dtype))
    return np.matmul(matrix, rows.reshape(r, k, rest),
                     out=scratch.take(slot, (r, r, rest), tiles.dtype))


def _input_transform(x, pads, TH, TW):
    """V = Bᵀ d B of every 6×6 tile of a chunk x (n, C, H, W) padded by pads = (top, left)
    (and zeros at the bottom and right up to whole tiles): a scratch (36, C, TH·TW·n) array."""
    n, C = x.shape[:2]
    xt = _batch_inner("wino4_x", x, pads[0], pads[1], 4 * TH + 2, 4 * TW + 2)
    sC, sH, sW, sN = xt.strides
    view = as_strided(xt, (6, 6, C, TH, TW, n), (sH, sW, sC, 4 * sH, 4 * sW, sN),
                      writeable=False)
    d = scratch.take("wino4_d", view.shape, x.dtype)
    np.copyto(d, view)
    v = _along_both_axes(BT.astype(x.dtype), d.reshape(6, 6, -1), "wino4_V")
    return v.reshape(36, C, TH * TW * n)


def _weight_transform(w):
    """U = G g Gᵀ of every (o, c) kernel, computed in float64, as a (36, O, C) matrix."""
    O, C = w.shape[:2]
    u = np.kron(G, G) @ w.reshape(O * C, 9).T.astype(np.float64)
    return u.astype(w.dtype).reshape(36, O, C)


def _chunks(N, C, O, TH, TW, dtype):
    """Slices of the batch whose tiles (36 × max(C, O) × tiles) hold ~CHUNK_BYTES."""
    per_image = 36 * max(C, O) * TH * TW * np.dtype(dtype).itemsize
    return parallel.batch_slices(N, per_image, CHUNK_BYTES)


CHUNK_BYTES = 1 << 19  # 0.5 MB of tiles: 64→64 8×8 forward 6.7 → 6.0 ms against 1 MB


def _convolve(x, u, b, pads, OH, OW):
    """out (N, O, OH, OW) = the 3×3 convolution of x (N, C, H, W) padded by pads = (top, left)
    with the transformed kernel u (36, O, C), plus b (O,) or None."""
    N, C = x.shape[:2]
    O = u.shape[1]
    TH, TW = _tiles(OH, OW)
    out = recycled.empty((N, O, OH, OW), x.dtype)
    at = AT.astype(x.dtype)

    def chunk(part):
        n = part.stop - part.start
        v = _input_transform(x[part], pads, TH, TW)
        m = np.matmul(u, v, out=scratch.take("wino4_M", (36, O, v.shape[2]), x.dtype))
        y = _along_both_axes(at, m.reshape(6, 6, -1), "wino4_Y").reshape(16, O, -1)
        if b is not None:
            y += b.reshape(1, O, 1)
        blocks = y.reshape(4, 4, O, TH, TW, n).transpose(5, 2, 3, 0, 4, 1)
        if (4 * TH, 4 * TW) == (OH, OW):
            out[part].reshape(n, O, TH, 4, TW, 4)[...] = blocks
        else:
            whole = scratch.take("wino4_out", (n, O, TH, 4, TW, 4), x.dtype)
            np.copyto(whole, blocks)
            out[part] = whole.reshape(n, O, 4 * TH, 4 * TW)[:, :, :OH, :OW]

    parallel.map(chunk, _chunks(N, C, O, TH, TW, x.dtype))
    return out


def forward(x, w, b, geo):
    """out (N, O, OH, OW) = w ⋆ x + b, x (N, C, H, W), w (O, C, 3, 3), b (O,) or None."""
    return _convolve(x, _weight_transform(w), b, (geo.pt, geo.pl), geo.OH, geo.OW)


def backward(grad, x, w, geo, input_grad, weight_grad):
    """(dx, dW) of the output gradient (N, O, OH, OW); either is None when not wanted."""
    dx = dw = None
    if input_grad:
        padded, (top, _, left, _) = geo.transposed_gradient(grad)
        flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        dx = _convolve(padded, _weight_transform(flipped), None, (top, left), geo.H, geo.W)
    if weight_grad:
        dw = _weight_grad(grad, x, geo)
    return dx, dw


def _output_grad_transform(grad, TH, TW):
    """dM = A dY Aᵀ of every 4×4 block of a chunk of the output gradient (n, O, OH, OW),
    zeros past its edge: a scratch (36, O, TH·TW·n) array."""
    n, O = grad.shape[:2]
    gt = _batch_inner("wino4_g", grad, 0, 0, 4 * TH, 4 * TW)
    sO, sH, sW, sN = gt.strides
    view = as_strided(gt, (4, 4, O, TH, TW, n), (sH, sW, sO, 4 * sH, 4 * sW, sN),
                      writeable=False)
    dy = scratch.take("wino4_dY", view.shape, grad.dtype)
    np.copyto(dy, view)
    dm = _along_both_axes(AT.T.astype(grad.dtype), dy.reshape(4, 4, -1), "wino4_dM")
    return dm.reshape(36, O, TH * TW * n)


def _weight_grad(grad, x, geo):
    """dW = Gᵀ dU G with dUᵀ[ξν] = Σ over the chunks of V[ξν] · dM[ξν]ᵀ (the taller factor
    first, as in ops/conv.py), the chunks' sums added in order (ops/parallel.py). (One GEMM
    per tile position over the whole batch instead measured no faster, 3.3 against 3.4 ms on
    the 64→64 8×8 layer: OpenBLAS runs these 64×64 results at ~45 GFLOP/s either way, and
    gathering V and dM into whole-batch arrays costs a copy.)"""
    TH, TW = _tiles(geo.OH, geo.OW)

    def chunk(part):
        dm = _output_grad_transform(grad[part], TH, TW)
        v = _input_transform(x[part], (geo.pt, geo.pl), TH, TW)
        return np.matmul(v, dm.transpose(0, 2, 1))

    parts = _chunks(geo.N, geo.C, geo.O, TH, TW, grad.dtype)
    dut = parallel.sum_in_order(parallel.map(chunk, parts), (36, geo.C, geo.O), grad.dtype)
    dw = np.kron(G, G).T @ dut.transpose(0, 2, 1).reshape(36, geo.O * geo.C).astype(np.float64)
    return np.ascontiguousarray(dw.T.reshape(geo.O, geo.C, 3, 3)).astype(grad.dtype)
