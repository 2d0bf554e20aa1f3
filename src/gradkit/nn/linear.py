"""Fully connected layers: Linear, DropConnect (Linear with randomly dropped weights) and
Bilinear (y = x1ᵀ W x2 + b, the math in gradkit/ops/distance.py)."""

import math

import numpy as np

from gradkit import random
from gradkit.devices import check_device
from gradkit.nn import init
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.errors import ShapeError
from gradkit.nn.parameter import Parameter
from gradkit.ops.distance import bilinear
from gradkit.ops.linear import linear
from gradkit.tensor import Tensor

__all__ = ["Linear", "DropConnect", "Bilinear"]


def _empty(shape, dtype):
    return np.empty(shape, np.float32 if dtype is None else np.dtype(dtype))


class Linear(Module):
    """y = x Wᵀ + b.  x: (*, in_features) -> y: (*, out_features); W: (out, in), b: (out,).

    Init: W ~ N(0, 2/in_features) (He/Kaiming normal for ReLU nets, as the notes recommend)
    and b = 0. PyTorch draws both from U(±1/√in_features) instead. ``in_features=0`` works
    as in PyTorch: W is (out, 0) and y = b."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)  # "cpu" or None: gradkit runs on the CPU
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_empty((out_features, in_features), dtype))
        self.register_parameter("bias", Parameter(_empty((out_features,), dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_normal_(self.weight, mode="fan_in", nonlinearity="relu")
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check(self, input):
        label = f"{type(self).__name__}({self.in_features}→{self.out_features})"
        expect_tensor(label, input)
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(f"{label}: expected input (*, {self.in_features}), got "
                             f"{tuple(input.shape)}")

    def forward(self, input):
        self._check(input)
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class DropConnect(Linear):
    """A Linear layer whose weights are dropped at random while training (Wan et al. 2013).

    Training: y = x (M ⊙ W)ᵀ / (1 − p) + b with M_ij ~ Bernoulli(1 − p) drawn once per forward
    (one mask for the whole batch; the bias is not dropped); evaluation: y = x Wᵀ + b. As in
    Dropout, ``p`` is the probability of dropping and the 1/(1 − p) scale keeps E[y] unchanged
    (inverted scaling, instead of the paper's Gaussian moment matching at test time)."""

    def __init__(self, in_features, out_features, bias=True, p=0.5, device=None, dtype=None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"DropConnect probability has to be between 0 and 1, but got {p}")
        super().__init__(in_features, out_features, bias, device, dtype)
        self.p = p

    def forward(self, input):
        self._check(input)
        weight = self.weight
        if self.training and self.p > 0:
            keep = random.uniform(weight.shape, dtype=weight.dtype) >= self.p
            scale = 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)
            mask = Tensor._make(keep.astype(weight.dtype) * weight.dtype.type(scale), None)
            weight = weight * mask
        return linear(input, weight, self.bias)

    def extra_repr(self):
        return super().extra_repr() + f", p={self.p}"



class Bilinear(Module):
    """y_k = x1ᵀ W_k x2 + b_k.  x1: (*, in1), x2: (*, in2) -> y: (*, out); W: (out, in1, in2),
    b: (out,). Init as PyTorch: W and b ~ U(±1/√in1_features)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(_empty((out_features, in1_features, in2_features), dtype))
        self.register_parameter("bias", Parameter(_empty((out_features,), dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        label = (f"Bilinear({self.in1_features}, {self.in2_features}→{self.out_features})")
        expect_tensor(label, input1)
        expect_tensor(label, input2)
        if (input1.ndim == 0 or input2.ndim == 0 or input1.shape[:-1] != input2.shape[:-1]
                or input1.shape[-1] != self.in1_features
                or input2.shape[-1] != self.in2_features):
            raise ShapeError(f"{label}: expected inputs (*, {self.in1_features}) and "
                             f"(*, {self.in2_features}) with the same leading dims, got "
                             f"{tuple(input1.shape)} and {tuple(input2.shape)}")
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
