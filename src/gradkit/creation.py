"""Making tensors: from data, filled, ranges and random draws (PyTorch's names).

The dtype policy: float32 unless asked otherwise, except that a float64 ndarray stays float64
(gradcheck needs it) and integer data becomes int64 (labels).
"""

import numpy as np

from gradkit import random
from gradkit.tensor import Tensor, as_array

float16, float32, float64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
int32, int64, uint8, bool_ = np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.uint8), np.dtype(
    np.bool_)
default_dtype = float32


def _shape(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in size):
        raise ValueError(f"{op}: sizes must be non-negative ints, got {size}")
    return tuple(int(n) for n in size)


def _leaf(array, requires_grad):
    t = Tensor._make(array, None)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a list, scalar, ndarray or tensor)."""
    arr = as_array(data, dtype)
    source = data._data if isinstance(data, Tensor) else data
    if isinstance(source, np.ndarray) and np.may_share_memory(arr, source):
        arr = arr.copy()
    return _leaf(arr, requires_grad)


def from_numpy(array):
    """A tensor sharing ``array``'s memory and keeping its dtype exactly."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an ndarray, got {type(array).__name__}")
    return Tensor._make(array, None)


def zeros(*size, dtype=None, requires_grad=False):
    return _leaf(np.zeros(_shape(size, "zeros"), dtype or default_dtype), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _leaf(np.ones(_shape(size, "ones"), dtype or default_dtype), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _leaf(np.empty(_shape(size, "empty"), dtype or default_dtype), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _leaf(np.full(_shape((size,), "full"), fill_value, dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def empty_like(t, dtype=None, requires_grad=False):
    return empty(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values start, start+step, ... below end; int64 for int arguments, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if ints else default_dtype
    return _leaf(np.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _leaf(np.linspace(start, end, steps, dtype=dtype or default_dtype), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _leaf(np.eye(n, m, dtype=dtype or default_dtype), requires_grad)


def randn(*size, dtype=None, generator=None, requires_grad=False):
    """Standard normal draws from the shared generator (see gk.manual_seed)."""
    arr = random.normal(_shape(size, "randn"), dtype=dtype or default_dtype, generator=generator)
    return _leaf(arr, requires_grad)


def rand(*size, dtype=None, generator=None, requires_grad=False):
    """Uniform [0, 1) draws from the shared generator."""
    arr = random.uniform(_shape(size, "rand"), dtype=dtype or default_dtype, generator=generator)
    return _leaf(arr, requires_grad)


def randint(low, high=None, size=None, dtype=None, generator=None):
    """Integers in [low, high); ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint needs high and size: randint(high, size) or "
                        "randint(low, high, size)")
    rng = random.default_generator if generator is None else generator
    return Tensor._make(rng.integers(low, high, _shape((size,), "randint"),
                                     dtype=dtype or int64), None)


def randn_like(t, dtype=None, requires_grad=False):
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)
