"""Dropout (Srivastava et al. 2014), inverted: the scaling happens at training time.

    training:  y = x ⊙ m / (1 − p),  m_i ~ Bernoulli(1 − p)     (dy/dx = m / (1 − p))
    eval:      y = x

so E[y] = x in both modes and the network needs no rescaling at test time. ``p`` is the
probability of *dropping* a unit, as in PyTorch; the course notes write p for the probability
of *keeping* one (their p = 1 − this p).
"""

from gradkit import random
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.ops.arithmetic import Mul
from gradkit.tensor import Tensor

__all__ = ["Dropout"]


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
