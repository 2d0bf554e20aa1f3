"""Tensor methods for sorting and order statistics (sort, topk, median, unique, ...).

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to the
op of the same name in gradkit.ops, so ``x.sort()`` and ``gk.sort(x)`` are one code path. The
ops import Tensor, so they are reached through the ``gradkit`` package at call time.
"""

import gradkit


class SortMethods:
    __slots__ = ()

    def sort(self, dim=-1, descending=False, stable=False):
        return gradkit.ops.sort.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return gradkit.ops.sort.argsort(self, dim, descending, stable)

    def msort(self): return gradkit.ops.sort.msort(self)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return gradkit.ops.sort.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return gradkit.ops.sort.kthvalue(self, k, dim, keepdim)

    def median(self, dim=None, keepdim=False):
        return gradkit.ops.sort.median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        return gradkit.ops.sort.nanmedian(self, dim, keepdim)

    def mode(self, dim=-1, keepdim=False): return gradkit.ops.sort.mode(self, dim, keepdim)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return gradkit.ops.sort.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return gradkit.ops.sort.unique_consecutive(self, return_inverse, return_counts, dim)
