"""Normalization over features, not over the batch: layer_norm, group_norm, instance_norm and
local_response_norm (PyTorch's F names and signatures).

Layer, group and instance norm all standardize rows: each sample is cut into rows of m values
(layer: the trailing ``normalized_shape`` dims; group: the C/G channels of a group with their
spatial dims; instance: one channel's spatial dims), and each row gets

    μ = mean(x),  σ = √(mean((x − μ)²) + ε)  (biased),  x̂ = (x − μ)/σ,  out = γ·x̂ + β

with γ, β per normalized element (layer) or per channel (group, instance). The backward is the
closed form per row, ĝ = g·γ:

    dx = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),   dγ = Σ g·x̂,   dβ = Σ g

(sums over everything γ is shared by). Local response norm (AlexNet) is across channels:

    out_c = x_c / (k + α/n · Σ_{c' ∈ window(c)} x_c'²)^β,  window(c) = c − ⌊n/2⌋ … c + ⌊(n−1)/2⌋

zero-padded at the edges, n = ``size``: PyTorch divides α by the window size n (an average of
the squares), as the AlexNet paper does not.
"""

import math

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.norm import batch_norm, update_running

__all__ = ["layer_norm", "group_norm", "instance_norm", "local_response_norm"]


def _standardize(rows, eps):
    """x̂ and 1/σ of each row of ``rows`` (R, m), see the module docstring."""
    if rows.size == 0:  # an empty batch or an empty row: nothing to average
        return rows.copy(), np.ones((rows.shape[0], 1), rows.dtype)
    xhat = rows - rows.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(np.mean(xhat * xhat, axis=1, keepdims=True) + eps)
    xhat *= inv_std
    return xhat, inv_std


def _standardize_backward(gh, xhat, inv_std):
    """dx = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) per row of (R, m) arrays."""
    dx = gh - gh.mean(axis=1, keepdims=True)
    dx -= xhat * np.mean(gh * xhat, axis=1, keepdims=True)
    dx *= inv_std
    return dx


def _affine(xhat, weight, bias):
    """γ·x̂ + β, γ and β already shaped to broadcast (None: left out)."""
    out = xhat * weight if weight is not None else xhat.copy()
    if bias is not None:
        out += bias
    return out


class LayerNorm(Function):
    """out = γ·x̂ + β, x̂ standardized over the trailing k dims (γ, β: those dims' shape);
    dx = (1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = g·γ;  dγ = Σ_batch g·x̂;  dβ = Σ_batch g."""

    def forward(self, x, weight, bias, k, eps):
        self.shape, self.weight = x.shape, weight
        self.normalized = x.shape[x.ndim - k:]
        rows = x.reshape(math.prod(x.shape[:x.ndim - k]), math.prod(self.normalized))
        self.xhat, self.inv_std = _standardize(rows, eps)
        return _affine(self.xhat, _flat(weight), _flat(bias)).reshape(x.shape)

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        g = g.reshape(self.xhat.shape)
        dw = np.einsum("rm,rm->m", g, self.xhat).reshape(self.normalized) if need_w else None
        db = g.sum(axis=0).reshape(self.normalized) if need_b else None
        dx = None
        if need_x:
            gh = g * _flat(self.weight) if self.weight is not None else g
            dx = _standardize_backward(gh, self.xhat, self.inv_std).reshape(self.shape)
        return dx, dw, db


def _flat(a):
    return None if a is None else a.reshape(-1)


