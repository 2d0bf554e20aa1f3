"""Indexing and slicing (basic, integer arrays, boolean masks) with PyTorch's rule, and one_hot.

PyTorch and NumPy agree on indexing but for one rule. NumPy counts an integer as an advanced
index, so in ``x[1, :, d]`` (d an index tensor) the 1 and d are advanced indices separated by a
slice, and their broadcast dims move to the front: shape (len(d), x.shape[1], ...). PyTorch
first selects with the integers (a Python int or a 0-d integer tensor), dropping their dims,
and applies NumPy's rule to the index tensors, lists and masks that remain: ``x[1, :, d]`` is
``x[1][:, d]``, shape (x.shape[1], len(d), ...). ``index_arrays`` spots the indices where the
two rules differ and returns them as a ``Split``: a basic selection (a view) and the rest.
Three more PyTorch habits are kept: a non-tuple list holding a sequence, tensor, slice, None
or Ellipsis is read as a tuple (deprecated, with PyTorch's warning); a uint8 index tensor is a
mask (deprecated, with PyTorch's warning); a slice's step must be positive.

The backward of ``x[index]`` scatters g into zeros of x's shape. Integer-array indices may
repeat an element, so their gradients are added with ``np.add.at`` (a scatter-add); basic
slices and boolean masks touch each element at most once and use plain assignment.
"""

import warnings

import numpy as np

from gradkit.autograd.function import Function
from gradkit.ops._util import unbroadcast
from gradkit.tensor import Tensor


class Split:
    """An index that PyTorch and NumPy read differently: ``x[index]`` is ``x[select][rest]``,
    ``select`` the integers (basic indexing, so ``x[select]`` is a view) and ``rest`` the
    other entries, with no integer left for NumPy to count as an advanced index."""

    __slots__ = ("select", "rest")

    def __init__(self, select, rest):
        self.select, self.rest = select, rest

    def __repr__(self):
        return f"Split(select={self.select!r}, rest={self.rest!r})"


def _is_int(p):
    if isinstance(p, np.ndarray):
        return p.ndim == 0 and p.dtype.kind in "iu"
    return isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_))


def _is_advanced(p):
    if isinstance(p, np.ndarray):
        return p.ndim > 0 or p.dtype.kind == "b"
    return isinstance(p, (bool, np.bool_))


def _sequence_as_tuple(index):
    """PyTorch's reading of a non-tuple list: a tuple when it holds a sequence, tensor, slice,
    None or Ellipsis (and has under 32 items), else one index array."""
    if len(index) >= 32:
        return False
    return any(p is None or p is Ellipsis or isinstance(p, (Tensor, np.ndarray, list, tuple,
                                                            slice)) for p in index)


def _part(p):
    """One entry of an index as NumPy takes it: tensors and lists to arrays, uint8 masks to
    bool, and PyTorch's refusal of a slice with a step below 1."""
    if isinstance(p, Tensor):
        p = p._data
    elif isinstance(p, list):
        p = np.asarray(p)
        if p.size == 0:
            p = p.astype(np.int64)
    elif isinstance(p, slice):
        if p.step is not None and p.step <= 0:
            raise ValueError("step must be greater than zero")
        return p
    if isinstance(p, np.ndarray) and p.dtype == np.uint8:
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                      "torch.bool instead.", UserWarning, stacklevel=4)
        p = p.astype(bool)
    return p


def _split(parts):
    """A Split when NumPy would count an integer as advanced and move the broadcast dims to
    the front where PyTorch does not: integers and advanced entries both present, and not
    all side by side. None otherwise (NumPy's reading is PyTorch's)."""
    special = [i for i, p in enumerate(parts) if _is_int(p) or _is_advanced(p)]
    ints = sum(_is_int(parts[i]) for i in special)
    if not ints or ints == len(special) or special[-1] - special[0] + 1 == len(special):
        return None
    select = []
    for p in parts:
        if _is_int(p) or p is Ellipsis:
            select.append(int(p) if _is_int(p) else p)
        elif isinstance(p, np.ndarray) and p.ndim > 0:
            select.extend([slice(None)] * (p.ndim if p.dtype.kind == "b" else 1))
        elif isinstance(p, slice):
            select.append(slice(None))
    if Ellipsis not in select:
        select.append(Ellipsis)  # a view even when integers index every dim
    return Split(tuple(select), tuple(p for p in parts if not _is_int(p)))


