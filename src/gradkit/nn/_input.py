"""The first check of every layer with a shape contract: its input is a Tensor.

A list or an ndarray is refused with the fix, as PyTorch refuses them, instead of failing
deeper down with an AttributeError about ``.ndim``:

    Linear(3→4): expected a Tensor, got list; wrap it with gk.tensor(...)
"""

from gradkit.tensor import Tensor


def expect_tensor(layer, input):
    """Raise a TypeError naming ``layer`` (its label, e.g. 'Linear(3→4)') unless ``input``
    is a Tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{layer}: expected a Tensor, got {type(input).__name__}; wrap it "
                        "with gk.tensor(...)")
