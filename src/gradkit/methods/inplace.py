"""Tensor's in-place twins of out-of-place methods: ``x.exp_()`` is ``x.exp()`` written into
``x``'s own array.

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state). Each twin is one line,
``exp_ = _twin("exp")``: it runs the out-of-place method of that name (reached at call time,
as the ops import Tensor) and goes through ``Tensor._inplace``, so the version counter counts
the change and, inside the graph, the change is recorded as PyTorch records it (the tensor
takes the op's grad_fn; the op gets a copy of the old values, since the change overwrites
them). The result must keep the tensor's shape and fit its dtype: ``int_tensor.exp_()``
raises as in PyTorch ("result type float32 can't be cast to the desired output type int64").

The view twins (``unsqueeze_``, ``squeeze_``, ``t_``, ``transpose_``, ``swapaxes_``,
``swapdims_``) change which view of its array the tensor is, as PyTorch's do: the values and
other views of the array are untouched. Inside the graph the view op is recorded (a non-leaf
tensor takes its grad_fn); a leaf that requires grad refuses, as in PyTorch. ``resize_``
keeps the memory when it needs no more elements (a tensor that requires grad refuses);
``detach_`` makes the tensor a leaf.

    import gradkit as gk
    x = gk.tensor([[1.0, 4.0]])
    x.sqrt_().neg_()          # x is now [[-1., -2.]]
    x.t_()                    # x.shape == (2, 1)
"""

import numpy as np

import gradkit
from gradkit.autograd import engine, grad_mode
from gradkit.errors import ShapeError


def _write_back(what, array, out):
    """Copy ``out`` into ``array``, which it must fit (shape, and a same-kind cast)."""
    if out.shape != array.shape:
        raise ShapeError(f"{what}: output with shape {list(array.shape)} doesn't match the "
                         f"broadcast shape {list(out.shape)}")
    if not np.can_cast(out.dtype, array.dtype, "same_kind"):
        raise RuntimeError(f"{what}: result type {out.dtype} can't be cast to the desired "
                           f"output type {array.dtype}")
    np.copyto(array, out, casting="same_kind")


def _in_place(tensor, what, op, args):
    """Change ``tensor`` in place to ``op(tensor)``; ``args`` are op's arguments, of which a
    tensor that requires grad puts the change in the graph (see Tensor._inplace)."""
    tensors = [a for a in args if isinstance(a, gradkit.Tensor)]
    operand = next((a for a in tensors if a.requires_grad), tensors[0] if tensors else None)

    def plain(array, _):
        _write_back(what, array, op(gradkit.Tensor._make(array, None))._data)

    return tensor._inplace(what, operand, plain, lambda old, _: op(old), keep_old=True)


def _twin(name):
    """The in-place twin of the Tensor method ``name``."""

    def method(self, *args, **kwargs):
        return _in_place(self, name + "_", lambda x: getattr(x, name)(*args, **kwargs),
                         list(args) + list(kwargs.values()))

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place :meth:`{name}`: writes the result into this tensor's array."
    return method


def _view_twin(name):
    """The in-place twin of the view method ``name``: the tensor becomes that view."""

    def method(self, *args, **kwargs):
        return _restride(self, name + "_", lambda x: getattr(x, name)(*args, **kwargs))

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place :meth:`{name}`: this tensor becomes that view of its array."
    return method


