"""The affine map of a fully connected layer as one fused op: one matmul plus a bias add.

    out = x Wᵀ + b          x: (*, in),  W: (out, in),  b: (out,),  out: (*, out)
    dx = g W,   dW = gᵀ x,   db = Σ g   (sums over all leading dims)

Zero sizes work as in PyTorch: in = 0 gives out = b (and dW of shape (out, 0)), an empty
batch gives an empty output and dW = 0, db = 0.
"""

import math

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops import parallel


class Linear(Function):
    """out = x @ Wᵀ + b, with the leading dims of x flattened into one GEMM (NumPy's stacked
    matmul would loop over them); large GEMMs run in row blocks on the op threads."""

    def forward(self, x, weight, bias):
        x2 = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])
        self.x2, self.weight, self.in_shape = x2, weight, x.shape
        out = parallel.matmul(x2, weight.T)
        if bias is not None:
            out += bias
        return out.reshape(x.shape[:-1] + weight.shape[:1])

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad
        g2 = g.reshape(math.prod(g.shape[:-1]), g.shape[-1])
        dx = parallel.matmul(g2, self.weight).reshape(self.in_shape) if need_x else None
        dw = parallel.matmul(g2.T, self.x2) if need_w else None
        db = g2.sum(axis=0) if need_b else None
        return dx, dw, db


def linear(input, weight, bias=None):
    """y = x Wᵀ + b (PyTorch's F.linear): input (*, in), weight (out, in), bias (out,) or None."""
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(input.shape)} does not fit a weight of "
                         f"shape {tuple(weight.shape)}: expected input (*, {weight.shape[-1]})")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"linear: bias of shape {tuple(bias.shape)} does not fit a weight of "
                         f"shape {tuple(weight.shape)}: expected ({weight.shape[0]},)")
    for t in (input, bias):
        if t is not None and t.dtype != weight.dtype:
            raise TypeError(f"linear: dtype mismatch, {t.dtype} and weight {weight.dtype}; "
                            "convert the model with .double()/.float() or the input to match")
    return Linear.apply(input, weight, bias)
