"""Errors a user can fix, as classes that are both ``ValueError`` and ``RuntimeError``.

PyTorch raises ``RuntimeError`` for a bad shape or argument; Python code (and gradkit's own
history) expects ``ValueError``. Each class here is both, so code written for either keeps
working. An unsupported mode raises the built-in ``NotImplementedError``.

    import gradkit as gk
    try:
        gk.nn.functional.glu(gk.zeros(3))
    except RuntimeError as e:          # or: except ValueError
        print(e)     # glu: halving dimension must be even, but dimension -1 is size 3
"""


class GradkitError(ValueError, RuntimeError):
    """The base: a bad input a user can fix; the message names the thing, expected and got."""


class ShapeError(GradkitError):
    """A tensor's shape (or dim) does not fit the op."""


class ArgumentError(GradkitError):
    """An argument's value is out of the op's range (a mode, a width, a size)."""


__all__ = ["GradkitError", "ShapeError", "ArgumentError"]
