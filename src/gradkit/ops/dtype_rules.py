"""PyTorch's type-promotion questions and the small tensor makers beside them (exported through
ops/aliases.py): promote_types, result_type, can_cast, as_tensor, asarray, frombuffer,
empty_strided, empty_permuted, scalar_tensor, fill, is_neg.

The rules are PyTorch's, which gradkit's own ops follow except where they refuse to mix float32
with float64: dtypes rank by category, bool < integer < floating point; two dtypes of one
category promote to the wider one (uint8 with int8 gives int16); across categories the higher
category's dtype wins (int64 with float16 gives float16). In ``result_type`` tensors with dims
outrank 0-d tensors, which outrank Python numbers: a lower-ranked operand counts only when its
category is higher, and a Python float then stands for the default float32.

    import gradkit as gk
    gk.result_type(gk.tensor([1, 2]), 1.5)          # float32
    gk.promote_types(gk.uint8, gk.int8)              # int16
"""

import numpy as np

from gradkit.creation import default_dtype, empty, full_like, tensor
from gradkit.tensor import Tensor, as_array

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _category(dtype):
    return _CATEGORY[np.dtype(dtype).kind]


def promote_types(type1, type2):
    """The smallest dtype both dtypes convert to, by PyTorch's rules."""
    a, b = np.dtype(type1), np.dtype(type2)
    if _category(a) != _category(b):
        return a if _category(a) > _category(b) else b
    return np.promote_types(a, b)


def _number_dtype(x):
    if isinstance(x, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(x, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(x, (float, np.floating)):
        return default_dtype
    raise TypeError(f"result_type: expected a Tensor or a number, got {type(x).__name__}")


def result_type(tensor, other):
    """The dtype of an arithmetic op on ``tensor`` and ``other`` (tensors or numbers)."""
    groups = [None, None, None]  # dimensioned tensors, 0-d tensors, Python numbers
    for x in (tensor, other):
        if isinstance(x, Tensor):
            rank, dtype = (0 if x.ndim else 1), x.dtype
        else:
            rank, dtype = 2, _number_dtype(x)
        groups[rank] = dtype if groups[rank] is None else promote_types(groups[rank], dtype)
    result = None
    for dtype in groups:
        if dtype is not None and (result is None or _category(dtype) > _category(result)):
            result = dtype if result is None else promote_types(result, dtype)
    return result


def can_cast(from_, to):
    """Whether PyTorch casts ``from_`` to ``to`` implicitly: not to a lower category."""
    return _category(from_) <= _category(to)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing the memory of a tensor or ndarray when no conversion is
    needed (a copy otherwise)."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return Tensor._make(as_array(data), None)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``obj`` as a tensor: shared memory where possible unless ``copy``; ``copy=False``
    raises when a copy is needed."""
    out = as_tensor(obj, dtype, device)
    source = obj._data if isinstance(obj, Tensor) else obj
    shared = isinstance(source, np.ndarray) and np.may_share_memory(out._data, source)
    if copy is False and not shared:
        raise ValueError("asarray: copy=False, but a copy of the data is needed")
    if copy and shared:
        out = tensor(out._data.copy())
    return out.detach().requires_grad_(True) if requires_grad else out


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the bytes of ``buffer`` (shared memory, as numpy.frombuffer)."""
    array = np.frombuffer(buffer, dtype=np.dtype(dtype), count=count, offset=offset)
    t = Tensor._make(array, None)
    return t.requires_grad_(True) if requires_grad else t


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An uninitialised tensor of ``size``; ``stride`` is accepted and not kept (gradkit
    tensors are row-major)."""
    if len(size) != len(stride):
        raise RuntimeError(f"empty_strided: mismatch in length of strides and shape, got "
                           f"{len(size)} and {len(stride)}")
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """An uninitialised tensor of ``size``; the memory order ``physical_layout`` (a
    permutation of the dims) is checked and not kept."""
    if sorted(physical_layout) != list(range(len(size))):
        raise RuntimeError(f"empty_permuted: physical_layout must be a permutation of the "
                           f"{len(size)} dims, got {list(physical_layout)}")
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number s (float32 unless dtype)."""
    return tensor(s, dtype=dtype or default_dtype, device=device, requires_grad=requires_grad)


def fill(input, value):
    """A new tensor of input's shape and dtype filled with value (the out-of-place fill_)."""
    return full_like(input, value.item() if isinstance(value, Tensor) else value)


def is_neg(input):
    """False: gradkit has no lazy negation bit (PyTorch's is_neg for a plain tensor)."""
    return False