class GroupNorm(Function):
    """out = γ_c·x̂ + β_c, x̂ standardized over each group of C/G channels (and all spatial
    dims) of each sample;  dx = (1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) per group, ĝ = g·γ_c;
    dγ_c = Σ_{n,s} g·x̂;  dβ_c = Σ_{n,s} g."""

    def forward(self, x, weight, bias, groups, eps):
        n, c = x.shape[:2]
        self.shape, self.weight = x.shape, weight
        spatial = math.prod(x.shape[2:])
        self.rows = (n * groups, c // groups * spatial)
        xhat, self.inv_std = _standardize(x.reshape(self.rows), eps)
        self.xhat = xhat.reshape(n, c, spatial)
        return _affine(self.xhat, _channel(weight), _channel(bias)).reshape(x.shape)

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        g = g.reshape(self.xhat.shape)
        dw = np.einsum("ncs,ncs->c", g, self.xhat) if need_w else None
        db = np.einsum("ncs->c", g) if need_b else None
        dx = None
        if need_x:
            gh = g * _channel(self.weight) if self.weight is not None else g
            rows = self.rows
            dx = _standardize_backward(gh.reshape(rows), self.xhat.reshape(rows), self.inv_std)
            dx = dx.reshape(self.shape)
        return dx, dw, db


def _channel(a):
    return None if a is None else a.reshape(1, -1, 1)


class LocalResponseNorm(Function):
    """out_c = x_c·d_c^(−β), d_c = k + (α/n)·Σ_{c' ∈ window(c)} x_c'²;
    dx_j = g_j·d_j^(−β) − (2αβ/n)·x_j·Σ_{c: j ∈ window(c)} g_c·x_c·d_c^(−β−1)."""

    def forward(self, x, size, alpha, beta, k):
        self.x, self.size, self.alpha, self.beta = x, size, alpha, beta
        self.d = _window_sum(x * x, size // 2, (size - 1) // 2) * (alpha / size) + k
        self.scale = self.d ** -beta
        return x * self.scale

    def backward(self, g):
        size = self.size
        gxd = g * self.x * self.scale / self.d
        back = _window_sum(gxd, (size - 1) // 2, size // 2)
        return g * self.scale - (2.0 * self.alpha * self.beta / size) * self.x * back


def _window_sum(a, before, after):
    """s_c = Σ a_c' over c' = c − before … c + after along axis 1, zero-padded (one shifted
    add per window offset)."""
    c = a.shape[1]
    out = a.copy()
    for shift in range(1, max(before, after) + 1):
        if shift <= before and shift < c:  # s_c += a_{c − shift}
            out[:, shift:] += a[:, :c - shift]
        if shift <= after and shift < c:  # s_c += a_{c + shift}
            out[:, :c - shift] += a[:, shift:]
    return out


def _check_params(op, input, shape, **params):
    """Each given parameter has ``shape`` and the input's dtype."""
    for name, t in params.items():
        if t is None:
            continue
        if tuple(t.shape) != tuple(shape):
            raise ShapeError(f"{op}: expected {name} of shape {tuple(shape)}, got "
                             f"{tuple(t.shape)}")
        if t.dtype != input.dtype:
            raise TypeError(f"{op}: {name} has dtype {t.dtype} but the input has "
                            f"{input.dtype}; convert one of them (model.double() or x.float())")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Standardize ``input`` (*, *normalized_shape) over its trailing ``normalized_shape``
    dims, then γ·x̂ + β with weight, bias of shape ``normalized_shape`` (or None)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        dims = ", ".join(str(d) for d in shape)
        raise ShapeError(f"layer_norm: normalized_shape {shape} expects input (*, {dims}), got "
                         f"{tuple(input.shape)}")
    _check_params("layer_norm", input, shape, weight=weight, bias=bias)
    return LayerNorm.apply(input, weight, bias, k=k, eps=eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Standardize each group of C/G channels of each sample of ``input`` (N, C, *), then
    γ_c·x̂ + β_c with weight, bias of shape (C,) (or None)."""
    if input.ndim < 2:
        raise ShapeError(f"group_norm: expected input (N, C, *), got {tuple(input.shape)}")
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise ShapeError(f"group_norm: the {channels} channels of input {tuple(input.shape)} "
                         f"cannot be split into num_groups={num_groups} groups")
    _check_params("group_norm", input, (channels,), weight=weight, bias=bias)
    return GroupNorm.apply(input, weight, bias, groups=num_groups, eps=eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Standardize each channel of each sample of ``input`` (N, C, *) over its spatial dims,
    then γ_c·x̂ + β_c. With ``use_input_stats`` the running statistics (C,), when given, are
    updated in place with the batch average of the instances' means and unbiased variances
    (as PyTorch); without, the running statistics normalize instead (as batch_norm in eval)."""
    if input.ndim < 2:
        raise ShapeError(f"instance_norm: expected input (N, C, *), got {tuple(input.shape)}")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = math.prod(input.shape[2:])
    if spatial <= 1:
        raise ArgumentError("instance_norm: expected more than 1 spatial element when "
                            f"training, got input size {tuple(input.shape)}")
    channels = input.shape[1]
    _check_params("instance_norm", input, (channels,), running_mean=running_mean,
                  running_var=running_var, weight=weight, bias=bias)
    if running_mean is not None and input.shape[0]:
        x = input._data.reshape(input.shape[0], channels, spatial)
        update_running(running_mean._data, running_var._data, x.mean(axis=(0, 2)),
                       x.var(axis=2).mean(axis=0), momentum, spatial)
    return GroupNorm.apply(input, weight, bias, groups=channels, eps=eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across the channels of ``input`` (N, C, *): see the
    module docstring (the window is ``size`` channels and α is divided by ``size``)."""
    if input.ndim < 3:
        raise ShapeError("local_response_norm: expected input (N, C, *) with 3 or more dims, "
                         f"got {tuple(input.shape)}")
    if size < 1:
        raise ArgumentError(f"local_response_norm: size must be positive, got {size}")
    if input.numel() == 0:
        return input
    return LocalResponseNorm.apply(input, size=size, alpha=alpha, beta=beta, k=k)
