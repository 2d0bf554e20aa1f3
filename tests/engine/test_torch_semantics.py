"""Issue 11, item 6: semantics that follow PyTorch where they used to differ: pow at 0**0,
F.pad with negative widths and its modes' limits, and errors that are both ValueError and
RuntimeError (gradkit.errors)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.errors import ArgumentError, GradkitError, ShapeError
from oracle import check


def test_pow_gradient_at_zero_to_the_zero_is_zero():
    zeros = np.zeros(3)
    check([], lambda a: a ** 0, arrays=[zeros])
    check([], lambda a, b: a ** b, arrays=[zeros, zeros.copy()])
    check([], lambda a, b: a ** b, arrays=[np.array([0.0, 2.0, 0.0]), np.array([0.0, 0.0, 2.0])])
    x = gk.tensor(zeros, requires_grad=True)
    (x ** gk.tensor(zeros)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


PADS = [
    ("constant", (-1, 2)), ("constant", (-1, 2, -1, 0)), ("constant", (0, -3)),
    ("constant", (2, -1, 1, 1)), ("reflect", (-1, 1)), ("reflect", (-1, -1)),
    ("reflect", (2, 2, 1, 0)), ("replicate", (3, 3)), ("replicate", (-1, 4)),
    ("replicate", (-1, -1, 2, -1)), ("circular", (3, 3)), ("circular", (-1, 2)),
    ("circular", (2, -2, 1, 2)),
]


@pytest.mark.parametrize("mode, widths", PADS, ids=[f"{m}{w}" for m, w in PADS])
def test_pad_matches_torch_including_negative_widths(mode, widths):
    check([(2, 3, 4)], lambda a: TF.pad(a, widths, mode=mode),
          lambda a: F.pad(a, widths, mode=mode))


def test_pad_constant_value_and_float32():
    check([(1, 2, 3)], lambda a: TF.pad(a, (-1, 2, 1, -1), value=0.5),
          lambda a: F.pad(a, (-1, 2, 1, -1), value=0.5), dtype=np.float32)


@pytest.mark.parametrize("mode, widths, message", [
    ("reflect", (3, 3), r"Padding size should be less than the corresponding input dimension, "
                        r"but got: padding \(3, 3\) at dimension 2 of input \[1, 2, 3\]"),
    ("circular", (4, 0), "Padding value causes wrapping around more than once"),
    ("constant", (-4, 0), r"crop more than the 3 elements of dim 2"),
])
def test_pad_errors_as_torch(mode, widths, message):
    x = np.zeros((1, 2, 3))
    with pytest.raises(RuntimeError):
        TF.pad(torch.tensor(x), widths, mode=mode)
    with pytest.raises(RuntimeError, match=message):
        F.pad(gk.tensor(x), widths, mode=mode)
    with pytest.raises(ValueError, match=message):
        F.pad(gk.tensor(x), widths, mode=mode)


def test_pad_unknown_mode_is_not_implemented():
    with pytest.raises(NotImplementedError, match="pad: unsupported mode 'wrap'"):
        F.pad(gk.zeros(2, 3), (1, 1), mode="wrap")


def test_error_classes_are_value_and_runtime_errors():
    for cls in (GradkitError, ShapeError, ArgumentError):
        assert issubclass(cls, ValueError) and issubclass(cls, RuntimeError)
    with pytest.raises(RuntimeError) as caught:
        F.glu(gk.zeros(3))
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ShapeError)
    assert gk.errors.ShapeError is ShapeError
