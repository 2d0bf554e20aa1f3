"""Layout ops: a tensor's elements reversed, rotated, repeated or windowed, and their adjoints.

flip and roll permute the elements (dx is g under the inverse permutation); repeat / tile and
repeat_interleave copy them (dx sums g over the copies); narrow and Tensor.unfold are views
(dx puts g back in place, overlapping windows added up); unflatten, movedim, swapaxes,
broadcast_to and ravel are the shape ops of ops/shape.py under PyTorch's names. As in PyTorch,
dims may be negative, flip / roll / repeat / repeat_interleave return copies and narrow /
unfold / movedim / broadcast_to views. The joins (meshgrid, broadcast_tensors, atleast_*d,
*stack) live in ops/stacking.py and are exported from here.

    x = gk.arange(6.0).reshape(2, 3)
    x.flip(1)                          # [[2, 1, 0], [5, 4, 3]]
    gk.roll(x, 1, 1)                   # [[2, 0, 1], [5, 3, 4]]
    x.repeat_interleave(2, dim=0)      # rows 0, 0, 1, 1
    x.unfold(1, 2, 1).shape            # (2, 2, 2): the windows of 2 along dim 1, a new last dim
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops._util import normalize_dim
from gradkit.ops.shape import _sizes, expand, flatten, permute, reshape, transpose
from gradkit.ops.stacking import (atleast_1d, atleast_2d, atleast_3d, broadcast_shapes,
                                  broadcast_tensors, column_stack, dstack, hstack, meshgrid,
                                  row_stack, vstack)
from gradkit.tensor import Tensor

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "broadcast_to", "column_stack", "dstack", "flip", "fliplr", "flipud", "hstack",
           "meshgrid", "moveaxis", "movedim", "narrow", "ravel", "repeat_interleave", "roll",
           "row_stack", "swapaxes", "swapdims", "tile", "unflatten", "vstack"]


class Flip(Function):
    """out[i] = x[n − 1 − i] along each flipped axis (a copy);  dx = g flipped the same way."""

    def forward(self, x, axes):
        self.axes = axes
        return np.flip(x, axes).copy()

    def backward(self, g):
        return np.flip(g, self.axes)


class Roll(Function):
    """out[(i + s) mod n] = x[i] along each axis (all elements, flattened, for axes None);
    dx = g rolled by −s."""

    def forward(self, x, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return np.roll(x, shifts, axes)

    def backward(self, g):
        back = -self.shifts if self.axes is None else tuple(-s for s in self.shifts)
        return np.roll(g, back, self.axes)


class Tile(Function):
    """out = x copied reps[d] times along each dim d (np.tile);  dx = Σ of g over the copies:
    g viewed as (r0, n0, r1, n1, …) and summed over the r axes."""

    def forward(self, x, reps):
        self.shape, self.reps = x.shape, reps
        return np.tile(x, reps)

    def backward(self, g):
        split = [n for pair in zip(self.reps, self.shape) for n in pair]
        return g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))


class RepeatInterleave(Function):
    """out = each x[i] along axis copied repeats[i] times, in place (np.repeat);
    dx[i] = Σ of g over the copies of x[i]: for one int r, g viewed as (…, n, r, …) summed
    over r; for per-element repeats, g scatter-added to the source index of each copy."""

    def forward(self, x, repeats, axis):
        self.shape, self.repeats, self.axis = x.shape, repeats, axis
        return np.repeat(x, repeats, axis)

    def backward(self, g):
        axis, n = self.axis, self.shape[self.axis]
        if isinstance(self.repeats, int):
            split = self.shape[:axis] + (n, self.repeats) + self.shape[axis + 1:]
            return g.reshape(split).sum(axis=axis + 1)
        moved = np.moveaxis(g, axis, 0)
        dx = np.zeros((n,) + moved.shape[1:], g.dtype)
        np.add.at(dx, np.repeat(np.arange(n), self.repeats), moved)
        return np.moveaxis(dx, 0, axis)


class Unfold(Function):
    """out[…, i, …, k] = x[…, i·step + k, …]: the windows of ``size`` along axis, a strided view
    with the window as a new last dim;  dx[j] = Σ of g over the windows that hold x[j]: for each
    offset k, g[…, k] added back at k, k + step, k + 2·step, …."""

    def forward(self, x, axis, size, step):
        self.shape, self.axis, self.size, self.step = x.shape, axis, size, step
        count = (x.shape[axis] - size) // step + 1
        shape = x.shape[:axis] + (count,) + x.shape[axis + 1:] + (size,)
        s = x.strides
        strides = s[:axis] + (s[axis] * step,) + s[axis + 1:] + (s[axis],)
        return as_strided(x, shape, strides, writeable=step >= size and x.flags.writeable)

    def backward(self, g):
        dx = np.zeros(self.shape, g.dtype)
        target = np.moveaxis(dx, self.axis, -1)
        windows = np.moveaxis(g, self.axis, -2)
        end = self.step * (windows.shape[-2] - 1) + 1
        for k in range(self.size):
            target[..., k:k + end:self.step] += windows[..., k]
        return dx


# ----- the functions the Tensor methods and gk.* call -----

def _axes(dims, ndim, op):
    """dims (an int or a sequence) as non-negative axes, in order; a repeat is an error."""
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    axes = [normalize_dim(int(d), max(ndim, 1), op)[0] for d in dims]  # 0-d: 0 or -1
    for i, a in enumerate(axes):
        if a in axes[:i]:
            raise ArgumentError(f"{op}: dim {a} appears multiple times in the list of dims "
                                f"{dims}")
    return tuple(axes)


def _axis(dim, ndim, op):
    """One dim as a non-negative axis; a 0-d tensor has none (PyTorch's IndexError)."""
    if ndim == 0:
        raise IndexError(f"{op}: dimension specified as {dim} but tensor has no dimensions")
    return normalize_dim(int(dim), ndim, op)[0]


def flip(input, dims):
    """Reverse the order of the elements along each of ``dims`` (an int or a sequence)."""
    axes = _axes(dims, input.ndim, "flip")
    return Flip.apply(input, axes=axes if input.ndim else ())


def fliplr(input):
    """Flip dim 1 (left ↔ right); the input must be at least 2-D."""
    if input.ndim < 2:
        raise ShapeError(f"fliplr: Input must be >= 2-d, got shape {input.shape}")
    return flip(input, (1,))


def flipud(input):
    """Flip dim 0 (up ↔ down); the input must be at least 1-D."""
    if input.ndim < 1:
        raise ShapeError(f"flipud: Input must be >= 1-d, got shape {input.shape}")
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    """Rotate the elements by ``shifts`` along ``dims``: an element pushed past the end comes
    back at the start. Without dims the tensor is rolled as if flattened, shape kept."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if not shifts:
        raise ArgumentError("roll: `shifts` required")
    if dims is None:
        if len(shifts) != 1:
            raise ArgumentError(f"roll: shifts and dimensions must align. shifts: "
                                f"{len(shifts)}, dims: 0")
        return Roll.apply(input, shifts=int(shifts[0]), axes=None)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ArgumentError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                            f"dims: {len(dims)}")
    axes = tuple(_axis(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts=tuple(int(s) for s in shifts), axes=axes)


def repeat(input, *sizes):
    """Tensor.repeat: the whole tensor tiled ``sizes[d]`` times along each dim d; more sizes
    than dims add leading dims (np.tile semantics, as PyTorch's Tensor.repeat)."""
    sizes = _sizes(sizes, "repeat")
    if len(sizes) < input.ndim:
        raise ShapeError(f"repeat: Number of dimensions of repeat dims can not be smaller than "
                         f"number of dimensions of tensor: got {sizes} for shape {input.shape}")
    if any(n < 0 for n in sizes):
        raise ArgumentError(f"repeat: Trying to create tensor with negative dimension: repeats "
                            f"{sizes}")
    lead = len(sizes) - input.ndim
    if lead:
        input = reshape(input, (1,) * lead + input.shape)
    return Tile.apply(input, reps=sizes)


def tile(input, dims):
    """Like Tensor.repeat, except that fewer ``dims`` than the tensor has are padded with
    leading 1s (PyTorch's tile)."""
    dims = _sizes((dims,) if isinstance(dims, (int, np.integer)) else dims, "tile")
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _repeat_counts(repeats, n):
    """An int, or a 0-d / 1-D integer tensor of per-element counts (size 1 broadcasts)."""
    if isinstance(repeats, (int, np.integer)):
        if repeats < 0:
            raise ArgumentError(f"repeat_interleave: Repeats must be non-negative, got "
                                f"{repeats}")
        return int(repeats)
    counts = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu" or counts.ndim > 1:
        raise ArgumentError(f"repeat_interleave: repeats must be an int or a 0-d / 1-D integer "
                            f"tensor, got {counts.dtype} of shape {counts.shape}")
    if (counts < 0).any():
        raise ArgumentError("repeat_interleave: repeats can not be negative")
    if counts.size == 1:
        return int(counts.reshape(()))
    if counts.size != n:
        raise ShapeError(f"repeat_interleave: repeats must have the same size as input along "
                         f"dim, but got repeats.size(0) = {counts.size} and input.size = {n}")
    return counts.astype(np.int64)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int or one count per element) along ``dim``;
    without dim the input is flattened first. With only a 1-D tensor of counts r, return
    the indices 0…len(r)−1, each repeated r[i] times (int64)."""
    if repeats is None:
        counts = np.asarray(input._data).reshape(-1)
        return Tensor._make(np.repeat(np.arange(counts.size), _repeat_counts(input, counts.size)),
                            None)
    if dim is None:
        input, axis = flatten(input), 0
    else:
        axis = _axis(dim, input.ndim, "repeat_interleave")
    counts = _repeat_counts(repeats, input.shape[axis])
    total = counts * input.shape[axis] if isinstance(counts, int) else int(counts.sum())
    if output_size is not None and output_size != total:
        raise ArgumentError(f"repeat_interleave: allocated size does not match required size: "
                            f"output_size={output_size} but the repeats add up to {total}")
    return RepeatInterleave.apply(input, repeats=counts, axis=axis)


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one of them may be −1)."""
    axis = _axis(dim, input.ndim, "unflatten")
    sizes, n = _sizes(tuple(sizes), "unflatten"), input.shape[axis]
    known = int(np.prod([s for s in sizes if s != -1]))
    fits = known == n if -1 not in sizes else known and n % known == 0
    if sizes.count(-1) > 1 or not fits:
        raise ShapeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                         f"size of dim {dim} ({n}) in the input tensor")
    if -1 in sizes:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    return reshape(input, input.shape[:axis] + sizes + input.shape[axis + 1:])