def index_arrays(index):
    """An index (ints, slices, None, Ellipsis, bools, tensors, lists) in the form NumPy takes,
    read by PyTorch's rules: a plain NumPy index, or a Split where the rules differ."""
    if type(index) is int or isinstance(index, Split):
        return index
    if isinstance(index, list) and _sequence_as_tuple(index):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated "
                      "and will be changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]."
                      " In pytorch 2.9 this will be interpreted as tensor index, "
                      "x[torch.tensor(seq)], which will result either in an error or a "
                      "different result", UserWarning, stacklevel=3)
        index = tuple(index)
    if not isinstance(index, tuple):
        return _part(index)
    parts = tuple(_part(p) for p in index)
    return _split(parts) or parts


def _at(a, index):
    """(array, NumPy index) such that ``array[index]`` is ``a[index]`` by PyTorch's rule;
    the array is a view of a, so writing through it writes a."""
    if isinstance(index, Split):
        return a[index.select], index.rest
    return a, index


def _has_int_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" and p.ndim > 0
               for p in parts)


def take_array(a, index):
    """``a[index]`` for an ndarray and an index from index_arrays."""
    a, index = _at(a, index)
    return a[index]


def setitem_array(a, index, v):
    """``a[index] = v`` for an ndarray and an index from index_arrays (writes a)."""
    a, index = _at(a, index)
    a[index] = v


class GetItem(Function):
    """out = x[index];  dx = zeros with g scattered (added, for repeated integer indices)."""

    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        return take_array(x, index)

    def backward(self, g):
        dx = np.zeros(self.shape, g.dtype)
        view, index = _at(dx, self.index)
        if _has_int_array(index):
            np.add.at(view, index, g)
        else:
            view[index] = g
        return dx


def getitem(x, index):
    index = index_arrays(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(f"indexing a tensor of shape {x.shape} with {index!r}: {e}") from None


class IndexPut(Function):
    """out = x with out[index] = v (v broadcast to the shape of x[index]);
    dx = g with g[index] set to 0;  dv = g[index] summed back to v's shape.

    The recorded form of ``x[index] = v`` (and of fill_ / copy_) on a tensor in the graph."""

    def forward(self, x, v, index):
        self.index, self.v_shape, self.v_dtype = index, np.shape(v), np.asarray(v).dtype
        out = x.copy()
        setitem_array(out, index, v)
        return out

    def backward(self, g):
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            setitem_array(gx, self.index, 0)
        if self.needs_input_grad[1]:
            gv = unbroadcast(take_array(g, self.index), self.v_shape)
            gv = gv.astype(self.v_dtype, copy=False)
        return gx, gv


def index_put(x, index, value):
    """A copy of x with ``x[index] = value``, differentiable in both x and value."""
    return IndexPut.apply(x, value, index=index_arrays(index))


def one_hot(labels, num_classes=-1):
    """(..., ) integer labels -> (..., num_classes) int64 rows with a single 1 (PyTorch's
    F.one_hot). ``num_classes=-1`` uses max(label) + 1."""
    y = labels._data if isinstance(labels, Tensor) else np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if num_classes < 0:
        num_classes = int(y.max()) + 1 if y.size else 0
    bad = (y < 0) | (y >= num_classes)
    if bad.any():
        raise ValueError(f"one_hot: label {int(y[bad].flat[0])} is outside "
                         f"[0, {num_classes - 1}] for num_classes={num_classes}")
    out = np.zeros(y.shape + (num_classes,), np.int64)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._make(out, None)
