"""Making tensors: from data, filled, ranges and random draws, with PyTorch's names and keywords.

Every function takes PyTorch's keywords: ``dtype=``, ``device=`` (the CPU only: see
gradkit/devices.py), ``requires_grad=``, and where PyTorch has them ``size=`` (instead of the
positional sizes), ``generator=`` (a ``numpy.random.Generator``) and ``out=`` (a tensor of the
result's shape that receives the values in place and is returned):

    gk.zeros(2, 3) == gk.zeros((2, 3)) == gk.zeros(size=(2, 3), device="cpu")
    gk.normal(0, 0.01, size=(784, 10), requires_grad=True)

The dtype policy: float32 unless asked otherwise, except that a float64 ndarray stays float64
(gradcheck needs it) and integer data becomes int64 (labels).
"""

import numpy as np

from gradkit import random
from gradkit.devices import check_device
from gradkit.tensor import Tensor, as_array

float16, float32, float64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
int32, int64, uint8, bool_ = np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.uint8), np.dtype(
    np.bool_)
default_dtype = float32


def _shape(sizes, size, op):
    """The shape from positional sizes (``2, 3`` or ``(2, 3)``) or the ``size=`` keyword."""
    if size is not None:
        if sizes:
            raise TypeError(f"{op}: give the size once, positionally {op}(2, 3) or as "
                            f"{op}(size=(2, 3)), not both")
        sizes = (size,)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in sizes):
        raise ValueError(f"{op}: sizes must be non-negative ints, got {sizes}")
    return tuple(int(n) for n in sizes)


def _finish(op, array, requires_grad, device, out=None):
    """The new leaf tensor holding ``array``, or ``out`` with the values copied into it."""
    check_device(op, device)
    if out is None:
        t = Tensor._make(array, None)
        return t.requires_grad_(True) if requires_grad else t
    if not isinstance(out, Tensor) or out.shape != array.shape:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"{op}(out=...): out must be a tensor of the result's shape "
                         f"{array.shape}, got {got}; or leave out=None for a new tensor")
    return out.copy_(Tensor._make(array, None))


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a list, scalar, ndarray or tensor)."""
    arr = as_array(data, dtype)
    source = data._data if isinstance(data, Tensor) else data
    if isinstance(source, np.ndarray) and np.may_share_memory(arr, source):
        arr = arr.copy()
    return _finish("tensor", arr, requires_grad, device)


def from_numpy(array):
    """A tensor sharing ``array``'s memory and keeping its dtype exactly."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an ndarray, got {type(array).__name__}")
    return Tensor._make(array, None)


def zeros(*sizes, size=None, out=None, dtype=None, device=None, requires_grad=False):
    arr = np.zeros(_shape(sizes, size, "zeros"), dtype or default_dtype)
    return _finish("zeros", arr, requires_grad, device, out)


def ones(*sizes, size=None, out=None, dtype=None, device=None, requires_grad=False):
    arr = np.ones(_shape(sizes, size, "ones"), dtype or default_dtype)
    return _finish("ones", arr, requires_grad, device, out)


