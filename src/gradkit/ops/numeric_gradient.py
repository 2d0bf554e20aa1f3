"""torch.gradient: the derivative of sampled values by finite differences, as numpy.gradient
(exported through ops/more_math.py).

Along a dim with sample coordinates x (x_i = i·h for a number spacing h) and steps
s = x_i − x_(i−1), d = x_(i+1) − x_i, the interior points take the second-order central
difference  f′_i = −d/(s(s+d))·f_(i−1) + (d−s)/(sd)·f_i + s/(d(s+d))·f_(i+1);  the two ends
take a one-sided difference of order ``edge_order`` (1: (f_1 − f_0)/(x_1 − x_0); 2: the
three-point formula). Each result is a weighted sum of shifted slices of the input with
constant weights, so it is differentiable.

    import gradkit as gk
    gk.gradient(gk.tensor([1.0, 2.0, 4.0, 8.0]))       # (tensor([1., 1.5, 3., 4.]),)
"""

import numpy as np

from gradkit.errors import ArgumentError
from gradkit.ops._util import _float_default, normalize_dim
from gradkit.ops.shape import cat
from gradkit.tensor import Tensor


def _weights(x, edge_order):
    """The (3, n) weights of f_(i−1), f_i, f_(i+1) at each point i (the ends' rows shifted so
    that all three read in-range samples)."""
    s, d = x[1:-1] - x[:-2], x[2:] - x[1:-1]
    inner = np.stack([-d / (s * (s + d)), (d - s) / (s * d), s / (d * (s + d))])
    if edge_order == 1:
        h0, h1 = x[1] - x[0], x[-1] - x[-2]
        first, last = [-1.0 / h0, 1.0 / h0, 0.0], [0.0, -1.0 / h1, 1.0 / h1]
    else:
        a, b = x[1] - x[0], x[2] - x[1]
        first = [-(2 * a + b) / (a * (a + b)), (a + b) / (a * b), -a / (b * (a + b))]
        a, b = x[-2] - x[-3], x[-1] - x[-2]
        last = [b / (a * (a + b)), -(a + b) / (a * b), (2 * b + a) / (b * (a + b))]
    return np.array(first), inner, np.array(last)


def _along(f, axis, x, edge_order):
    n = f.shape[axis]
    first, inner, last = _weights(x, edge_order)
    shape = [1] * f.ndim
    shape[axis] = -1

    def part(start, stop):
        return f[(slice(None),) * axis + (slice(start, stop),)]

    def weigh(w):
        return Tensor._make(np.asarray(w, f.dtype).reshape(shape), None)

    middle = sum(part(k, n - 2 + k) * weigh(inner[k]) for k in range(3))
    head = sum(part(k, k + 1) * float(first[k]) for k in range(min(n, 3)))
    tail = sum(part(n - 3 + k, n - 2 + k) * float(last[k]) for k in range(3) if n - 3 + k >= 0)
    return cat([head, middle, tail], axis)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """One tensor per dim in ``dim`` (all dims when None): the derivative of input along it.
    ``spacing``: a number (one step for every dim), a list of numbers (one per dim), or a
    tuple of 1-D tensors of sample coordinates (one per dim)."""
    if edge_order not in (1, 2):
        raise ArgumentError(f"torch.gradient only supports edge_order=1 and edge_order=2, got "
                            f"{edge_order}")
    f = _float_default(input)
    axes = list(range(f.ndim)) if dim is None else \
        [normalize_dim(d, f.ndim, "gradient")[0] for d in ((dim,) if isinstance(dim, int)
                                                           else dim)]
    steps = spacing if isinstance(spacing, (list, tuple)) else [spacing] * len(axes)
    if len(steps) != len(axes):
        raise ArgumentError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                            f"it's spacing and dim arguments to have the same length, but got "
                            f"a spacing argument of length {len(steps)} and a dim argument of "
                            f"length {len(axes)}.")
    out = []
    for axis, step in zip(axes, steps):
        n = f.shape[axis]
        if n < edge_order + 1:
            raise ArgumentError("torch.gradient expected each dimension size to be at least "
                                "edge_order+1")
        if isinstance(step, Tensor):
            if step.shape != (n,):
                raise ArgumentError(f"torch.gradient expected each tensor to be on the same "
                                    f"device and of size {n} along dim {axis}, got shape "
                                    f"{tuple(step.shape)}")
            x = step._data.astype(np.float64)
        else:
            x = np.arange(n) * float(step)
        out.append(_along(f, axis, x, edge_order))
    return tuple(out)
