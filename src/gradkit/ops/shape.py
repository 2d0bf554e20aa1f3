"""Shape ops: views and rearrangements whose backward is the inverse rearrangement.

reshape/view, flatten, transpose/permute, squeeze/unsqueeze, expand, cat, stack, split, chunk
and pad. Forward results are NumPy views where NumPy allows (no copies).
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import binary_operands, normalize_dim, unbroadcast
from gradkit.tensor import Tensor


def _sizes(args, op):
    """Accept f(2, 3) and f((2, 3)) alike, as PyTorch does."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    if not all(isinstance(n, (int, np.integer)) for n in args):
        raise TypeError(f"{op}: sizes must be ints, got {args}")
    return tuple(int(n) for n in args)


class Reshape(Function):
    """out = x with a new shape (same elements, row-major);  dx = g reshaped back."""

    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


class Permute(Function):
    """out = x with its dims reordered;  dx = g with the inverse order."""

    def forward(self, x, dims):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, g):
        return g.transpose(self.inverse)


class Expand(Function):
    """out = x broadcast to a larger shape (a view);  dx = g summed over the broadcast dims."""

    def forward(self, x, shape):
        self.in_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, g):
        return unbroadcast(g, self.in_shape)


class Cat(Function):
    """out = the inputs joined along dim;  each input's gradient is its slice of g."""

    def forward(self, *arrays, dim):
        self.dim = dim
        self.bounds = np.cumsum([a.shape[dim] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=dim)

    def backward(self, g):
        return tuple(np.split(g, self.bounds, axis=self.dim))


class Stack(Function):
    """out = the inputs stacked along a new dim;  each input's gradient is g indexed there."""

    def forward(self, *arrays, dim):
        self.dim = dim
        return np.stack(arrays, axis=dim)

    def backward(self, g):
        return tuple(np.moveaxis(g, self.dim, 0))


class Pad(Function):
    """out = x padded (constant, reflect, replicate or circular);  dx = g folded back.

    For constant padding the gradient is the interior slice of g. For the other modes an
    element of x may appear several times in the output, so the gradient adds up every copy:
    per padded axis, padding ``arange(n)`` with the same mode gives the source index of each
    output position, and ``np.add.at`` sums g into those sources."""

    def forward(self, x, widths, mode, value):
        self.widths, self.mode, self.in_shape = widths, mode, x.shape
        if mode == "constant":
            return np.pad(x, widths, mode="constant", constant_values=value)
        return np.pad(x, widths, mode=_NUMPY_PAD_MODE[mode])

    def backward(self, g):
        if self.mode == "constant":
            return g[tuple(slice(lo, lo + n) for (lo, _), n in zip(self.widths, self.in_shape))]
        for axis, ((lo, hi), n) in enumerate(zip(self.widths, self.in_shape)):
            if lo == 0 and hi == 0:
                continue
            source = np.pad(np.arange(n), (lo, hi), mode=_NUMPY_PAD_MODE[self.mode])
            moved = np.moveaxis(g, axis, 0)
            folded = np.zeros((n,) + moved.shape[1:], g.dtype)
            np.add.at(folded, source, moved)
            g = np.moveaxis(folded, 0, axis)
        return g


_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


# ----- the functions the Tensor methods and gk.* call -----

def reshape(x, *shape):
    shape = _sizes(shape, "reshape")
    known = int(np.prod([n for n in shape if n != -1]))
    fits = known == x.numel() if -1 not in shape else known and x.numel() % known == 0
    if shape.count(-1) > 1 or not fits:
        raise ShapeError(f"reshape: cannot view a tensor of shape {x.shape} "
                         f"({x.numel()} elements) as shape {shape}")
    return Reshape.apply(x, shape=shape)


view = reshape


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one (PyTorch's flatten)."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = (d % x.ndim for d in (start_dim, end_dim))
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    return reshape(x, *shape)


def permute(x, *dims):
    dims = _sizes(dims, "permute")
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ShapeError(f"permute: dims {dims} are not a permutation of the "
                         f"{x.ndim} dims of a tensor of shape {x.shape}")
    return Permute.apply(x, dims=tuple(d % x.ndim for d in dims))


def transpose(x, dim0, dim1):
    """Swap two dims."""
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    d0, d1 = normalize_dim(dim0, x.ndim, "transpose")[0], normalize_dim(dim1, x.ndim,
                                                                         "transpose")[0]
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = d1, d0
    return Permute.apply(x, dims=tuple(dims))


def squeeze(x, dim=None):
    """Drop size-1 dims (all of them, or those in ``dim``; others are left alone as in PyTorch)."""
    axes = normalize_dim(dim, x.ndim, "squeeze")
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return x if shape == x.shape else Reshape.apply(x, shape=shape)


def unsqueeze(x, dim):
    """Insert a size-1 dim at ``dim`` (−ndim−1 ≤ dim ≤ ndim)."""
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(f"unsqueeze: dim {dim} out of range for a tensor of shape {x.shape}")
    dim = dim % (x.ndim + 1)
    return Reshape.apply(x, shape=x.shape[:dim] + (1,) + x.shape[dim:])


def expand(x, *sizes):
    """Broadcast to ``sizes`` without copying; -1 keeps a dim's size."""
    sizes = _sizes(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to fewer dims {sizes}")
    shape = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    for i, n in enumerate(x.shape):
        if n != 1 and n != shape[lead + i]:
            raise ShapeError(f"expand: dim {i} of shape {x.shape} has size {n}, which cannot "
                             f"be expanded to {shape[lead + i]} (only size-1 dims expand)")
    return Expand.apply(x, shape=shape)


def _same_dtype(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise ShapeError(f"{op}: expected a non-empty list of tensors")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    first = tensors[0]
    return [first] + [binary_operands(first, t, op)[1] for t in tensors[1:]]


def cat(tensors, dim=0):
    """Join tensors along an existing dim; all other dims must match."""
    tensors = _same_dtype(tensors, "cat")
    axis = normalize_dim(dim, tensors[0].ndim, "cat")[0]
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != len(ref) or t.shape[:axis] + t.shape[axis + 1:] != ref[:axis] + ref[axis + 1:]:
            raise ShapeError(f"cat: tensor {i} has shape {t.shape}, which does not fit shape "
                             f"{ref} of tensor 0 in any dim but {dim}")
    return Cat.apply(*tensors, dim=axis)


concat = cat


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dim."""
    tensors = _same_dtype(tensors, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has "
                             f"shape {tensors[0].shape}; all must be equal")
    ndim = tensors[0].ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"stack: dim {dim} out of range for {ndim}-d output")
    return Stack.apply(*tensors, dim=dim % ndim)


def split(x, split_size_or_sections, dim=0):
    """Pieces of size ``split_size`` (the last may be smaller) or of the listed sizes."""
    axis = normalize_dim(dim, x.ndim, "split")[0]
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ArgumentError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} add up to {sum(sizes)} but dim {dim} "
                             f"has size {n}")
    pieces, start = [], 0
    for size in sizes or [0]:
        index = (slice(None),) * axis + (slice(start, start + size),)
        pieces.append(x[index])
        start += size
    return tuple(pieces)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces of size ceil(n / chunks) (fewer if n is small)."""
    if chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[normalize_dim(dim, x.ndim, "chunk")[0]]
    return split(x, max(1, -(-n // chunks)), dim)


def pad(x, pad, mode="constant", value=0.0):
    """Pad the last len(pad)//2 dims: ``pad = (left, right, top, bottom, ...)`` starting from
    the last dim, as in PyTorch's F.pad. Modes: constant, reflect, replicate, circular."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ArgumentError(f"pad: expected an even number of widths for at most {x.ndim} "
                            f"dims, got {tuple(pad)}")
    if any(p < 0 for p in pad):
        raise ArgumentError(f"pad: negative widths are not supported, got {tuple(pad)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ArgumentError(f"pad: unknown mode {mode!r}; use constant, reflect, replicate or "
                            "circular")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
        if mode == "reflect" and max(widths[x.ndim - 1 - i]) >= x.shape[x.ndim - 1 - i]:
            raise ArgumentError(f"pad: reflect padding {widths[x.ndim - 1 - i]} must be "
                                f"smaller than the dim it pads ({x.shape[x.ndim - 1 - i]})")
    return Pad.apply(x, widths=tuple(widths), mode=mode, value=value)
