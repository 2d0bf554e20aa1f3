"""Grad mode: whether ops record the graph.

A single process-wide switch (PyTorch keeps one per thread). gradkit's background threads,
the data loader's prefetcher among them, work on plain NumPy arrays and never build graphs,
so one flag is enough and keeps the check in every op to a global read.
"""

import functools

_enabled = True


def is_grad_enabled():
    """True when ops record the graph for backward."""
    return _enabled


class set_grad_enabled:
    """Turn graph recording on or off; usable as a call, a context manager or a decorator.

    >>> with gk.set_grad_enabled(False): y = x * 2     # y.requires_grad is False
    """

    def __init__(self, mode):
        global _enabled
        self.prev = _enabled
        _enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self.prev
        return False


class _GradModeContext:
    """Base of no_grad / enable_grad: a context manager that also decorates functions."""

    mode = True

    def __enter__(self):
        global _enabled
        self.prev = _enabled
        _enabled = self.mode
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context (or decorator) in which no graph is built: results have requires_grad=False."""

    mode = False


class enable_grad(_GradModeContext):
    """Context (or decorator) that turns graph recording back on inside a no_grad block."""

    mode = True