def narrow(input, dim, start, length):
    """The view of ``length`` elements from ``start`` (may be negative) along ``dim``."""
    if input.ndim == 0:
        raise ShapeError("narrow() cannot be applied to a 0-dim tensor.")
    axis = _axis(dim, input.ndim, "narrow")
    n, start, length = input.shape[axis], int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-n}, {n}], "
                         f"but got {start})")
    if length < 0:
        raise ArgumentError(f"narrow: length must be non-negative, got {length}")
    if start < 0:
        start += n
    if start + length > n:
        raise ShapeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                         f"({n}).")
    return input[(slice(None),) * axis + (slice(start, start + length),)]


def movedim(input, source, destination):
    """Move the dims ``source`` to the positions ``destination``; the others keep their order."""
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise ArgumentError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                            f"dims) should contain the same number of dims as destination "
                            f"({list(dst)} dims)")
    src = _axes(src, input.ndim, "movedim")
    dst = _axes(dst, input.ndim, "movedim")
    if input.ndim == 0:
        return input
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, *order)


moveaxis = movedim


def swapaxes(input, axis0, axis1):
    """Swap two dims (transpose's NumPy name)."""
    return transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1):
    """Swap two dims (transpose)."""
    return transpose(input, dim0, dim1)


def broadcast_to(input, size):
    """The view of ``input`` broadcast to ``size`` (−1 keeps a dim), as expand."""
    return expand(input, *size)


