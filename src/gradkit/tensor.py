"""Tensor: an ndarray plus what reverse-mode autograd needs (grad, grad_fn, hooks).

A tensor made by an op while grad mode is on, from inputs that require grad, remembers the op
(``grad_fn``, a Function node that holds the inputs). ``backward()`` walks those nodes in
reverse (see autograd/engine.py). The math of every op lives in gradkit/ops/; this file only
holds the object and forwards methods to the ops, so ``x.relu()`` and ``gk.relu(x)`` are one
code path.

In-place methods (``add_``, ``mul_``, ``copy_``, ``x[i] = v``, ...) change the array itself and
count the change in the tensor's version counter (``t._version``, shared with its views), so a
node that saved the old array raises at backward instead of using the new values. Under grad
mode, an in-place change of a non-leaf tensor (or one whose operand requires grad) is recorded
in the graph as PyTorch does: ``c += c + 1`` works, and ``c.grad_fn`` becomes the in-place op.
"""

import numpy as np

from gradkit import random
from gradkit.autograd import engine, grad_mode
from gradkit.devices import CPU, check_device
from gradkit.devices import device as _device
from gradkit.errors import ArgumentError, ShapeError
from gradkit.methods import (ElementwiseMethods, IndexMethods, InplaceMethods, MiscMethods,
                             ProductMethods, ReduceMethods, ShapeMethods, SortMethods)

