"""Tensor methods for gathering and scattering (gather, scatter, index_select, masked_fill, ...).

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to the
op of the same name in gradkit.ops.gather, so ``x.gather(1, i)`` and ``gk.gather(x, 1, i)`` are
one code path. The ops import Tensor, so they are reached through the ``gradkit`` package at
call time.

The in-place forms (``masked_fill_``, ``index_add_``, ``index_copy_``, ``index_fill_``,
``scatter_``, ``scatter_add_``, ``scatter_reduce_``, ``masked_scatter_``) go through
``Tensor._inplace``: the out-of-place op on this tensor, copied into its array (the version
counter counts it) or, inside the graph, recorded so the gradient flows as PyTorch's does.
"""

import numpy as np

import gradkit


def _inplace_op(tensor, what, operand, op, keep_old=False):
    """Change ``tensor`` in place to ``op(tensor, operand)``, which must keep its shape;
    ``keep_old``: op's backward reads the old values (see Tensor._inplace)."""

    def plain(a, v):
        wrap = gradkit.Tensor._make
        out = op(wrap(a, None), wrap(v, None) if isinstance(v, np.ndarray) else v)._data
        if out.shape != a.shape:
            raise gradkit.errors.ShapeError(f"{what}: output with shape {list(a.shape)} "
                                            f"doesn't match the broadcast shape "
                                            f"{list(out.shape)}")
        np.copyto(a, out)

    return tensor._inplace(what, operand, plain, op, keep_old)


class IndexMethods:
    __slots__ = ()

    def gather(self, dim, index, *, sparse_grad=False):
        return gradkit.ops.gather.gather(self, dim, index, sparse_grad=sparse_grad)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return gradkit.ops.gather.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return gradkit.ops.gather.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return gradkit.ops.gather.scatter_reduce(self, dim, index, src, reduce,
                                                 include_self=include_self)

    def index_select(self, dim, index):
        return gradkit.ops.gather.index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return gradkit.ops.gather.index_add(self, dim, index, source, alpha=alpha)

    def index_copy(self, dim, index, source):
        return gradkit.ops.gather.index_copy(self, dim, index, source)

    def index_fill(self, dim, index, value):
        return gradkit.ops.gather.index_fill(self, dim, index, value)

    def masked_fill(self, mask, value):
        return gradkit.ops.gather.masked_fill(self, mask, value)

    def masked_select(self, mask):
        return gradkit.ops.gather.masked_select(self, mask)

    def masked_scatter(self, mask, source):
        return gradkit.ops.gather.masked_scatter(self, mask, source)

    def nonzero(self, *, as_tuple=False):
        return gradkit.ops.gather.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return gradkit.ops.gather.argwhere(self)

    def take(self, index):
        return gradkit.ops.gather.take(self, index)

    def take_along_dim(self, indices, dim=None):
        return gradkit.ops.gather.take_along_dim(self, indices, dim)

    def where(self, condition, other):
        """``x.where(cond, y)`` is ``gk.where(cond, x, y)``."""
        return gradkit.ops.gather.where(condition, self, other)

    # ----- in place -----
    def masked_fill_(self, mask, value):
        return _inplace_op(self, "masked_fill_", value,
                           lambda x, v: gradkit.ops.gather.masked_fill(x, mask, v))

    def masked_scatter_(self, mask, source):
        return _inplace_op(self, "masked_scatter_", source,
                           lambda x, s: gradkit.ops.gather.masked_scatter(x, mask, s))

    def index_add_(self, dim, index, source, *, alpha=1):
        return _inplace_op(self, "index_add_", source, lambda x, s: gradkit.ops.gather.index_add(
            x, dim, index, s, alpha=alpha))

    def index_copy_(self, dim, index, source):
        return _inplace_op(self, "index_copy_", source,
                           lambda x, s: gradkit.ops.gather.index_copy(x, dim, index, s))

    def index_fill_(self, dim, index, value):
        return _inplace_op(self, "index_fill_", value,
                           lambda x, v: gradkit.ops.gather.index_fill(x, dim, index, v))

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return _inplace_op(self, "scatter_", value if src is None else src,
                           lambda x, s: gradkit.ops.gather.scatter(x, dim, index, s,
                                                                   reduce=reduce))

    def scatter_add_(self, dim, index, src):
        return _inplace_op(self, "scatter_add_", src,
                           lambda x, s: gradkit.ops.gather.scatter_add(x, dim, index, s))

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return _inplace_op(self, "scatter_reduce_", src, lambda x, s: (
            gradkit.ops.gather.scatter_reduce(x, dim, index, s, reduce,
                                              include_self=include_self)), keep_old=True)
