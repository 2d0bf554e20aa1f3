"""Random sampling (randperm, multinomial, bernoulli, poisson, binomial, randint_like) and the
spaced ranges logspace and range, torch.* names.

Every draw comes from gradkit.random's shared generator (reseeded by ``gk.manual_seed``), or
from the ``generator`` (a ``numpy.random.Generator``) passed in; the draws follow PyTorch's
distributions, not its bit streams. Draws are new tensors with no gradient (PyTorch gives the
inputs of bernoulli, poisson and binomial a zero gradient).

multinomial without replacement is the exponential race: each category gets the key
E/w (E ~ Exp(1)) and the categories with the smallest keys win, in that order, which draws
them one after another with probabilities proportional to the weights that are left; when
fewer categories than num_samples have weight, the zero-weight ones come last, as in PyTorch.

    import gradkit as gk
    gk.manual_seed(0)
    gk.randperm(5)                                       # a permutation of 0..4
    gk.multinomial(gk.tensor([0.1, 0.0, 0.9]), 4, replacement=True)
"""

import secrets
import warnings

import numpy as np

from gradkit import random
from gradkit.creation import default_dtype
from gradkit.devices import check_device
from gradkit.errors import ArgumentError
from gradkit.tensor import Tensor

__all__ = ["randperm", "multinomial", "bernoulli", "poisson", "binomial", "randint_like",
           "logspace", "range", "seed"]

def _rng(generator):
    return random.default_generator if generator is None else generator


def _new(array, requires_grad=False, device=None, op=""):
    check_device(op, device)
    t = Tensor._make(array, None)
    return t.requires_grad_(True) if requires_grad else t


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of 0, …, n − 1 (int64 unless dtype)."""
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    perm = _rng(generator).permutation(int(n)).astype(dtype or np.int64)
    if out is not None:
        return out.copy_(Tensor._make(perm, None))
    return _new(perm, requires_grad, device, "randperm")


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """``num_samples`` category indices per row of the non-negative weights ``input`` (1-D or
    2-D; rows need not sum to 1), with or without replacement."""
    w = input._data
    if w.ndim not in (1, 2) or w.dtype.kind != "f":
        raise RuntimeError(f"multinomial: prob_dist must be a 1 or 2 dim float tensor, got "
                           f"{w.ndim} dims of {w.dtype}")
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    n = rows.shape[1]
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample {num_samples} (<= 0) samples")
    if not replacement and num_samples > n:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement, got {num_samples} > {n}")
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    total = rows.sum(1, keepdims=True)
    if np.any(total <= 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    rng = _rng(generator)
    if replacement:
        # one sorted array of every row's CDF, row r shifted up by r: one searchsorted call
        offset = np.arange(rows.shape[0])[:, None]
        cdf = np.cumsum(rows / total, 1) + offset
        cdf[:, -1] = offset[:, 0] + 1.0
        u = rng.random((rows.shape[0], num_samples)) + offset
        picks = np.searchsorted(cdf.reshape(-1), u, "right") - offset * n
        picks = np.minimum(picks, n - 1)
    else:
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(rows.shape) / rows
        picks = np.argsort(keys, 1, kind="stable")[:, :num_samples]
    picks = picks.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64)
    return out.copy_(Tensor._make(picks, None)) if out is not None else Tensor._make(picks, None)


def _probabilities(p, op):
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise RuntimeError(f"{op}: expected all probabilities p to be in [0, 1], got values "
                           f"from {np.nanmin(p) if p.size else 0} to "
                           f"{np.nanmax(p) if p.size else 0}")
    return p


def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability input (or with probability ``p`` for every element, when given),
    else 0, in input's dtype."""
    probs = input._data if p is None else np.full(input.shape, float(p))
    _probabilities(probs, "bernoulli")
    draws = (_rng(generator).random(input.shape) < probs).astype(input.dtype)
    return out.copy_(Tensor._make(draws, None)) if out is not None else Tensor._make(draws, None)


def poisson(input, generator=None):
    """A Poisson draw with rate input[i] at each element, in input's (float) dtype."""
    rates = input._data
    if rates.dtype.kind != "f" or np.any(rates < 0):
        raise RuntimeError("poisson: expected non-negative floating-point rates")
    return Tensor._make(_rng(generator).poisson(rates).astype(rates.dtype), None)


def binomial(count, prob, generator=None):
    """A Binomial(count[i], prob[i]) draw at each element, in count's float dtype."""
    if count.dtype.kind != "f" or prob.dtype != count.dtype:
        raise TypeError(f"binomial: count and prob must be float tensors of one dtype, got "
                        f"{count.dtype} and {prob.dtype}")
    p = _probabilities(prob._data, "binomial")
    n = count._data
    if np.any(n < 0):
        raise RuntimeError("binomial: count must be non-negative")
    draws = _rng(generator).binomial(n.astype(np.int64), p)
    return Tensor._make(draws.astype(count.dtype), None)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, generator=None):
    """Integers in [low, high) in input's shape and dtype: ``randint_like(x, high)`` or
    ``randint_like(x, low, high)``."""
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"randint_like: expected low < high, got low={low}, high={high}")
    draws = _rng(generator).integers(low, high, input.shape)
    return _new(draws.astype(dtype or input.dtype), requires_grad, device, "randint_like")


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``steps`` points base^t for t evenly spaced from start to end (float32 by default)."""
    if steps < 0:
        raise RuntimeError(f"logspace: number of steps must be non-negative, got {steps}")
    values = np.power(float(base), np.linspace(float(start), float(end), int(steps)))
    values = values.astype(dtype or default_dtype)
    if out is not None:
        return out.copy_(Tensor._make(values, None))
    return _new(values, requires_grad, device, "logspace")


def range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False):
    """start, start + step, … up to and including end (float32 by default): PyTorch's
    deprecated torch.range, which warns as it does; use gk.arange (end excluded)."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if step == 0:
        raise ArgumentError("range: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"range: upper bound and larger bound inconsistent with step sign, "
                           f"got start={start}, end={end}, step={step}")
    count = int(np.floor((end - start) / step + 1e-12)) + 1
    values = (start + step * np.arange(count)).astype(dtype or default_dtype)
    if out is not None:
        return out.copy_(Tensor._make(values, None))
    return _new(values, requires_grad, device, "range")


def seed():
    """Reseed the shared generator from the operating system's entropy; returns the seed."""
    value = secrets.randbits(63)
    random.manual_seed(value)
    return value