def _restride(tensor, what, op):
    """Make ``tensor`` the view ``op(tensor)`` of its own array; counted as an in-place change
    (a node that saved the tensor raises at backward, as in PyTorch)."""
    vc, had_views = tensor._vc, tensor._vc[1]
    if not (tensor.requires_grad and grad_mode.is_grad_enabled()):
        with grad_mode.no_grad():
            tensor._data = op(gradkit.Tensor._make(tensor._data, None))._data
    else:
        if tensor.grad_fn is None:
            raise RuntimeError(f"{what}: a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        old = gradkit.Tensor._make(tensor._data, tensor.grad_fn)
        old._vc = vc
        result = op(old)
        if not hasattr(tensor, "_rebased"):
            tensor._rebased = []
        tensor._rebased.append((engine.CLOCK[0] + 1, tensor.grad_fn))
        tensor._data, tensor.grad_fn = result._data, result.grad_fn
    vc[1] = had_views
    engine.note_change(vc)
    return tensor


class InplaceMethods:
    __slots__ = ()

    # ----- elementwise math -----
    neg_ = _twin("neg")
    negative_ = _twin("neg")
    abs_ = _twin("abs")
    absolute_ = _twin("abs")
    exp_ = _twin("exp")
    exp2_ = _twin("exp2")
    expm1_ = _twin("expm1")
    log_ = _twin("log")
    log2_ = _twin("log2")
    log10_ = _twin("log10")
    log1p_ = _twin("log1p")
    sqrt_ = _twin("sqrt")
    rsqrt_ = _twin("rsqrt")
    square_ = _twin("square")
    reciprocal_ = _twin("reciprocal")
    sin_ = _twin("sin")
    cos_ = _twin("cos")
    tan_ = _twin("tan")
    asin_ = arcsin_ = _twin("asin")
    acos_ = arccos_ = _twin("acos")
    atan_ = arctan_ = _twin("atan")
    atan2_ = arctan2_ = _twin("atan2")
    sinh_ = _twin("sinh")
    cosh_ = _twin("cosh")
    asinh_ = arcsinh_ = _twin("asinh")
    acosh_ = arccosh_ = _twin("acosh")
    atanh_ = arctanh_ = _twin("atanh")
    erf_ = _twin("erf")
    erfinv_ = _twin("erfinv")
    sigmoid_ = _twin("sigmoid")
    tanh_ = _twin("tanh")
    relu_ = _twin("relu")
    clip_ = _twin("clamp")
    clamp_min_ = _twin("clamp_min")
    clamp_max_ = _twin("clamp_max")
    pow_ = _twin("pow")
    hypot_ = _twin("hypot")
    copysign_ = _twin("copysign")
    lerp_ = _twin("lerp")
    nan_to_num_ = _twin("nan_to_num")
    sign_ = _twin("sign")
    sgn_ = _twin("sign")
    xlogy_ = _twin("xlogy")
    sinc_ = _twin("sinc")
    deg2rad_ = _twin("deg2rad")
    rad2deg_ = _twin("rad2deg")
    logit_ = _twin("logit")
    heaviside_ = _twin("heaviside")
    ldexp_ = _twin("ldexp")
    gcd_ = _twin("gcd")
    lcm_ = _twin("lcm")
    addcdiv_ = _twin("addcdiv")
    addcmul_ = _twin("addcmul")
    renorm_ = _twin("renorm")

    # ----- arithmetic aliases, rounding and modulo -----
    multiply_ = _twin("mul")
    divide_ = true_divide_ = _twin("div")
    subtract_ = _twin("subtract")
    floor_ = _twin("floor")
    ceil_ = _twin("ceil")
    round_ = _twin("round")
    trunc_ = fix_ = _twin("trunc")
    frac_ = _twin("frac")
    fmod_ = _twin("fmod")
    remainder_ = _twin("remainder")
    floor_divide_ = _twin("floor_divide")

    # ----- comparisons and logic (the 0/1 result in this tensor's dtype) -----
    eq_ = _twin("eq")
    ne_ = not_equal_ = _twin("ne")
    lt_ = less_ = _twin("lt")
    le_ = less_equal_ = _twin("le")
    gt_ = greater_ = _twin("gt")
    ge_ = greater_equal_ = _twin("ge")
    logical_and_ = _twin("logical_and")
    logical_or_ = _twin("logical_or")
    logical_xor_ = _twin("logical_xor")
    logical_not_ = _twin("logical_not")
    bitwise_and_ = _twin("bitwise_and")
    bitwise_or_ = _twin("bitwise_or")
    bitwise_xor_ = _twin("bitwise_xor")
    bitwise_not_ = _twin("bitwise_not")
    bitwise_left_shift_ = _twin("bitwise_left_shift")
    bitwise_right_shift_ = _twin("bitwise_right_shift")

    # ----- scans, triangles, products -----
    cumsum_ = _twin("cumsum")
    cumprod_ = _twin("cumprod")
    tril_ = _twin("tril")
    triu_ = _twin("triu")
    addmm_ = _twin("addmm")
    addmv_ = _twin("addmv")
    addr_ = _twin("addr")
    baddbmm_ = _twin("baddbmm")
    addbmm_ = _twin("addbmm")
    index_put_ = _twin("index_put")
    put_ = _twin("put")
    index_reduce_ = _twin("index_reduce")
    nextafter_ = _twin("nextafter")

    def fill_diagonal_(self, fill_value, wrap=False):
        """Fill the main diagonal with ``fill_value`` (a 2-D tensor, or all dims of one size);
        ``wrap``: in a tall matrix, start again every ``cols + 1`` rows (PyTorch's rule)."""
        if self.ndim < 2 or self.ndim > 2 and len(set(self.shape)) > 1:
            raise ShapeError(f"fill_diagonal_: expected a 2-D tensor or all dimensions of equal "
                             f"length, got shape {tuple(self.shape)}")
        mask = np.zeros(self.shape, np.bool_)
        np.fill_diagonal(mask, True, wrap=wrap)
        return _in_place(self, "fill_diagonal_",
                         lambda x: gradkit.ops.gather.masked_fill(x, gradkit.Tensor(mask),
                                                                  fill_value),
                         [fill_value])

    def float_power_(self, exponent):
        """In-place :meth:`float_power`: the result is float64, so the tensor must be too."""
        if self.dtype != np.float64:
            raise RuntimeError(f"float_power_: the base given to float_power_ has dtype "
                               f"{self.dtype} but the operation's result requires dtype "
                               "float64")
        return _in_place(self, "float_power_", lambda x: x.float_power(exponent), [exponent])

    # ----- views -----
    unsqueeze_ = _view_twin("unsqueeze")
    squeeze_ = _view_twin("squeeze")
    t_ = _view_twin("t")
    transpose_ = _view_twin("transpose")
    swapaxes_ = swapdims_ = _view_twin("transpose")

    def resize_(self, *sizes, memory_format=None):
        """Give this tensor the shape ``sizes``: its first elements in row-major order, kept
        in the same memory when there are enough of them; a larger size gets a new array
        with the old elements first and zeros after (PyTorch leaves those uninitialised)."""
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
            else tuple(sizes)
        n = int(np.prod(shape))
        flat = self._data.reshape(-1)
        if n <= flat.size and np.shares_memory(flat, self._data):
            self._data = flat[:n].reshape(shape)
        else:
            grown = np.zeros(n, self.dtype)
            grown[:min(n, flat.size)] = flat[:n]
            self._data = grown.reshape(shape)
            self._vc = [self._vc[0], False, 0, engine.array_ref(self._data)]
        engine.note_change(self._vc)
        return self

    def resize_as_(self, other, memory_format=None):
        """resize_ to ``other``'s shape."""
        return self.resize_(other.shape)

    def detach_(self):
        """Cut this tensor from the graph in place: it becomes a leaf that needs no grad."""
        if self._vc[1] and self.grad_fn is not None:
            raise RuntimeError("detach_: can't detach views in-place; use detach() instead")
        self.grad_fn = None
        self._requires_grad = False
        return self
