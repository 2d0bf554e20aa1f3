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
"""

import numpy as np

from gradkit.autograd import grad_mode
from gradkit.tensor import Tensor


class Function:
    inputs = None  # the inputs of a recorded call; None once backward has released the node
    needs_input_grad = ()  # one bool per input, set when the call is recorded
    _output = None  # weakref to the output tensor, set only when it has hooks or retains grad

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
        record = grad_mode._enabled and True in needs
        if record:
            fn.needs_input_grad = needs
            fn.inputs = inputs
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
        return t

    def __repr__(self):
        return f"<{self.name}Backward>"
