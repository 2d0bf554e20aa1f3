"""Winograd F(2×2, 3×3): a 3×3, stride-1 convolution with 2.25× fewer multiplications.

The padded input is cut into 4×4 tiles d that overlap by 2 (tile (ty, tx) starts at pixel
(2·ty, 2·tx)); each gives a 2×2 block of the output (Lavin & Gray 2016):

    Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A

    Bᵀ = [1  0 −1  0]     G = [ 1    0    0 ]     Aᵀ = [1  1  1  0]
         [0  1  1  0]         [1/2  1/2  1/2]          [0  1 −1 −1]
         [0 −1  1  0]         [1/2 −1/2  1/2]
         [0  1  0 −1]         [ 0    0    1 ]

With U[ξν] = (G g Gᵀ)[ξν] as an (O, C) matrix and V[ξν] = (Bᵀ d B)[ξν] as a (C, tiles)
matrix, the sum over channels is one batched GEMM over the 16 tile positions,
M[ξν] = U[ξν] · V[ξν], (16, O, C) @ (16, C, N·TH·TW): 16·O·C multiplications per 4 outputs
where im2col needs 36·O·C.

Backward is the adjoint of each linear step, dY the output gradient cut into 2×2 blocks:

    dM = A dY Aᵀ                    (per tile position, an (O, tiles) matrix)
    dU = dM · Vᵀ,   dW = Gᵀ dU G     (V rebuilt from the input, not kept)
    dV = Uᵀ · dM,   dx = the tiles B dV Bᵀ added back onto the 4×4 pixels each tile read

The transforms by Bᵀ, Aᵀ and their transposes have entries in {−1, 0, 1}, so each is a few
whole-array additions of strided views (no einsum, no per-tile loop); the weight transform
is a small matrix product. Float error: the transforms add at most 4 terms of unit weight,
so the result is as accurate as im2col's to a small factor (bounded in the tests).
"""

import numpy as np

from gradkit.ops.scratch import scratch, zero_padded

BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])


def applies(geo):
    """Winograd F(2×2, 3×3) computes this convolution: 3×3 kernel, stride 1, no dilation,
    one group."""
    return ((geo.kh, geo.kw, geo.sh, geo.sw, geo.dh, geo.dw, geo.groups)
            == (3, 3, 1, 1, 1, 1, 1))


def _combine(matrix, parts, outs):
    """outs[r] = Σ_k matrix[r, k] · parts[k] for a matrix with entries in {−1, 0, 1}, each
    row as one or two whole-array additions."""
    for row, out in zip(matrix, outs):
        terms = sorted(((row[k], parts[k]) for k in np.flatnonzero(row)), key=lambda t: -t[0])
        (sign, first), rest = terms[0], terms[1:]
        if rest:
            op = np.add if rest[0][0] == sign else np.subtract
            op(first, rest[0][1], out=out)
            for coef, part in rest[1:]:
                (np.add if coef == sign else np.subtract)(out, part, out=out)
        else:
            np.copyto(out, first)
        if sign < 0:
            np.negative(out, out=out)


