"""Batch normalization as one fused op with the closed-form backward (Ioffe & Szegedy 2015).

x: (N, C) or (N, C, *spatial). Statistics are per channel c, over the m = N·∏spatial values
of that channel (the reduced axes are 0 and 2, 3, ...):

    training:  μ = mean(x),  σ² = mean((x − μ)²)  (biased),  x̂ = (x − μ)/√(σ² + ε)
    eval:      μ, σ² = running_mean, running_var
    out = γ·x̂ + β

Backward (g = dL/d out, sums over the same axes):

    dγ = Σ g·x̂,   dβ = Σ g
    training:  dx = (1/m)·γ/σ·(m·g − Σg − x̂·Σ(g·x̂))     with σ = √(σ² + ε)
    eval:      dx = γ/σ·g                              (μ and σ are constants)

The training formula is the chain rule through μ and σ² collapsed into three terms: the
direct path, the mean's share (−Σg/m) and the variance's share (−x̂·Σ(g·x̂)/m).

Running statistics follow PyTorch: running = (1 − momentum)·running + momentum·batch, with the
*unbiased* batch variance σ²·m/(m − 1) for running_var.
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops import parallel
from gradkit.ops.scratch import recycled
from gradkit.tensor import Tensor


def _per_channel(*arrays):
    """Σ over the non-channel axes of the product of the arrays (one or two), as (C,).

    einsum over an (N, C, S) view is about twice as fast as ``(a * b).sum(axis=(0, 2, 3))``
    and makes no temporary."""
    n, c = arrays[0].shape[:2]
    views = [a.reshape(n, c, -1) for a in arrays]
    return np.einsum("ncs,ncs->c" if len(views) == 2 else "ncs->c", *views)


def update_running(running_mean, running_var, mean, var, momentum, m):
    """running ← (1 − momentum)·running + momentum·batch, in place (the variance unbiased by
    m/(m − 1)), as PyTorch; nothing when the running statistics are None."""
    if running_mean is None:
        return
    running_mean *= 1.0 - momentum
    running_mean += momentum * mean
    running_var *= 1.0 - momentum
    running_var += (momentum * m / (m - 1)) * var


class Normalizing(Function):
    """What BatchNorm and SyncBatchNorm share: the affine output of the normalized input."""

    def normalize(self, centred, var, eps, weight, bias):
        """out = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε), made in place from ``centred`` = x − μ;
        keeps x̂ and 1/√(σ² + ε) for backward."""
        shape = self.shape
        self.inv_std = (1.0 / np.sqrt(var + eps)).astype(centred.dtype, copy=False)
        centred *= self.inv_std.reshape(shape)
        self.xhat = centred
        out = centred * weight.reshape(shape) if weight is not None else centred.copy()
        if bias is not None:
            out += bias.reshape(shape)
        return out


_CHUNK_BYTES = 1 << 20


def _map(function, x):
    """function(part) for slices of the batch holding ~1 MB of x each, on the op threads when
    x is large (parallel.over_batch). BatchNorm makes its passes chunk by chunk, so that the
    later passes over a chunk (Σ(x − μ)² after x − μ, + β after ·γ/σ, the three updates of
    dx) find it in cache: the 19 BatchNorm backwards of a ResNet-20 step (batch 128, one
    thread) measured 77 → 63 ms with 256 kB chunks; 1 MB chunks (fewer NumPy calls, fewer GIL
    hand-overs on the op threads) made the whole step 683 → 658 ms at one thread and 419 →
    399 ms at two."""
    return parallel.over_batch(function, x, _CHUNK_BYTES)


class BatchNorm(Function):
    """out = γ·(x − μ)/√(σ² + ε) + β with batch (training) or running (eval) statistics.

    Keeps x − μ rather than x̂ for backward, so that forward is one pass shorter than
    Normalizing's (out = (x − μ)·(γ/σ) + β; backward uses Σ g·x̂ = Σ g·(x − μ) / σ), and makes
    every pass chunk by chunk over the batch (_map), the chunks of large inputs on the op
    threads. In eval mode with no graph recorded, x − μ is made in the output itself and not
    kept: one pass over memory instead of writing x − μ whole and reading it back (the
    ResNet-20 eval forward, batch 128, in one process: 200 → 191 ms at one thread, 150 → 139
    at two)."""

    saves_inputs = False  # backward reads x − μ, γ and 1/σ only

    def forward(self, x, weight, bias, running_mean, running_var, training, momentum, eps):
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        self.shape, self.training, self.weight = shape, training, weight
        kept = training or any(self.needs_input_grad)  # else no backward will read x − μ
        centred = self.centred = recycled.empty(x.shape, x.dtype) if kept else None
        if training:
            m = x.size // x.shape[1]
            sums = _map(lambda part: _per_channel(x[part]), x)
            mean = (parallel.sum_in_order(sums, x.shape[1], x.dtype) / m).reshape(shape)

            def centre(part):  # x − μ into centred, and Σ(x − μ)² of the chunk
                c = np.subtract(x[part], mean, out=centred[part])
                return _per_channel(c, c)

            var = parallel.sum_in_order(_map(centre, x), x.shape[1], x.dtype) / m
            update_running(running_mean, running_var, mean.ravel(), var, momentum, m)
        else:
            mean, var = running_mean.reshape(shape), running_var
        self.inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = (self.inv_std if weight is None else weight * self.inv_std).reshape(shape)
        out = recycled.empty(x.shape, x.dtype)
        shift = None if bias is None else bias.reshape(shape)

        def affine(part):  # (x − μ)·γ/σ + β; in eval mode x − μ is made here, chunk by chunk
            if training:
                c = centred[part]
            else:  # into the output itself when nothing keeps it: one pass over memory
                c = np.subtract(x[part], mean, out=(out if centred is None else centred)[part])
            o = np.multiply(c, scale, out=out[part])
            if shift is not None:
                o += shift

        _map(affine, x)
        return out

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        shape, centred, training, inv_std = self.shape, self.centred, self.training, self.inv_std
        dw = db = None
        if need_w or need_b or need_x and training:
            sums = _map(lambda part: (_per_channel(g[part], centred[part]),
                                      _per_channel(g[part])), g)
            C = g.shape[1]
            dw = parallel.sum_in_order([s[0] for s in sums], C, g.dtype) * inv_std
            db = parallel.sum_in_order([s[1] for s in sums], C, g.dtype)
        dx = None
        if need_x:
            scale = inv_std if self.weight is None else self.weight * inv_std
            dx = recycled.empty(g.shape, g.dtype)
            if not training:
                np.multiply(g, scale.reshape(shape), out=dx)
            else:
                m = g.size // g.shape[1]
                k = (scale * inv_std * dw / m).reshape(shape)
                shift = (scale * db / m).reshape(shape)
                scale = scale.reshape(shape)

                def input_grad(part):  # dx = g·γ/σ − (x − μ)·k − shift
                    d = np.multiply(g[part], scale, out=dx[part])
                    d -= centred[part] * k
                    d -= shift

                _map(input_grad, g)
        return dx, dw if need_w else None, db if need_b else None, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization (PyTorch's F.batch_norm); see the module docstring for the math.

    input (N, C, *); running_mean, running_var, weight, bias: (C,) or None. When ``training``
    the batch statistics are used and the running ones (if given) updated in place; otherwise
    the running statistics are used and must be given."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input (N, C, *), got {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(t.shape)} but the input "
                             f"{tuple(input.shape)} has {channels} channels")
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"batch_norm: {name} has dtype {t.dtype} but the input has "
                            f"{input.dtype}; convert one of them (model.double() or x.float())")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must be given when not "
                         "training")
    if input.shape[0] == 0:  # an empty batch: an empty output, statistics untouched (PyTorch)
        shape = (1, channels) + (1,) * (input.ndim - 2)
        out = input * weight.reshape(shape) if weight is not None else input * 1.0
        return out + bias.reshape(shape) if bias is not None else out
    if training and input.numel() // max(channels, 1) <= 1:
        raise ValueError("Expected more than 1 value per channel when training, got input size "
                         f"{tuple(input.shape)}")
    return BatchNorm.apply(input, weight, bias, _array(running_mean), _array(running_var),
                           training=training, momentum=momentum, eps=eps)


def _array(t):
    return t._data if isinstance(t, Tensor) else t

