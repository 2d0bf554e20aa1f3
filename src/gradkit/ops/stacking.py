"""Joins and grids built from the shape ops: broadcast_tensors / broadcast_shapes, meshgrid,
atleast_1d / 2d / 3d and hstack / vstack / row_stack / dstack / column_stack (exported
through ops/layout.py). They add no Function of their own: reshape, expand and cat carry the
gradients. Broadcasting follows NumPy's rules, aligned from the last dim; meshgrid's
``indexing="ij"`` gives outputs of shape (len(t0), len(t1), …), ``"xy"`` swaps the first two.

    a, b = gk.arange(3.0), gk.arange(2.0)
    X, Y = gk.meshgrid(a, b, indexing="xy")      # both (2, 3)
    gk.hstack((a, b)).shape                      # (5,)
    gk.atleast_2d(a).shape                       # (1, 3)
"""

import warnings

from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.shape import _same_dtype, cat, expand, reshape


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to (NumPy's rules)."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    ndim = max((len(s) for s in shapes), default=0)
    out, owner = [1] * ndim, [0] * ndim
    for i, s in enumerate(shapes):
        for d, n in enumerate(s, ndim - len(s)):
            if n == 1:
                continue
            if out[d] not in (1, n):
                raise ShapeError(f"broadcast: the size of tensor {owner[d]} ({out[d]}) must "
                                 f"match the size of tensor {i} ({n}) at non-singleton "
                                 f"dimension {d}")
            out[d], owner[d] = n, i
    return tuple(out)


def broadcast_tensors(*tensors):
    """Each tensor as a view broadcast to their common shape."""
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, *shape) for t in tensors)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 0-d or 1-D tensors, as views. ``indexing="ij"`` (the default; a
    warning says so when it is not passed, as in PyTorch) gives each output the shape
    (len(t0), len(t1), …); ``"xy"`` (Cartesian) swaps the first two dims."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument; 'ij' is used", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f'meshgrid: indexing must be one of "xy" or "ij", but received: '
                            f"{indexing}")
    if not tensors:
        raise ArgumentError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got "
                             f"shape {t.shape}")
    if len({t.dtype for t in tensors}) > 1:
        raise ArgumentError(f"meshgrid expects all tensors to have the same dtype, got "
                            f"{[str(t.dtype) for t in tensors]}")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for t, a in zip(tensors, axes):
        shape[a] = t.numel()
    return tuple(expand(reshape(t, [n if d == a else 1 for d, n in enumerate(shape)]), *shape)
                 for t, a in zip(tensors, axes))


def _each(tensors, fn):
    """atleast_*d's calling convention: one tensor → a tensor; several, or a list → a tuple."""
    if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)):
        return fn(tensors[0])
    if len(tensors) == 1:
        tensors = tensors[0]
    return tuple(fn(t) for t in tensors)


def _at_least(t, ndim):
    """t with size-1 dims added as NumPy's atleast_*d: a 1-D (n) becomes a row (1, n), then
    (1, n, 1); a 2-D (m, n) becomes (m, n, 1)."""
    if t.ndim >= ndim:
        return t
    if t.ndim == 2:
        return reshape(t, t.shape + (1,))
    return reshape(t, (1, t.numel(), 1)[:ndim] if t.ndim else (1,) * ndim)


def atleast_1d(*tensors):
    """0-d tensors as shape (1,); others unchanged."""
    return _each(tensors, lambda t: _at_least(t, 1))


def atleast_2d(*tensors):
    """0-d as (1, 1), 1-D (n) as (1, n); others unchanged."""
    return _each(tensors, lambda t: _at_least(t, 2))


def atleast_3d(*tensors):
    """0-d as (1, 1, 1), 1-D (n) as (1, n, 1), 2-D (m, n) as (m, n, 1); others unchanged."""
    return _each(tensors, lambda t: _at_least(t, 3))


def hstack(tensors):
    """Join along dim 0 for 1-D tensors, else dim 1 (after atleast_1d)."""
    tensors = [_at_least(t, 1) for t in _same_dtype(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0 after atleast_2d (rows)."""
    return cat([_at_least(t, 2) for t in _same_dtype(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors):
    """Join along dim 2 after atleast_3d (depth)."""
    return cat([_at_least(t, 3) for t in _same_dtype(tensors, "dstack")], 2)


def column_stack(tensors):
    """Join along dim 1, 0-d and 1-D tensors first made columns (n, 1)."""
    tensors = _same_dtype(tensors, "column_stack")
    return cat([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors], 1)