_FLOAT_KINDS = "f"
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def as_array(data, dtype=None):
    """The dtype policy: float32 unless the input is a float64 or float16 array (kept, as
    torch.tensor keeps them); ints -> int64 from lists."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "f" and data.dtype not in (np.float64, np.float32, np.float16):
            return data.astype(np.float32)
        if data.dtype.kind not in "fiub":
            raise TypeError(f"gk.tensor: cannot make a tensor from an array of dtype "
                            f"{data.dtype}; gradkit holds floating-point, integer and bool "
                            "numbers")
        return data
    if isinstance(data, np.generic):
        return as_array(np.asarray(data))
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return arr.astype(np.float32)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "b":
        return arr
    raise TypeError(f"gk.tensor: cannot make a tensor from {type(data).__name__} ({arr.dtype})")


class Tensor(ElementwiseMethods, ReduceMethods, SortMethods, ShapeMethods, IndexMethods,
             ProductMethods, InplaceMethods, MiscMethods):
    """An n-dimensional array that can record the ops applied to it for backpropagation."""

    __slots__ = ("_data", "grad", "grad_fn", "_requires_grad", "_hooks", "_retains_grad",
                 "_vc", "_rebased", "__weakref__")
    # _vc: the version counter [in-place changes so far, has views, engine.CLOCK at the last
    # change, a weak reference to the array], shared by views of one array; _rebased: set only once an in-place op re-records
    # this tensor in the graph: (clock of that change, grad_fn before it), see engine.parent_at
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators
    is_cuda = False

    def __init__(self, data, requires_grad=False, dtype=None):
        self._data = as_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self._hooks = None
        self._retains_grad = False
        self._requires_grad = False
        self._vc = [0, False, 0, engine.array_ref(self._data)]
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array, grad_fn):
        """Fast constructor used by ops: no dtype policy, array taken as is."""
        t = object.__new__(cls)
        t._data = array
        t.grad = None
        t.grad_fn = grad_fn
        t._hooks = None
        t._retains_grad = False
        t._requires_grad = grad_fn is not None
        t._vc = [0, False, 0, engine.array_ref(array)]
        return t

    # ----- autograd state -----
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be changed on leaf tensors; this tensor was made by "
                f"{self.grad_fn}. Use .detach() to get a leaf copy of it."
            )
        if requires_grad and self._data.dtype.kind not in _FLOAT_KINDS:
            raise RuntimeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}; "
                "convert with .float() or .double() first"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def _version(self):
        """How many in-place changes this tensor's array has had (PyTorch's ``_version``)."""
        return self._vc[0]

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self.grad_fn is not None:
            self._retains_grad = True
            engine.watch_output(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        if self.grad_fn is not None:
            engine.watch_output(self)
        return handle

    def backward(self, gradient=None, retain_graph=False):
        """Accumulate the gradient of this tensor into the .grad of every leaf it depends on.

        ``gradient`` is dL/d(self) for some scalar L; it may be omitted only for a one-element
        tensor (then it is 1)."""
        if not self._requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad and has no grad_fn: no "
                "input of the computation had requires_grad=True (or it ran under no_grad)"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward() on a tensor of shape {self.shape} needs a `gradient` argument "
                    "(dL/d(this tensor), same shape): pass e.g. y.backward(gk.ones_like(y)), or "
                    "reduce to a scalar first with y.sum().backward()"
                )
            seed = np.ones_like(self._data)
        else:
            seed = as_array(gradient, self._data.dtype)
            if seed.shape != self.shape:
                raise RuntimeError(
                    f"backward(): gradient has shape {seed.shape} but the tensor has shape "
                    f"{self.shape}; they must match"
                )
            seed = seed.copy()
        engine.backward(self, seed, retain_graph=retain_graph)

    def detach(self):
        """A new leaf sharing this tensor's array (and its version counter), cut from the graph."""
        t = Tensor._make(self._data, None)
        t._vc = self._vc
        return t

    @property
    def data(self):
        """A detached tensor sharing the array (PyTorch's ``.data``)."""
        return Tensor._make(self._data, None)

    @data.setter
    def data(self, value):
        self._data = as_array(value)
        self._vc = [self._vc[0], False, 0, engine.array_ref(self._data)]  # nothing views it

    # ----- array facts -----
    def numpy(self):
        """The underlying ndarray (no copy: writing to it changes the tensor)."""
        return self._data

    def item(self):
        if self._data.size != 1:
            raise ShapeError(f"item() needs a one-element tensor, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        """Always ``gk.device("cpu")`` (equal to the string "cpu"): gradkit runs on the CPU."""
        return CPU

    def size(self, dim=None):
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self._data)

    def __format__(self, spec):
        """``f"{loss:.3f}"``: a one-element tensor formats as its number (a 0-d one also with
        no spec, as in PyTorch); other tensors take only the empty spec (their repr)."""
        if self._data.size == 1 and (spec or self._data.ndim == 0):
            return format(self._data.item(), spec)
        if spec:
            raise TypeError(f"format spec {spec!r} needs a one-element tensor, got shape "
                            f"{tuple(self.shape)}; format t.item() or t.tolist() instead")
        return str(self)

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.dtype not in (np.float32, np.int64, np.bool_) or self._data.size == 0:
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ----- dtype and copies -----
    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """PyTorch's ``to(dtype)``, ``to(device, dtype=None)``, ``to(other)``: cast to a dtype
        (differentiable between float types; ``other``'s dtype for a tensor). A device is
        accepted when it is the CPU ("cpu", "cpu:0", gk.device("cpu")); any other device
        raises (gradkit runs on the CPU), as PyTorch does for a GPU it has not got. Returns
        self when nothing changes, unless ``copy``."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, (str, _device)):
                device = arg
            elif arg is not None:
                dtype = arg
        check_device("Tensor.to", device)
        out = self if dtype is None else _ops.cast(self, dtype)
        return out.clone() if copy and out is self else out

    def type(self, dtype=None):
        """With no argument the type's name ("gradkit.FloatTensor"); with a dtype (or a name
        such as "torch.DoubleTensor") the tensor cast to it, as ``to(dtype)``."""
        if dtype is None:
            return "gradkit." + _TYPE_NAMES.get(self.dtype.name, f"Tensor[{self.dtype}]")
        if isinstance(dtype, str):
            names = {name: np.dtype(key) for key, name in _TYPE_NAMES.items()}
            tail = dtype.rpartition(".")[2]
            if tail not in names:
                raise ArgumentError(f"type(): unknown tensor type {dtype!r}; expected a dtype "
                                 f"such as gk.float32 or one of {sorted(names)}")
            dtype = names[tail]
        return _ops.cast(self, dtype)

    def float(self):
        return _ops.cast(self, np.float32)

    def double(self):
        return _ops.cast(self, np.float64)

    def half(self):
        """float16 (storage: NumPy computes on it, slowly; train in float32)."""
        return _ops.cast(self, np.float16)

    def long(self):
        return _ops.cast(self, np.int64)

    def int(self):
        return _ops.cast(self, np.int32)

    def bool(self):
        return _ops.cast(self, np.bool_)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        """Raises: gradkit runs on the CPU (``gk.cuda.is_available()`` is False)."""
        check_device("Tensor.cuda", "cuda" if device is None else device)

    def clone(self):
        return _ops.clone(self)

    def contiguous(self):
        return self

    # ----- in-place updates -----
    def _inplace(self, what, operand, plain, recorded, keep_old=False):
        """Change the array in place and count it in the version counter.

        ``plain(array, operand_array)`` edits the array directly: no graph is involved (grad
        mode off, or nothing requires grad). ``recorded(old, operand)`` is the same change as an
        out-of-place op on ``old`` (this tensor before the change); under grad mode it is
        recorded and this tensor takes its result and its grad_fn. ``keep_old``: that op's
        backward needs the old values (mul_, div_, clamp_), which the change overwrites, so
        ``old`` gets a copy of them."""
        wants = self._requires_grad or isinstance(operand, Tensor) and operand._requires_grad
        if not (wants and grad_mode.is_grad_enabled()):
            plain(self._data, operand._data if isinstance(operand, Tensor) else operand)
            engine.note_change(self._vc)
            return self
        if self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{what}: a leaf Variable that requires grad is being used in an in-place "
                "operation. Parameters are changed in place under `with gk.no_grad():`.")
        if self._vc[1]:
            raise RuntimeError(
                f"{what}: in-place change, inside the graph, of a view (or of a tensor that has "
                "views); gradkit does not record those. Use the out-of-place op, or .clone() "
                "the tensor first.")
        data = self._data
        old = Tensor._make(data.copy() if keep_old else data, self.grad_fn)
        old._requires_grad = self._requires_grad
        if not keep_old:
            old._vc = self._vc  # the same array: a node that saved it sees the change
        result = recorded(old, operand)
        if result.shape != data.shape:
            raise ShapeError(f"{what}: output with shape {data.shape} doesn't match the "
                               f"broadcast shape {result.shape}")
        if not np.can_cast(result.dtype, data.dtype, "same_kind"):
            raise RuntimeError(f"{what}: result type {result.dtype} can't be cast to the "
                               f"desired output type {data.dtype}")
        if self._requires_grad:
            if not hasattr(self, "_rebased"):
                self._rebased = []
            self._rebased.append((engine.CLOCK[0] + 1, self.grad_fn))
        np.copyto(data, result._data, casting="same_kind")
        engine.note_change(self._vc)
        self.grad_fn = result.grad_fn
        self._requires_grad = result._requires_grad
        return self

    def __setitem__(self, index, value):
        index = _ops.index_arrays(index)

        def plain(a, v):
            _ops.index.setitem_array(a, index, v)

        self._inplace("__setitem__", value, plain,
                      lambda old, v: _ops.index_put(old, index, v))

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        def plain(a, v):
            a[...] = v

        return self._inplace("fill_", value, plain,
                             lambda old, v: _ops.index_put(old, Ellipsis, v))

    def copy_(self, src):
        def plain(a, v):
            a[...] = v

        return self._inplace("copy_", src, plain,
                             lambda old, v: _ops.index_put(old, Ellipsis, v))

    def add_(self, other, alpha=1):
        def plain(a, b):
            a += b if alpha == 1 else alpha * b

        return self._inplace("add_", other, plain,
                             lambda old, b: old + (b if alpha == 1 else alpha * b))

    def sub_(self, other, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        def plain(a, b):
            a *= b

        return self._inplace("mul_", other, plain, lambda old, b: old * b, keep_old=True)

    def div_(self, other):
        def plain(a, b):
            a /= b

        return self._inplace("div_", other, plain, lambda old, b: old / b, keep_old=True)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def clamp_(self, min=None, max=None):
        def plain(a, _):
            np.clip(a, min, max, out=a)

        return self._inplace("clamp_", None, plain,
                             lambda old, _: _ops.clamp(old, min, max), keep_old=True)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return self.copy_(random.normal(self.shape, mean, std, self.dtype, generator))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return self.copy_(random.uniform(self.shape, a, b, self.dtype, generator))

    # ----- arithmetic -----
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __pow__(self, other): return _ops.pow(self, other)
    def __rpow__(self, other): return _ops.pow(other, self)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __neg__(self): return _ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __getitem__(self, index): return _ops.getitem(self, index)
    def __mod__(self, other): return _ops.remainder(self, other)
    def __rmod__(self, other): return _ops.remainder(other, self)
    def __floordiv__(self, other): return _ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return _ops.floor_divide(other, self)
    def __and__(self, other): return _ops.bitwise_and(self, other)
    def __or__(self, other): return _ops.bitwise_or(self, other)
    def __xor__(self, other): return _ops.bitwise_xor(self, other)
    def __lshift__(self, other): return _ops.bitwise_left_shift(self, other)
    def __rshift__(self, other): return _ops.bitwise_right_shift(self, other)
    def __invert__(self): return _ops.bitwise_not(self)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    def __rlshift__(self, other): return _ops.bitwise_left_shift(other, self)
    def __rrshift__(self, other): return _ops.bitwise_right_shift(other, self)

    def __eq__(self, other): return _ops.eq(self, other)
    def __ne__(self, other): return _ops.ne(self, other)
    def __lt__(self, other): return _ops.lt(self, other)
    def __le__(self, other): return _ops.le(self, other)
    def __gt__(self, other): return _ops.gt(self, other)
    def __ge__(self, other): return _ops.ge(self, other)

    add, sub, mul, pow, matmul = __add__, __sub__, __mul__, __pow__, __matmul__
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__


class RemovableHandle:
    """Returned by register_hook: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self.hooks.pop(self.id, None)


from gradkit import ops as _ops  # noqa: E402  (ops import Tensor, so they come after it)