def ravel(input):
    """All elements in one dim, row-major."""
    return flatten(input)


def unfold(input, dimension, size, step):
    """Tensor.unfold: every window of ``size`` elements, ``step`` apart, along ``dimension``,
    as a view with the windows along that dim and the window's elements in a new last dim."""
    if input.ndim == 0:  # PyTorch reads it as shape (1,) and returns shape (size,)
        normalize_dim(dimension, 0, "unfold")
        return reshape(unfold(reshape(input, 1), 0, size, step), size)
    axis = normalize_dim(dimension, input.ndim, "unfold")[0]
    n = input.shape[axis]
    if size > n or size < 0:
        raise ArgumentError(f"unfold: maximum size for tensor at dimension {dimension} is {n} "
                            f"but size is {size}")
    if step <= 0:
        raise ArgumentError(f"unfold: step is {step} but must be > 0")
    out = Unfold.apply(input, axis=axis, size=size, step=step)
    out._vc = input._vc  # as_strided hides the base from Function.apply: share the counter
    input._vc[1] = True
    return out


def view_dtype(input, dtype):
    """Tensor.view(dtype): the same bytes read as ``dtype``, sharing memory, with no gradient
    (as in PyTorch). The same element size keeps the shape; otherwise the last dim, which must
    be contiguous, scales by the ratio of the sizes (and must divide when the new one is
    larger)."""
    new, a = np.dtype(dtype), input._data
    old = a.dtype
    if new.itemsize != old.itemsize:
        what = f"view: to view {old} as {new} (different element sizes)"
        if a.ndim == 0:
            raise ShapeError(f"{what}, self.dim() cannot be 0")
        if a.shape[-1] > 1 and a.strides[-1] != old.itemsize:
            raise ShapeError(f"{what}, self.stride(-1) must be 1, but got "
                             f"{a.strides[-1] // old.itemsize}")
        if new.itemsize > old.itemsize and a.shape[-1] % (new.itemsize // old.itemsize):
            raise ShapeError(f"{what}, self.size(-1) must be divisible by "
                             f"{new.itemsize // old.itemsize}, but got {a.shape[-1]}")
    out = Tensor._make(a.view(new), None)
    out._vc = input._vc
    return out
