"""Activation layers (elementwise nonlinearities, softmax, GLU, PReLU) plus Flatten and Maxout.

Each is a thin Module around the op in gradkit.ops, where the forward formula and its
derivative live. ``inplace`` is accepted for PyTorch compatibility but gradkit always returns a
new tensor (an in-place activation would save no time in NumPy and would corrupt the graph).
"""

import numpy as np

from gradkit.autograd import no_grad
from gradkit.errors import ArgumentError, ShapeError
from gradkit.nn import functional as F
from gradkit.nn import init
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.ops.linear import linear


def _zeros(shape, dtype):
    return np.zeros(shape, np.float32 if dtype is None else np.dtype(dtype))


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope·x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                          else "")


class ELU(Module):
    """x if x > 0 else α(eˣ − 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """ln(1 + e^(βx)) / β (x itself where βx > threshold)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ)."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh x."""

    def forward(self, input):
        return F.tanh(input)


class GELU(Module):
    """x·Φ(x) (``approximate='tanh'`` for the tanh approximation)."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"


class Softmax(Module):
    """e^x / Σ e^x along ``dim`` (dim=None picks PyTorch's legacy default)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along ``dim``, computed without taking the log of 0."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Flatten(Module):
    """Merge dims start_dim..end_dim: (N, C, H, W) -> (N, C·H·W) with the defaults."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        expect_tensor(f"Flatten({self.extra_repr()})", input)
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Maxout(Module):
    """Maxout unit (Goodfellow et al. 2013): each output is the max of k linear pieces.

        y_j = max_{i<k} (x W_{j,i}ᵀ + b_{j,i})    x: (*, in_features) -> y: (*, out_features)

    W holds the k·out_features pieces as one (out_features·k, in_features) matrix (piece i of
    output j in row j·k + i) so forward is one matmul and a max over groups of k. It
    generalizes ReLU (max(wᵀx + b, 0) is k = 2 with one piece fixed at 0) and never dies, at k
    times the parameters. Init as Linear: He normal weights, zero biases. Not in PyTorch."""

    def __init__(self, in_features, out_features, pieces=2, bias=True, dtype=None):
        super().__init__()
        if pieces < 1:
            raise ArgumentError(f"Maxout: pieces must be at least 1, got {pieces}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        rows = out_features * pieces
        self.weight = Parameter(_zeros((rows, in_features), dtype))
        self.register_parameter("bias", Parameter(_zeros((rows,), dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_normal_(self.weight, mode="fan_in", nonlinearity="relu")
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        label = f"Maxout({self.in_features}→{self.out_features}, pieces={self.pieces})"
        expect_tensor(label, input)
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ShapeError(f"{label}: expected input (*, {self.in_features}), got "
                             f"{tuple(input.shape)}")
        z = linear(input, self.weight, self.bias)
        z = z.reshape(*input.shape[:-1], self.out_features, self.pieces)
        return z.max(dim=-1).values

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}, bias={self.bias is not None}")



class _Elementwise(Module):
    """An activation with no options: forward is ``fn(input)``."""

    fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).fn(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class SiLU(_Elementwise):
    """x·σ(x) (swish)."""
    fn = staticmethod(F.silu)


class Mish(_Elementwise):
    """x·tanh(softplus x)."""
    fn = staticmethod(F.mish)


class Hardswish(_Elementwise):
    """x·relu6(x + 3)/6."""
    fn = staticmethod(F.hardswish)


class Hardsigmoid(_Elementwise):
    """relu6(x + 3)/6."""
    fn = staticmethod(F.hardsigmoid)


class ReLU6(_Elementwise):
    """min(max(x, 0), 6)."""
    fn = staticmethod(F.relu6)


class SELU(_Elementwise):
    """1.0507·(x if x > 0 else 1.6733(eˣ − 1))."""
    fn = staticmethod(F.selu)


class Softsign(_Elementwise):
    """x / (1 + |x|)."""
    fn = staticmethod(F.softsign)


class LogSigmoid(_Elementwise):
    """ln σ(x)."""
    fn = staticmethod(F.logsigmoid)


class Hardtanh(Module):
    """clamp(x, min_val, max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class CELU(Module):
    """max(0, x) + min(0, α(e^(x/α) − 1))."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Threshold(Module):
    """x if x > threshold else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}"


class Softmin(Module):
    """softmax(−x) along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class GLU(Module):
    """a·σ(b) for the two halves a, b of the input along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """x if x > 0 else a·x, a learned: one slope, or one per channel (dim 1).
    weight: (num_parameters,), filled with ``init`` (PyTorch's 0.25)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(_zeros((num_parameters,), dtype))
        self.reset_parameters()

    def reset_parameters(self):
        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
