"""Parameter: a Tensor that a Module registers as learnable (requires_grad=True by default)."""

from gradkit.tensor import Tensor, as_array


class Parameter(Tensor):
    """A leaf tensor that, assigned as a Module attribute, joins ``module.parameters()``.

    ``Parameter(t)`` shares ``t``'s array (no copy), as in PyTorch; ``Parameter(array)`` keeps
    the array's dtype under gradkit's dtype policy (float32 unless it is float64)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = as_array([], "float32")
        super().__init__(data._data if isinstance(data, Tensor) else data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
