"""BatchNorm1d and BatchNorm2d: per-channel normalization with learned scale and shift.

The math (and the closed-form backward) is in gradkit/ops/norm.py. The running statistics
follow PyTorch exactly: each training step adds 1 to ``num_batches_tracked`` and updates
``running = (1 − momentum)·running + momentum·batch`` with the unbiased batch variance;
``momentum=None`` uses momentum = 1/num_batches_tracked, i.e. the cumulative average of all
batches seen. In eval mode the running statistics normalize; with
``track_running_stats=False`` there are none and the batch statistics are used in both modes.
"""

import numpy as np

from gradkit.devices import check_device
from gradkit.nn import init
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.ops.norm import batch_norm
from gradkit.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d"]


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
