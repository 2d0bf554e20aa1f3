"""Normalization layers: BatchNorm1d/2d/3d (over the batch), and LayerNorm, RMSNorm, GroupNorm,
InstanceNorm1d/2d/3d and LocalResponseNorm (within each sample; their math is in
gradkit/ops/feature_norm.py, RMSNorm's in gradkit/ops/torch_functional.py).

The math (and the closed-form backward) is in gradkit/ops/norm.py. The running statistics
follow PyTorch exactly: each training step adds 1 to ``num_batches_tracked`` and updates
``running = (1 − momentum)·running + momentum·batch`` with the unbiased batch variance;
``momentum=None`` uses momentum = 1/num_batches_tracked, i.e. the cumulative average of all
batches seen. In eval mode the running statistics normalize; with
``track_running_stats=False`` there are none and the batch statistics are used in both modes.
InstanceNorm keeps running statistics the same way when asked (``track_running_stats=True``;
off by default, as in PyTorch), averaged over the instances, but never counts batches.
"""

import warnings


import numpy as np

from gradkit.devices import check_device
from gradkit.nn import init
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.errors import ArgumentError, ShapeError
from gradkit.nn.parameter import Parameter
from gradkit.ops.feature_norm import group_norm, instance_norm, layer_norm, local_response_norm
from gradkit.ops.norm import batch_norm
from gradkit.ops.torch_functional import rms_norm
from gradkit.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "RMSNorm", "GroupNorm",
           "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm"]


class _BatchNorm(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        check_device(type(self).__name__, device)  # "cpu" or None: gradkit runs on the CPU
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            self.register_parameter("bias", Parameter(np.zeros(num_features, dtype))
                                    if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._make(np.zeros(num_features, dtype), None))
            self.register_buffer("running_var", Tensor._make(np.ones(num_features, dtype), None))
            self.register_buffer("num_batches_tracked",
                                 Tensor._make(np.zeros((), np.int64), None))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, input):
        expect_tensor(f"{type(self).__name__}({self.num_features})", input)
        if input.ndim not in self._ranks or input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input "
                             f"{self._expected.format(c=self.num_features)}, "
                             f"got {tuple(input.shape)}")

    def forward(self, input):
        self._check_input(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked._data)
        use_batch_stats = self.training or self.running_mean is None
        keep_stats = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if keep_stats else None,
                          self.running_var if keep_stats else None, self.weight, self.bias,
                          use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input, one mean and variance per feature C.

    y = γ·(x − μ)/√(σ² + ε) + β; γ = 1 and β = 0 at init (``affine=False`` drops them)."""

    _ranks = (2, 3)
    _expected = "(N, {c}) or (N, {c}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input, one mean and variance per channel C (over N, H, W).

    y = γ·(x − μ)/√(σ² + ε) + β; γ = 1 and β = 0 at init (``affine=False`` drops them)."""

    _ranks = (4,)
    _expected = "(N, {c}, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) input, one mean and variance per channel C (over N, D,
    H, W).

    y = γ·(x − μ)/√(σ² + ε) + β; γ = 1 and β = 0 at init (``affine=False`` drops them)."""

    _ranks = (5,)
    _expected = "(N, {c}, D, H, W)"


def _affine_parameters(module, shape, affine, bias, dtype):
    """weight = 1 and bias = 0 of ``shape`` when ``affine`` (bias only if ``bias``), else None."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    module.register_parameter("weight", Parameter(np.ones(shape, dtype)) if affine else None)
    module.register_parameter("bias", Parameter(np.zeros(shape, dtype))
                              if affine and bias else None)


class LayerNorm(Module):
    """Layer norm (Ba et al. 2016): each sample standardized over its trailing
    ``normalized_shape`` dims, y = γ·x̂ + β with γ = 1, β = 0 of that shape at init
    (``elementwise_affine=False`` drops both, ``bias=False`` drops β)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape, self.eps = tuple(shape), eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        label = f"LayerNorm({self.normalized_shape})"
        expect_tensor(label, input)
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k:]) != self.normalized_shape:
            dims = ", ".join(str(d) for d in self.normalized_shape)
            raise ShapeError(f"{label}: expected input (*, {dims}), got {tuple(input.shape)}")
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """RMS norm (Zhang & Sennrich 2019): y = x / √(mean(x²) + ε) · γ over the trailing
    ``normalized_shape`` dims, γ = 1 of that shape at init (``elementwise_affine=False`` drops
    it); ``eps=None`` is the input dtype's machine epsilon, as in PyTorch."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape, self.eps = tuple(shape), eps
        self.elementwise_affine = elementwise_affine
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.register_parameter("weight", Parameter(np.ones(self.normalized_shape, dtype))
                                if elementwise_affine else None)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input):
        expect_tensor(f"RMSNorm({self.normalized_shape})", input)
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Group norm (Wu & He 2018): the C channels of each sample in ``num_groups`` groups, each
    group standardized over its channels and spatial dims; y = γ_c·x̂ + β_c (γ = 1, β = 0 at
    init; ``affine=False`` drops them)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        check_device(type(self).__name__, device)
        if num_groups <= 0 or num_channels % num_groups:
            raise ArgumentError(f"GroupNorm({num_groups}, {num_channels}): num_channels must be "
                                "divisible by num_groups")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.affine = affine
        _affine_parameters(self, (num_channels,), affine, bias, dtype)

    reset_parameters = LayerNorm.reset_parameters

    def forward(self, input):
        label = f"GroupNorm({self.num_groups}, {self.num_channels})"
        expect_tensor(label, input)
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(f"{label}: expected input (N, {self.num_channels}, *), got "
                             f"{tuple(input.shape)}")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """BatchNorm's parameters and buffers with PyTorch's InstanceNorm defaults (no affine, no
    running statistics) and forward: per-sample statistics, unbatched input accepted."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        label = f"{type(self).__name__}({self.num_features})"
        expect_tensor(label, input)
        message = (f"{label}: expected input {self._expected.format(c=self.num_features)}, "
                   f"got {tuple(input.shape)}")
        if input.ndim not in (self._spatial + 1, self._spatial + 2):
            raise ShapeError(message)
        unbatched = input.ndim == self._spatial + 1
        if input.shape[0 if unbatched else 1] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ShapeError(message)
            warnings.warn(message + "; normalizing each of its channels anyway", stacklevel=2)
        x = input.unsqueeze(0) if unbatched else input
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm (Ulyanov et al. 2016) over (N, C, L) or (C, L) input: each channel of each
    sample standardized over L. No affine parameters and no running statistics by default."""

    _spatial = 1
    _expected = "(N, {c}, L) or ({c}, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over (N, C, H, W) or (C, H, W) input: each channel of each sample
    standardized over H, W. No affine parameters and no running statistics by default."""

    _spatial = 2
    _expected = "(N, {c}, H, W) or ({c}, H, W)"


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over (N, C, D, H, W) or (C, D, H, W) input: each channel of each sample
    standardized over D, H, W. No affine parameters and no running statistics by default."""

    _spatial = 3
    _expected = "(N, {c}, D, H, W) or ({c}, D, H, W)"


class LocalResponseNorm(Module):
    """Local response norm (Krizhevsky et al. 2012) across channels of (N, C, *) input:
    y_c = x_c / (k + α/size · Σ_{window} x²)^β, the window ``size`` channels around c."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        label = f"LocalResponseNorm({self.size})"
        expect_tensor(label, input)
        if input.ndim < 3:
            raise ShapeError(f"{label}: expected input (N, C, *) with 3 or more dims, got "
                             f"{tuple(input.shape)}")
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