def _tiles(geo):
    """Tile counts (TH, TW) covering the output, and the padded input (TH·2 + 2, TW·2 + 2)."""
    TH, TW = -(-geo.OH // 2), -(-geo.OW // 2)
    return TH, TW, 2 * TH + 2, 2 * TW + 2


def _padded_input(x, geo, slot):
    """x with the convolution's padding and enough zeros at the bottom/right for whole tiles."""
    TH, TW, HP, WP = _tiles(geo)
    return zero_padded(slot, x, geo.pt, geo.pl, HP, WP)


def _input_transform(x, geo):
    """V = Bᵀ d B of every tile as a (16, C, N·TH·TW) scratch matrix (tiles in (n, ty, tx)
    order): rows of the tiles first, xp[:, :, u::2] being row u of every tile, then columns."""
    TH, TW, HP, WP = _tiles(geo)
    N, C = x.shape[:2]
    xp = _padded_input(x, geo, "wino_pad")
    rows = [xp[:, :, u:u + 2 * TH:2] for u in range(4)]
    r = scratch.take("wino_rows", (4, N, C, TH, WP), x.dtype)
    _combine(BT, rows, r)
    v = scratch.take("wino_V", (4, 4, C, N, TH, TW), x.dtype)
    for xi in range(4):
        cols = [r[xi][..., u:u + 2 * TW:2] for u in range(4)]
        _combine(BT, cols, [v[xi, nu].transpose(1, 0, 2, 3) for nu in range(4)])
    return v.reshape(16, C, N * TH * TW)


def _weight_transform(w):
    """U = G g Gᵀ of every (o, c) kernel as a (16, O, C) matrix."""
    u = G.astype(w.dtype) @ w @ G.T.astype(w.dtype)
    return np.ascontiguousarray(u.transpose(2, 3, 0, 1)).reshape(16, w.shape[0], w.shape[1])


CHUNK_BYTES = 1 << 20


def _chunks(geo, dtype):
    """Slices of the batch whose tiles V (16 × C × tiles) hold ~1 MB, so that every transform
    and GEMM of a chunk works in cache (as the im2col path does, see ops/conv.py)."""
    TH, TW = _tiles(geo)[:2]
    per_image = 16 * max(geo.C, geo.O) * TH * TW * np.dtype(dtype).itemsize
    step = max(1, CHUNK_BYTES // per_image)
    return [slice(n, min(geo.N, n + step)) for n in range(0, geo.N, step)]


def forward(x, w, b, geo):
    """out (N, O, OH, OW) = w ⋆ x + b, x (N, C, H, W), w (O, C, 3, 3), b (O,) or None."""
    TH, TW = _tiles(geo)[:2]
    O, u = geo.O, _weight_transform(w)
    full = np.empty((geo.N, O, TH, 2, TW, 2), x.dtype)
    for part in _chunks(geo, x.dtype):
        n = part.stop - part.start
        v = _input_transform(x[part], geo)
        m = np.matmul(u, v, out=scratch.take("wino_M", (16, O, v.shape[2]), x.dtype))
        t = scratch.take("wino_T", (2, 4, O, n, TH, TW), x.dtype)
        _combine(AT, list(m.reshape(4, 4, O, n, TH, TW)), t)
        for a in range(2):
            _combine(AT, [t[a, nu].transpose(1, 0, 2, 3) for nu in range(4)],
                     [full[part, :, :, a, :, col] for col in range(2)])
    out = full.reshape(geo.N, O, 2 * TH, 2 * TW)
    if (2 * TH, 2 * TW) != (geo.OH, geo.OW):
        out = np.ascontiguousarray(out[:, :, :geo.OH, :geo.OW])
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return out


def _output_grad_transform(grad, geo):
    """dM = A dY Aᵀ of every 2×2 block of the output gradient, a (16, O, N·TH·TW) matrix."""
    TH, TW = _tiles(geo)[:2]
    N, O = grad.shape[:2]
    dy = scratch.take("wino_dY", (N, O, TH, 2, TW, 2), grad.dtype)
    if (2 * TH, 2 * TW) != (geo.OH, geo.OW):
        dy.fill(0)
    dy.reshape(N, O, 2 * TH, 2 * TW)[:, :, :geo.OH, :geo.OW] = grad
    t = scratch.take("wino_dT", (4, 2, O, N, TH, TW), grad.dtype)
    for a in range(2):
        _combine(AT.T, [dy[:, :, :, a, :, col] for col in range(2)],
                 [t[nu, a].transpose(1, 0, 2, 3) for nu in range(4)])
    dm = scratch.take("wino_dM", (4, 4, O, N, TH, TW), grad.dtype)
    for nu in range(4):
        _combine(AT.T, [t[nu, 0], t[nu, 1]], [dm[xi, nu] for xi in range(4)])
    return dm.reshape(16, O, N * TH * TW)


def backward(grad, x, w, geo, input_grad, weight_grad):
    """(dx, dW) of the output gradient (N, O, OH, OW); either is None when not wanted.
    dU sums over the chunks of the batch."""
    ut = _weight_transform(w).transpose(0, 2, 1)
    dut = np.zeros((16, geo.C, geo.O), grad.dtype)
    dx = np.empty(x.shape, grad.dtype) if input_grad else None
    for part in _chunks(geo, grad.dtype):
        dm = _output_grad_transform(grad[part], geo)
        if weight_grad:  # dUᵀ = V · dMᵀ, the taller factor first (see ops/conv.py)
            dut += np.matmul(_input_transform(x[part], geo), dm.transpose(0, 2, 1))
        if input_grad:
            dx[part] = _input_grad(dm, ut, geo)
    if not weight_grad:
        return dx, None
    du = dut.reshape(4, 4, geo.C, geo.O).transpose(3, 2, 0, 1)
    return dx, np.ascontiguousarray(G.T.astype(du.dtype) @ du @ G.astype(du.dtype))


def _input_grad(dm, ut, geo):
    """dx of a chunk: dV = Uᵀ · dM, each tile's B dV Bᵀ added onto the 4×4 padded pixels it
    read."""
    TH, TW, HP, WP = _tiles(geo)
    N, C, dtype = dm.shape[2] // (TH * TW), geo.C, dm.dtype
    dv = np.matmul(ut, dm,
                   out=scratch.take("wino_dV", (16, C, dm.shape[2]), dtype))
    dv = dv.reshape(4, 4, C, N, TH, TW)
    r = scratch.take("wino_dR", (4, 4, C, N, TH, TW), dtype)
    for nu in range(4):
        _combine(BT.T, list(dv[:, nu]), list(r[:, nu]))
    dxp = scratch.take("wino_pad", (N, C, HP, WP), dtype)
    dxp.fill(0)
    tile = scratch.take("wino_dtile", (4, C, N, TH, TW), dtype)
    for u in range(4):
        _combine(BT.T, list(r[u]), tile)
        for col in range(4):
            dxp[:, :, u:u + 2 * TH:2, col:col + 2 * TW:2] += tile[col].transpose(1, 0, 2, 3)
    return np.ascontiguousarray(dxp[:, :, geo.pt:geo.pt + geo.H, geo.pl:geo.pl + geo.W])
