"""Tensor methods for reductions and scans (gradkit/ops/reduce.py and the modules beside it).

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to the
op of the same name in gradkit.ops, so ``x.sum(1)`` and ``gk.sum(x, 1)`` are one code path. The ops
import Tensor, so they are reached through the ``gradkit`` package at call time.
"""

import gradkit


class ReduceMethods:
    __slots__ = ()

    def sum(self, dim=None, keepdim=False, **kw): return gradkit.ops.sum(self, dim, keepdim, **kw)
    def mean(self, dim=None, keepdim=False, **kw): return gradkit.ops.mean(self, dim, keepdim, **kw)
    def var(self, dim=None, *a, **kw): return gradkit.ops.var(self, dim, *a, **kw)
    def std(self, dim=None, *a, **kw): return gradkit.ops.std(self, dim, *a, **kw)
    def max(self, *args, **kw): return gradkit.ops.max(self, *args, **kw)
    def min(self, *args, **kw): return gradkit.ops.min(self, *args, **kw)
    def argmax(self, dim=None, keepdim=False, **kw):
        return gradkit.ops.argmax(self, dim, keepdim, **kw)
    def argmin(self, dim=None, keepdim=False, **kw):
        return gradkit.ops.argmin(self, dim, keepdim, **kw)
    def logsumexp(self, dim=None, keepdim=False, **kw):
        return gradkit.ops.logsumexp(self, dim, keepdim, **kw)
    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return gradkit.ops.reduce.norm(self, p, dim, keepdim, dtype)
    def dot(self, other): return gradkit.ops.reduce.dot(self, other)
    def softmax(self, dim): return gradkit.ops.softmax(self, dim)
    def log_softmax(self, dim): return gradkit.ops.log_softmax(self, dim)
    def cumsum(self, dim, *, dtype=None): return gradkit.ops.scan.cumsum(self, dim, dtype=dtype)
    def cumprod(self, dim, *, dtype=None):
        return gradkit.ops.scan.cumprod(self, dim, dtype=dtype)
    def cummax(self, dim): return gradkit.ops.scan.cummax(self, dim)
    def cummin(self, dim): return gradkit.ops.scan.cummin(self, dim)
    def logcumsumexp(self, dim): return gradkit.ops.scan.logcumsumexp(self, dim)
    def prod(self, *args, **kw): return gradkit.ops.stats.prod(self, *args, **kw)
    def amax(self, dim=(), keepdim=False): return gradkit.ops.stats.amax(self, dim, keepdim)
    def amin(self, dim=(), keepdim=False): return gradkit.ops.stats.amin(self, dim, keepdim)
    def aminmax(self, *, dim=None, keepdim=False):
        return gradkit.ops.stats.aminmax(self, dim=dim, keepdim=keepdim)
    def count_nonzero(self, dim=None): return gradkit.ops.stats.count_nonzero(self, dim)
    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return gradkit.ops.stats.nansum(self, dim, keepdim, dtype=dtype)
    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return gradkit.ops.stats.nanmean(self, dim, keepdim, dtype=dtype)
    def all(self, dim=None, keepdim=False): return gradkit.ops.stats.all(self, dim, keepdim)
    def any(self, dim=None, keepdim=False): return gradkit.ops.stats.any(self, dim, keepdim)