def empty(*sizes, size=None, out=None, dtype=None, device=None, requires_grad=False):
    arr = np.empty(_shape(sizes, size, "empty"), dtype or default_dtype)
    return _finish("empty", arr, requires_grad, device, out)


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False):
    """``size`` filled with ``fill_value``; the dtype follows the value (int64, float32, bool)."""
    if dtype is None:
        dtype = as_array(fill_value).dtype
    arr = np.full(_shape((size,), None, "full"), fill_value, dtype)
    return _finish("full", arr, requires_grad, device, out)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    return zeros(input.shape, dtype=dtype or input.dtype, device=device,
                 requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    return ones(input.shape, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    return empty(input.shape, dtype=dtype or input.dtype, device=device,
                 requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False):
    """Values start, start+step, ... below end; int64 for int arguments, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if ints else default_dtype
    return _finish("arange", np.arange(start, end, step, dtype=dtype), requires_grad, device, out)


def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False):
    """``steps`` values evenly spaced from start to end, both included. With an integer dtype,
    as PyTorch: start and end truncated, the values computed from the start for the first
    half and from the end for the rest, then truncated toward zero (``linspace(-5, 5, 4,
    dtype=int64)`` is [-5, -1, 1, 5]; NumPy's gives -2 for the second)."""
    dtype = np.dtype(dtype or default_dtype)
    if dtype.kind in "iu":
        arr = _integer_linspace(int(start), int(end), steps).astype(dtype)
    else:
        arr = np.linspace(start, end, steps, dtype=dtype)
    return _finish("linspace", arr, requires_grad, device, out)


def _integer_linspace(start, end, steps):
    """PyTorch's integer linspace: start + step·i for the first half, end − step·(steps−1−i)
    for the rest, in extended precision (one rounding, as its fused multiply-add), truncated."""
    if steps == 1:
        return np.array([start])
    wide = np.longdouble
    step = (end - start) / (steps - 1)
    i = np.arange(steps, dtype=wide)
    values = np.where(i < steps // 2, wide(start) + wide(step) * i,
                      wide(end) - wide(step) * (steps - 1 - i))
    return np.trunc(values.astype(np.float64))


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False):
    return _finish("eye", np.eye(n, m, dtype=dtype or default_dtype), requires_grad, device, out)


def randn(*sizes, size=None, generator=None, out=None, dtype=None, device=None,
          requires_grad=False):
    """Standard normal draws from the shared generator (see gk.manual_seed)."""
    check_device("randn", device)  # before drawing: a refused call leaves the generator as is
    arr = random.normal(_shape(sizes, size, "randn"), dtype=dtype or default_dtype,
                        generator=generator)
    return _finish("randn", arr, requires_grad, None, out)


def rand(*sizes, size=None, generator=None, out=None, dtype=None, device=None,
         requires_grad=False):
    """Uniform [0, 1) draws from the shared generator."""
    check_device("rand", device)
    arr = random.uniform(_shape(sizes, size, "rand"), dtype=dtype or default_dtype,
                         generator=generator)
    return _finish("rand", arr, requires_grad, None, out)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False):
    """Draws from N(mean, std²): ``normal(0, 0.01, size=(3, 4))`` with numbers and a size, or
    ``normal(mean, std)`` with a tensor for either, one draw per element of their broadcast
    shape, in the tensor's float dtype. The draws are a new leaf (not differentiable w.r.t.
    mean and std, unlike PyTorch's tensor overloads)."""
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if size is None and not tensors:
        raise TypeError("normal: with numbers for mean and std give the size, e.g. "
                        "gk.normal(0.0, 1.0, size=(2, 3)); or pass a tensor of means or stds")
    if size is not None and tensors:
        raise TypeError("normal: size= goes with numbers for mean and std; with a tensor "
                        "mean or std the shape is theirs, so leave size out")
    means, stds = (v._data if isinstance(v, Tensor) else v for v in (mean, std))
    if np.any(np.asarray(stds) < 0):
        raise RuntimeError(f"normal expects std >= 0.0, but found std {np.min(stds)}")
    if size is None:
        shape = np.broadcast_shapes(*(np.shape(v) for v in (means, stds)))
        floats = [t.dtype for t in tensors if t.dtype.kind == "f"]
        dtype = dtype or (np.result_type(*floats) if floats else default_dtype)
    else:
        shape, dtype = _shape((size,), None, "normal"), dtype or default_dtype
    check_device("normal", device)
    draws = random.normal(shape, dtype=dtype, generator=generator)
    arr = (draws * np.asarray(stds, dtype) + np.asarray(means, dtype)).astype(dtype, copy=False)
    return _finish("normal", arr, requires_grad, None, out)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None,
            device=None, requires_grad=False):
    """Integers in [low, high); ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    elif high is None and size is not None:
        low, high = 0, low
    if high is None or size is None:
        raise TypeError("randint needs high and size: randint(high, size) or "
                        "randint(low, high, size)")
    check_device("randint", device)
    rng = random.default_generator if generator is None else generator
    arr = rng.integers(low, high, _shape((size,), None, "randint"), dtype=dtype or int64)
    return _finish("randint", arr, requires_grad, None, out)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, device=device,
                 requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad)
