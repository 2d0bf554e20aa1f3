"""Tensor methods for products (bmm, outer, tensordot, addmm, cross, ...).

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to the
op of the same name in gradkit.ops, so ``x.bmm(y)`` and ``gk.bmm(x, y)`` are one code path. The
ops import Tensor, so they are reached through the ``gradkit`` package at call time.
"""

import gradkit


class ProductMethods:
    __slots__ = ()

    def mm(self, mat2): return gradkit.ops.products.mm(self, mat2)
    def bmm(self, mat2): return gradkit.ops.products.bmm(self, mat2)
    def mv(self, vec): return gradkit.ops.products.mv(self, vec)
    def outer(self, vec2): return gradkit.ops.products.outer(self, vec2)
    def ger(self, vec2): return gradkit.ops.products.outer(self, vec2)
    def inner(self, other): return gradkit.ops.products.inner(self, other)
    def vdot(self, other): return gradkit.ops.products.vdot(self, other)
    def kron(self, other): return gradkit.ops.products.kron(self, other)
    def cross(self, other, dim=None): return gradkit.ops.products.cross(self, other, dim)

    def tensordot(self, other, dims=2):
        return gradkit.ops.products.tensordot(self, other, dims)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return gradkit.ops.products.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return gradkit.ops.products.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return gradkit.ops.products.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return gradkit.ops.products.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return gradkit.ops.products.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)
