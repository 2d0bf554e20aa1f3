"""1×1 convolutions as one GEMM per image, in NCHW with no im2col and no transpose.

With P = OH·OW and xs the input at the pixels the stride reads (x itself at stride 1; at
stride s, x[:, :, ::s, ::s] is the one copy, of what is used only):

    out[n] = W · xs[n]           (O, C) @ (C, P), so the result is already (N, O, OH, OW)
    dx[n]  = Wᵀ · G[n]           scattered back onto the strided pixels (zero elsewhere)
    dW     = Σ_n G[n] · xs[n]ᵀ   one GEMM over (n, pixel)
"""

import numpy as np


def applies(geo):
    """A 1×1 kernel, no padding, one group (any stride; dilation does not matter)."""
    return (geo.kh, geo.kw, geo.groups, geo.pt, geo.pb, geo.pl, geo.pr) == (1, 1, 1, 0, 0, 0, 0)


def _strided(x, geo):
    """The input at the pixels the stride reads, (N, C, OH·OW)."""
    if geo.sh == geo.sw == 1:
        return x.reshape(geo.N, geo.C, geo.OH * geo.OW)
    xs = np.ascontiguousarray(x[:, :, ::geo.sh, ::geo.sw])
    return xs.reshape(geo.N, geo.C, geo.OH * geo.OW)


def forward(x, w, b, geo):
    """out (N, O, OH, OW) = W · x + b at every strided pixel."""
    out = np.matmul(w.reshape(geo.O, geo.C), _strided(x, geo))
    if b is not None:
        out += b.reshape(-1, 1)
    return out.reshape(geo.N, geo.O, geo.OH, geo.OW)


def backward(grad, x, w, geo, input_grad, weight_grad):
    """(dx, dW) of the output gradient (N, O, OH, OW); either is None when not wanted."""
    gmat = grad.reshape(geo.N, geo.O, geo.OH * geo.OW)
    dx = dw = None
    if weight_grad:
        dw = np.tensordot(gmat, _strided(x, geo), axes=((0, 2), (0, 2))).reshape(geo.wshape)
    if input_grad:
        dxs = np.matmul(w.reshape(geo.O, geo.C).T, gmat)
        if geo.sh == geo.sw == 1:
            dx = dxs.reshape(geo.N, geo.C, geo.H, geo.W)
        else:
            dx = np.zeros((geo.N, geo.C, geo.H, geo.W), grad.dtype)
            dx[:, :, ::geo.sh, ::geo.sw] = dxs.reshape(geo.N, geo.C, geo.OH, geo.OW)
    return dx, dw
