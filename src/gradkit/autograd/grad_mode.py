"""Grad mode: whether ops record the graph, kept per thread as in PyTorch.

Each thread starts with grad mode on; ``no_grad()`` in one thread never changes another's (a
thread running inference under ``no_grad`` while another trains is safe). ``Function.apply``
reads ``_state.enabled``: one attribute of a ``threading.local``, about as cheap as a global.
"""

import functools
import threading


class _GradState(threading.local):
    enabled = True  # the class attribute is every new thread's starting value


_state = _GradState()


def is_grad_enabled():
    """True when ops record the graph for backward (in the calling thread)."""
    return _state.enabled


class set_grad_enabled:
    """Turn graph recording on or off in this thread; usable as a call, a context manager or a
    decorator.

    >>> with gk.set_grad_enabled(False): y = x * 2     # y.requires_grad is False
    """

    def __init__(self, mode):
        self.prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, fn):
        _state.enabled = self.prev  # used as a decorator: the call above changed nothing yet
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class _GradModeContext:
    """Base of no_grad / enable_grad: a context manager that also decorates functions."""

    mode = True

    def __enter__(self):
        self.prev = _state.enabled
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
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
