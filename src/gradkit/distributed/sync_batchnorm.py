"""SyncBatchNorm: batch norm whose statistics are those of the batch of all ranks together.

With M = Σ_ranks m_r values per channel (sums over the ranks by a blocking all-reduce on
COMM_WORLD; DistributedDataParallel's buckets travel on their own communicator):

    forward:   μ = Σ x / M,   σ² = Σ (x − μ)² / M   (two all-reduces: exact, no E[x²] − μ²)
               x̂ = (x − μ)/√(σ² + ε),   out = γ·x̂ + β
    backward:  Σg and Σ(g·x̂) all-reduced over the ranks (one all-reduce of 2C values),
               dx = γ/σ·(g − Σg/M − x̂·Σ(g·x̂)/M);   dγ = Σ_local g·x̂,   dβ = Σ_local g

dx is the gradient of Σ_ranks loss_r with respect to this rank's x, so on the concatenated
batch it equals plain BatchNorm's gradient of the summed loss; dγ and dβ stay local (their
sum over the ranks is the full one), which is what DistributedDataParallel averages. Running
statistics use the unbiased σ²·M/(M − 1), identical on every rank. In eval mode, or in a
world of one process, it is BatchNorm.

    model = SyncBatchNorm.convert_sync_batchnorm(resnet20())   # every BatchNorm*d replaced
    model = DistributedDataParallel(model)
"""

import numpy as np

from gradkit.distributed import comm as _comm
from gradkit.nn.normalization import _BatchNorm
from gradkit.ops.norm import Normalizing, _per_channel, update_running


def _sum_over_ranks(comm, array):
    comm.Allreduce(_comm.mpi().IN_PLACE, array, op=_comm.mpi().SUM)
    return array


class _SyncBatchNormFn(Normalizing):
    """Training-mode batch norm with statistics summed over the ranks (module docstring)."""

    def forward(self, x, weight, bias, running_mean, running_var, momentum, eps, comm):
        channels = x.shape[1]
        shape = (1, channels) + (1,) * (x.ndim - 2)
        self.shape, self.weight, self.comm = shape, weight, comm
        first = np.empty(channels + 1, x.dtype)
        first[:channels] = _per_channel(x)
        first[channels] = x.size // channels
        _sum_over_ranks(comm, first)
        m = first[channels]
        if m <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel over all "
                             f"ranks when training, got {int(m)} (input {x.shape} here)")
        mean = first[:channels] / m
        xhat = x - mean.reshape(shape)
        var = _sum_over_ranks(comm, _per_channel(xhat, xhat)) / m
        update_running(running_mean, running_var, mean, var, momentum, m)
        self.m = m
        return self.normalize(xhat, var, eps, weight, bias)

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        shape, xhat, channels = self.shape, self.xhat, g.shape[1]
        dw = _per_channel(g, xhat)
        db = _per_channel(g)
        dx = None
        if need_x:
            sums = _sum_over_ranks(self.comm, np.concatenate([dw, db]))
            scale = self.inv_std if self.weight is None else self.weight * self.inv_std
            dx = g * scale.reshape(shape)
            dx -= xhat * (scale * sums[:channels] / self.m).reshape(shape)
            dx -= (scale * sums[channels:] / self.m).reshape(shape)
        return dx, dw if need_w else None, db if need_b else None, None, None


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, *) input with the statistics of all ranks (module docstring).

    PyTorch's signature; ``process_group``: an mpi4py communicator (None: COMM_WORLD)."""

    _ranks = (2, 3, 4, 5)
    _expected = "(N, {c}, *)"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, input):
        comm = self.process_group or _comm.init()
        if not self.training or comm.size == 1:
            return super().forward(input)
        self._check_input(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked._data)
        for name, t in (("weight", self.weight), ("running_mean", self.running_mean)):
            if t is not None and t.dtype != input.dtype:
                raise TypeError(f"SyncBatchNorm: {name} has dtype {t.dtype} but the input has "
                                f"{input.dtype}; convert one of them (model.double() or "
                                "x.float())")
        running = (self.running_mean, self.running_var) if self.track_running_stats else (None,) * 2
        return _SyncBatchNormFn.apply(input, self.weight, self.bias,
                                      *(None if t is None else t._data for t in running),
                                      momentum=momentum, eps=self.eps, comm=comm)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """module with every BatchNorm1d/2d replaced by a SyncBatchNorm sharing its parameters,
        buffers and mode (PyTorch's classmethod); returns the converted module."""
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)
            for name, p in module._parameters.items():
                converted.register_parameter(name, p)
            for name, b in module._buffers.items():
                converted.register_buffer(name, b)
            converted.train(module.training)
            return converted
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module
