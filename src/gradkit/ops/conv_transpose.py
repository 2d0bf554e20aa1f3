"""Transposed convolution (conv_transpose1d, 2d, 3d): the adjoint of a convolution.

Layouts are PyTorch's: input (N, C_in, *L), weight (C_in, C_out/groups, *k), bias (C_out,),
output (N, C_out, *L_out) with, per spatial dim,

    L_out = (L − 1)·s − 2·p + d·(k − 1) + output_padding + 1.

The convolution with this weight, stride s, padding p and dilation d maps (N, C_out, *L_out)
to (N, C_in, *L); the transposed convolution is its adjoint, so its three rules are the
convolution's three rules in another order (see ops/windows.py):

    out = col2im(Wᵀ · x) + b            the convolution's input gradient
    dx  = W · im2col(dout)              the convolution's forward
    dW  = (im2col(dout) · xᵀ)ᵀ          the convolution's weight gradient, input and output
                                        gradient swapped
    db  = Σ dout over (n, spatial)

output_padding adds rows at the end of each spatial dim that no window reaches (they get the
bias only); it only resolves which of the s sizes of x a strided convolution came from, so
PyTorch wants it smaller than the stride or the dilation.
"""

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.windows import Geometry, check_tensors, correlate, ints, scatter

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


class ConvTranspose(Function):
    """out = col2im(Wᵀ·x) + b; dx = W·im2col(dout), dW = (im2col(dout)·xᵀ)ᵀ, db = Σ dout."""

    def forward(self, x, w, b, geo):
        self.x, self.w, self.geo = x, w, geo
        out = scatter(x, w, geo)
        if b is not None:
            out += b.reshape((-1,) + (1,) * len(geo.kernel))
        return out

    def backward(self, grad):
        needs = self.needs_input_grad
        dx, dw = correlate(grad, self.geo, self.w if needs[0] else None,
                           self.x if needs[1] else None)
        db = grad.sum(axis=(0, *range(2, grad.ndim))) if needs[2] else None
        return dx, dw, db


_LAYOUTS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _conv_transpose(n, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    """Check the arguments of conv_transpose{n}d, then run ConvTranspose on a batched input."""
    op, layout = f"conv_transpose{n}d", _LAYOUTS[n]
    check_tensors(op, input, weight, bias, groups, layout, transposed=True)
    stride = ints(stride, n, "stride", op, 1)
    padding = ints(padding, n, "padding", op, 0)
    output_padding = ints(output_padding, n, "output_padding", op, 0)
    dilation = ints(dilation, n, "dilation", op, 1)
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise ArgumentError(f"{op}: output padding must be smaller than either stride or "
                            f"dilation, got output_padding={output_padding}, stride={stride}, "
                            f"dilation={dilation}")
    x = input if input.ndim == n + 2 else input.unsqueeze(0)
    if 0 in x.shape[2:]:
        raise ShapeError(f"{op}: expected non-empty spatial dims (only the batch may be "
                         f"empty), got input {tuple(input.shape)}")
    kernel = tuple(weight.shape[2:])
    size = tuple((L - 1) * s - 2 * p + d * (k - 1) + o + 1 for L, s, p, d, k, o
                 in zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(L < 1 for L in size):
        raise ShapeError(f"{op}: input {tuple(input.shape)} and weight {tuple(weight.shape)} "
                         f"with padding={padding} give an output of size {size}: too small")
    geo = Geometry(kernel, stride, dilation, tuple((p, p) for p in padding), groups, size,
                   x.shape[2:])
    out = ConvTranspose.apply(x, weight, bias, geo=geo)
    return out if input.ndim == n + 2 else out.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 1-d convolution of input (N, C_in, L) or (C_in, L) with weight
    (C_in, C_out/groups, k) and optional bias (C_out,), giving (N, C_out, L_out)."""
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 2-d convolution of input (N, C_in, H, W) or (C_in, H, W) with weight
    (C_in, C_out/groups, kh, kw) and optional bias (C_out,), giving (N, C_out, H_out, W_out).

    stride, padding, output_padding, dilation: int or (h, w)."""
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 3-d convolution of input (N, C_in, D, H, W) or (C_in, D, H, W) with weight
    (C_in, C_out/groups, kd, kh, kw) and optional bias (C_out,), giving
    (N, C_out, D_out, H_out, W_out)."""
    return _conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def output_padding_for(op, input_size, output_size, stride, padding, kernel, dilation):
    """The output_padding that makes a transposed convolution of spatial input_size give
    output_size (PyTorch's ConvTranspose*d ``output_size=``): output_size minus the size with
    no output padding, which must lie in [0, stride)."""
    low = [(L - 1) * s - 2 * p + d * (k - 1) + 1
           for L, s, p, k, d in zip(input_size, stride, padding, kernel, dilation)]
    high = [m + s - 1 for m, s in zip(low, stride)]
    if any(not lo <= o <= hi for o, lo, hi in zip(output_size, low, high)):
        raise ArgumentError(f"{op}: requested an output size of {list(output_size)}, but valid "
                            f"sizes range from {low} to {high} (for an input of "
                            f"{list(input_size)})")
    return tuple(o - lo for o, lo in zip(output_size, low))

