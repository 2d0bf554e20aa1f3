"""3-d convolution (conv3d) as one matrix product per group over strided windows.

Layouts are PyTorch's: input (N, C, D, H, W), weight (O, C/groups, kd, kh, kw), bias (O,),
output (N, O, OD, OH, OW) with, per spatial dim,

    OD = ⌊(D + pad_before + pad_after − d·(k − 1) − 1) / s⌋ + 1.

It is ops/conv.py's algorithm over three spatial dims, with the N-d kernels of ops/windows.py:

    out = W · im2col(x) + b             cols[(c, i, j, l), (n, z, y, x)] =
                                        xp[n, c, z·sd + i·dd, y·sh + j·dh, x·sw + l·dw]
    dx  = col2im(Wᵀ · dout)             every window's column added back onto what it read
    dW  = (im2col(x) · doutᵀ)ᵀ          summed over (n, z, y, x)
    db  = Σ dout over (n, z, y, x)

padding: an int, a 3-tuple, 'valid' (none) or 'same' (d·(k − 1) in total, ⌊total/2⌋ before
and the rest after, stride 1 only), as PyTorch.
"""

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.windows import Geometry, check_tensors, correlate, ints, scatter

__all__ = ["conv3d"]


class Conv3d(Function):
    """out = W·im2col(x) + b; dx = col2im(Wᵀ·dout), dW = (im2col(x)·doutᵀ)ᵀ, db = Σ dout."""

    def forward(self, x, w, b, geo):
        self.x, self.w, self.geo = x, w, geo
        out, _ = correlate(x, geo, w=w)
        if b is not None:
            out += b.reshape(-1, 1, 1, 1)
        return out

    def backward(self, grad):
        needs = self.needs_input_grad
        dx = scatter(grad, self.w, self.geo) if needs[0] else None
        dw = correlate(self.x, self.geo, y=grad)[1] if needs[1] else None
        db = grad.sum(axis=(0, 2, 3, 4)) if needs[2] else None
        return dx, dw, db


def _pads(padding, kernel, stride, dilation, op):
    """(before, after) per spatial dim for an int, a tuple, 'valid' or 'same'."""
    if not isinstance(padding, str):
        return tuple((p, p) for p in ints(padding, len(kernel), "padding", op, 0))
    if padding == "valid":
        return ((0, 0),) * len(kernel)
    if padding != "same":
        raise ArgumentError(f"{op}: padding must be 'same', 'valid', an int or a tuple of "
                            f"{len(kernel)} ints, got {padding!r}")
    if any(s != 1 for s in stride):
        raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions "
                            f"(stride={stride})")
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in totals)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution (cross-correlation, as in PyTorch) of input (N, C, D, H, W) or
    (C, D, H, W) with weight (O, C/groups, kd, kh, kw) and optional bias (O,), giving
    (N, O, OD, OH, OW).

    stride, dilation: int or (sd, sh, sw); padding: int, (pd, ph, pw), 'valid' or 'same'."""
    op = "conv3d"
    check_tensors(op, input, weight, bias, groups, ("D", "H", "W"), transposed=False)
    stride = ints(stride, 3, "stride", op, 1)
    dilation = ints(dilation, 3, "dilation", op, 1)
    kernel = tuple(weight.shape[2:])
    pads = _pads(padding, kernel, stride, dilation, op)
    x = input if input.ndim == 5 else input.unsqueeze(0)
    size = tuple((L + lo + hi - d * (k - 1) - 1) // s + 1 for L, (lo, hi), d, k, s
                 in zip(x.shape[2:], pads, dilation, kernel, stride))
    if any(L < 1 for L in size):
        padded = tuple(L + lo + hi for L, (lo, hi) in zip(x.shape[2:], pads))
        span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
        raise ShapeError(f"{op}: the dilated kernel {span} is larger than the padded input "
                         f"{padded} (input {tuple(input.shape)}, weight {tuple(weight.shape)})")
    geo = Geometry(kernel, stride, dilation, pads, groups, x.shape[2:], size)
    out = Conv3d.apply(x, weight, bias, geo=geo)
    return out if input.ndim == 5 else out.squeeze(0)
