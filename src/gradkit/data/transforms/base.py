"""What every batch transform shares: the calling convention, Compose and Lambda.

A transform maps a whole batch ``x`` (N, C, H, W) float32 to a new batch; it never writes into
its input. Call it as ``t(x)`` -> x, or ``t(x, y)`` -> (x, y) with the labels passed through
(MixUp and CutMix change them). ``x`` may be an ndarray or a gk Tensor; the result is of the
same kind. Random transforms draw every per-sample parameter as an array from ``generator``:
the one given at call time, else the one given at construction, else the shared
``gk.random.default_generator`` (so ``gk.manual_seed`` makes them repeat). The DataLoader
passes each batch its own generator, derived from the loader's seed, so results do not depend
on which thread ran the batch.
"""

import numpy as np

from gradkit import random as gk_random
from gradkit.tensor import Tensor


class Transform:
    """Base class. Subclasses write ``forward(self, x, rng) -> x`` on ndarrays; label-mixing
    transforms set ``needs_labels = True`` and write ``forward_with_labels(x, y, rng)``."""

    needs_labels = False
    images_only = True  # forward expects (N, C, H, W)

    def __init__(self, generator=None):
        self.generator = generator

    def __call__(self, x, y=None, generator=None):
        is_tensor = isinstance(x, Tensor)
        arr = self._check(x._data if is_tensor else np.asarray(x))
        rng = generator if generator is not None else self.generator
        if rng is None:
            rng = gk_random.default_generator
        if self.needs_labels:
            if y is None:
                raise TypeError(f"{self!r} mixes labels: call it as t(x, y), it returns the "
                                "mixed images and soft targets")
            out, y = self.forward_with_labels(arr, _labels(y), rng)
        else:
            out = self.forward(arr, rng)
        if is_tensor:
            out = Tensor._make(out, None)
            if self.needs_labels:
                y = Tensor._make(y, None)
        return out if y is None else (out, y)

    def _check(self, x):
        if x.dtype.kind != "f":
            raise TypeError(f"{self!r}: expected a floating-point batch, got dtype {x.dtype}; "
                            "convert images to float32 in [0, 1] first")
        if self.images_only and x.ndim != 4:
            raise ValueError(f"{self!r}: expected a batch of images (N, C, H, W), got shape "
                             f"{x.shape}")
        return x

    def forward(self, x, rng):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                           if k != "generator" and not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _labels(y):
    return y._data if isinstance(y, Tensor) else np.asarray(y)


class Compose(Transform):
    """Apply ``transforms`` one after the other, passing the labels and the generator along.
    A plain callable in the list is called as ``f(x)``, or ``f(x, y) -> (x, y)`` when labels
    are given."""

    images_only = False

    def __init__(self, transforms):
        super().__init__()
        self.transforms = list(transforms)

    @property
    def needs_labels(self):
        return any(getattr(t, "needs_labels", False) for t in self.transforms)

    def __call__(self, x, y=None, generator=None):
        for t in self.transforms:
            if isinstance(t, Transform):
                out = t(x, y, generator=generator)
                x, y = (out, y) if y is None else out
            elif y is None:
                x = t(x)
            else:
                x, y = t(x, y)
        return x if y is None else (x, y)

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Lambda(Transform):
    """Wrap a plain function ``fn(x) -> x`` (ndarray in, ndarray out) as a transform."""

    images_only = False

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x, rng):
        return self.fn(x)


def uniform(rng, low, high, n):
    """n float32 draws from U[low, high) (an array of n copies of low when low == high)."""
    return (low + (high - low) * rng.random(n, dtype=np.float32)).astype(np.float32)


def coin(rng, p, n):
    """A boolean array: each of n entries True with probability p."""
    return rng.random(n) < p


def pair(value, name, center=None, bound=None):
    """Parse a jitter range: ``v`` -> [center - v, center + v] (clipped at ``bound``), or a
    (min, max) pair as given."""
    if np.isscalar(value):
        if value < 0:
            raise ValueError(f"{name}: a single number must be non-negative, got {value}")
        low, high = center - value, center + value
        if bound is not None:
            low = max(low, bound)
        return float(low), float(high)
    low, high = value
    if low > high:
        raise ValueError(f"{name}: expected (min, max) with min <= max, got {value}")
    return float(low), float(high)


def size2(size, name):
    """An int or (h, w) pair -> (h, w)."""
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    h, w = size
    if h <= 0 or w <= 0:
        raise ValueError(f"{name}: size must be positive, got {size}")
    return int(h), int(w)
