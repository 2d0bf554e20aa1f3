"""Tensor methods for reductions and scans (gradkit/ops/reduce.py and the modules beside it).

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to the
op of the same name in gradkit.ops, so ``x.sum(1)`` and ``gk.sum(x, 1)`` are one code path. The ops
import Tensor, so they are reached through the ``gradkit`` package at call time.
"""

import gradkit
import numpy as np


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
    def all(self): return gradkit.Tensor._make(np.asarray(self._data.all()), None)
    def any(self): return gradkit.Tensor._make(np.asarray(self._data.any()), None)
