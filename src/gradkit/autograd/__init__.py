"""Autograd: grad modes, the Function base class, the backward engine and gradcheck."""

from gradkit.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["Function", "GradcheckError", "enable_grad", "gradcheck", "is_grad_enabled",
           "no_grad", "numerical_grad", "set_grad_enabled"]


def __getattr__(name):
    # Function and gradcheck need gradkit.tensor, which itself imports this package: load late.
    if name == "Function":
        from gradkit.autograd.function import Function
        return Function
    if name in ("gradcheck", "numerical_grad", "GradcheckError"):
        from gradkit.autograd import check
        return getattr(check, name)
    raise AttributeError(f"module 'gradkit.autograd' has no attribute {name!r}")
