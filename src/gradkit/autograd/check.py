"""Gradient checking the cs231n way: centred differences against the analytic backward.

For a function f of some tensors, a non-scalar output is first reduced to the scalar
L = Σ f(x)·v with a fixed random v (so every output element takes part). Then for every input
element x_i:

    numerical_i = (L(x_i + ε) − L(x_i − ε)) / 2ε                  (error O(ε²))
    relative error = |analytic_i − numerical_i| / max(|analytic_i|, |numerical_i|)

and an element fails when both its absolute error exceeds ``atol`` and its relative error
exceeds ``rtol``. In float64 a correct backward gives relative errors around 1e-8 or less.
"""

import numpy as np

from gradkit.autograd import grad_mode
from gradkit.tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with the centred difference."""


def _as_tuple(inputs):
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def _checked_inputs(inputs):
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} has dtype {t.dtype}; use float64 (t.double()). In "
                "float32 the rounding error of a centred difference, about 1e-7/eps, swamps "
                "the derivative, so the check would fail for a correct backward"
            )
    return inputs


def _scalar_objective(fn, inputs, weight):
    out = fn(*inputs)
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if weight is None:
        weight = np.random.default_rng(0).standard_normal(out.shape) if out.numel() > 1 else (
            np.ones(out.shape))
    return (out * Tensor._make(weight.astype(out.dtype), None)).sum(), weight


def numerical_grad(fn, inputs, eps=1e-6, grad_output=None):
    """Centred-difference gradients of Σ fn(*inputs)·grad_output (grad_output defaults to
    ones) with respect to each input that requires grad; None for the other inputs."""
    inputs = _as_tuple(inputs)
    weight = None if grad_output is None else np.asarray(
        grad_output._data if isinstance(grad_output, Tensor) else grad_output)
    if weight is None:
        with grad_mode.no_grad():
            weight = np.ones(_output(fn, inputs).shape)
    return _numerical(fn, inputs, eps, weight)


def _output(fn, inputs):
    out = fn(*inputs)
    return out[0] if isinstance(out, (tuple, list)) else out


def _numerical(fn, inputs, eps, weight):
    grads = []
    with grad_mode.no_grad():
        for t in inputs:
            if not (isinstance(t, Tensor) and t.requires_grad):
                grads.append(None)
                continue
            x = t._data
            if not x.flags.writeable:
                x = t._data = x.copy()
            grad = np.zeros(x.shape, np.float64)
            for i in np.ndindex(x.shape):
                saved = x[i]
                x[i] = saved + eps
                plus = _scalar_objective(fn, inputs, weight)[0].item()
                x[i] = saved - eps
                minus = _scalar_objective(fn, inputs, weight)[0].item()
                x[i] = saved
                grad[i] = (plus - minus) / (2 * eps)
            grads.append(grad)
    return tuple(grads)


def _analytic(fn, inputs):
    saved = [t.grad if isinstance(t, Tensor) else None for t in inputs]
    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None
    with grad_mode.enable_grad():
        loss, weight = _scalar_objective(fn, inputs, None)
        if loss.requires_grad:
            loss.backward()
    grads = []
    for t, old in zip(inputs, saved):
        if isinstance(t, Tensor) and t.requires_grad:
            grads.append(np.zeros(t.shape) if t.grad is None else t.grad._data.copy())
        else:
            grads.append(None)
        if isinstance(t, Tensor):
            t.grad = old
    return grads, weight


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare fn's analytic gradients with centred differences, element by element.

    ``inputs`` is a tensor or a tuple of them (float64 where requires_grad; other entries are
    passed through as constants). Returns True when every element passes; otherwise raises
    GradcheckError naming the input, the element, both values and the relative error (or
    returns False when ``raise_exception=False``)."""
    inputs = _checked_inputs(inputs)
    analytic, weight = _analytic(fn, inputs)
    numerical = _numerical(fn, inputs, eps, weight)
    for k, (a, n) in enumerate(zip(analytic, numerical)):
        if a is None:
            continue
        abs_err = np.abs(a - n)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel_err = np.where(abs_err == 0, 0.0, abs_err / np.maximum(np.abs(a), np.abs(n)))
        bad = (abs_err > atol) & (rel_err > rtol) | ~np.isfinite(a) & np.isfinite(n)
        if bad.any():
            if not raise_exception:
                return False
            where = np.argwhere(bad)
            worst = tuple(int(i) for i in where[np.argmax(rel_err[bad])])
            raise GradcheckError(
                f"gradcheck failed for input {k} (shape {a.shape}) at element {worst}: "
                f"analytic {a[worst]:.10g}, numerical {n[worst]:.10g}, relative error "
                f"{rel_err[worst]:.3g} (rtol {rtol:g}, atol {atol:g}); "
                f"{len(where)} of {a.size} elements fail"
            )
    return True
