"""Function: one differentiable op, forward and backward side by side (tinygrad/Chainer style).

A subclass writes two methods on plain NumPy arrays:

    class Mul(Function):
        def forward(self, a, b):          # arrays in, array out; keep what backward needs on self
            self.a, self.b = a, b
            return a * b
        def backward(self, grad):         # dL/d(out) in, one dL/d(input) per input out
            return grad * self.b, grad * self.a

and is called as ``Mul.apply(x, y)`` with Tensors (or Python scalars for constant inputs).
``self.needs_input_grad`` says which inputs want a gradient, so backward may skip the others
by returning None for them. Backward must not modify ``grad`` in place: it may be shared.

Version counters: every tensor counts the in-place changes of its array (``t._version``; a
view shares its base's counter). A recorded call notes the time on the change clock
(``engine.CLOCK``, advanced by every in-place change); at backward, an input or output changed
after that time, whose array the node kept (an attribute of ``self`` sharing its memory),
raises PyTorch's "modified by an inplace operation" error instead of giving a silently wrong
gradient (see engine.check_unmodified). One number per node keeps this off the hot path.

What a node holds: its saved arrays, and its inputs. An op whose backward reads none of its
inputs' arrays (``saves_inputs = False``: ReLU keeps its output, BatchNorm x − μ, Add only
shapes) keeps of each non-leaf input only an ``Edge`` (where the gradient goes, and its shape
and dtype), so that the input's array is freed once nothing else uses it, as in PyTorch, whose
graph holds edges to nodes rather than tensors: the activation a BatchNorm or ReLU reads is
not kept through backward (the ResNet-20 step at batch 128: peak 468 → 262 MiB). Leaves,
and tensors with hooks or retain_grad, are always kept whole. A version counter refers to
its array weakly, so a node does not keep its output alive through it either.
"""

import weakref

import numpy as np

from gradkit.autograd.engine import CLOCK, Edge, array_ref
from gradkit.autograd.grad_mode import _state as _grad_mode
from gradkit.tensor import Tensor


EDGE_BYTES = 1 << 16  # smaller arrays are kept: an Edge costs more time than they take room


def _edges(inputs):
    """inputs with every non-leaf Tensor of ≥ EDGE_BYTES that has no hooks and does not
    retain its grad replaced by its Edge."""
    kept = []
    for t in inputs:
        if (type(t) is Tensor and t.grad_fn is not None and t._data.nbytes >= EDGE_BYTES
                and not t._hooks and not t._retains_grad):
            t = Edge(t)
        kept.append(t)
    return kept


class Function:
    inputs = None  # the inputs of a recorded call; None once backward has released the node
    saves_inputs = True  # False: backward reads none of the inputs' arrays (module docstring)
    needs_input_grad = ()  # one bool per input, set when the call is recorded
    _output = None  # weakref to the output tensor, set only when it has hooks or retains grad
    _output_hooks = None  # the output tensor's hooks (its dict), run even once it is gone
    recorded_at = 0  # engine.CLOCK when the call was recorded
    output_version = None  # the output's version counter (its last item: the output array)

    def forward(self, *args, **options):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    @property
    def name(self):
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on the inputs' arrays; record the node when a gradient will be needed."""
        fn = object.__new__(cls)
        arrays = []
        needs = []
        for t in inputs:  # one pass: the arrays for forward, and who wants a gradient
            if isinstance(t, Tensor):
                arrays.append(t._data)
                needs.append(t._requires_grad)
            else:
                arrays.append(t)
                needs.append(False)
        record = _grad_mode.enabled and True in needs
        if record:
            fn.needs_input_grad = needs
            fn.inputs = inputs if cls.saves_inputs else _edges(inputs)
            fn.recorded_at = CLOCK[0]
        out = fn.forward(*arrays, **options)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        t = object.__new__(Tensor)  # Tensor._make, inlined: this runs once per op
        t._data = out
        t.grad = None
        t.grad_fn = fn if record else None
        t._hooks = None
        t._retains_grad = False
        t._requires_grad = record
        vc = [0, False, 0, weakref.ref(out)] if out.base is None else _view_counter(out, inputs)
        t._vc = vc
        if record:
            fn.output_version = vc
        return t

    def __repr__(self):
        return f"<{self.name}Backward>"


def _view_counter(out, inputs):
    """The version counter of an output that is a view: its base's, shared (an in-place change
    through either is a change of both); a fresh one when it views none of the inputs."""
    root = out.base
    for t in inputs:
        if isinstance(t, Tensor):
            data = t._data
            if data is root or data.base is root:
                t._vc[1] = True  # the counter now has views (see Tensor._inplace)
                return t._vc
    return [0, False, 0, array_ref(out)]
