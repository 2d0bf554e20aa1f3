"""Dropout (Srivastava et al. 2014), inverted: the scaling happens at training time.

    training:  y = x ⊙ m / (1 − p),  m_i ~ Bernoulli(1 − p)     (dy/dx = m / (1 − p))
    eval:      y = x

so E[y] = x in both modes and the network needs no rescaling at test time. ``p`` is the
probability of *dropping* a unit, as in PyTorch; the course notes write p for the probability
of *keeping* one (their p = 1 − this p).

Dropout1d/2d/3d drop whole channels and AlphaDropout/FeatureAlphaDropout keep the mean and
variance of SELU activations; their math is in gradkit/ops/dropout.py.
"""

from gradkit import random
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.ops import dropout as variants
from gradkit.ops.arithmetic import Mul
from gradkit.tensor import Tensor

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
           "FeatureAlphaDropout"]


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p) when
    ``training``; the identity otherwise. ``inplace`` is accepted for PyTorch compatibility;
    the result is always a new tensor."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    dtype = input.dtype
    keep = random.uniform(input.shape, dtype=dtype) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = keep.astype(dtype)
    mask *= scale
    return Mul.apply(input, Tensor._make(mask, None))


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability ``p`` (the *drop*
    probability, as in PyTorch; the notes' p is the keep probability) and scale the survivors
    by 1/(1 − p); in eval mode, the identity."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        expect_tensor(f"Dropout({self.extra_repr()})", input)
        return dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class _DropoutVariant(Module):
    """p and inplace, checked as PyTorch; forward applies ``self._fn`` when training."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        variants.check_p(p)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        expect_tensor(f"{type(self).__name__}({self.extra_repr()})", input)
        return self._fn(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutVariant):
    """Channel dropout of (N, C, L) or (C, L) input: whole channels zeroed with probability
    ``p``, the rest scaled by 1/(1 − p); the identity in eval mode."""

    _fn = staticmethod(variants.dropout1d)


class Dropout2d(_DropoutVariant):
    """Channel dropout of (N, C, H, W) or (C, H, W) input (3-D input read as (N, C, L), as
    PyTorch, with a warning); the identity in eval mode."""

    _fn = staticmethod(variants.dropout2d)


class Dropout3d(_DropoutVariant):
    """Channel dropout of (N, C, D, H, W) or (C, D, H, W) input; the identity in eval mode."""

    _fn = staticmethod(variants.dropout3d)


class AlphaDropout(_DropoutVariant):
    """Alpha dropout of each element, keeping zero mean and unit variance (for SELU); the
    identity in eval mode."""

    _fn = staticmethod(variants.alpha_dropout)


class FeatureAlphaDropout(_DropoutVariant):
    """Alpha dropout of whole channels of (N, C, *) input; the identity in eval mode."""

    _fn = staticmethod(variants.feature_alpha_dropout)
