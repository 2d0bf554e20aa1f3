"""One random generator behind every random draw in gradkit.

``gk.manual_seed(s)`` reseeds it, so initializations, dropout masks, shuffling and
augmentation all repeat exactly. Functions that draw take an optional ``generator``
(a ``numpy.random.Generator``) to use instead of the shared one.
"""

import contextlib
import secrets

import numpy as np

_initial_seed = [secrets.randbits(63)]  # what the shared generator was last seeded with
default_generator = np.random.Generator(np.random.PCG64(_initial_seed[0]))


def manual_seed(seed):
    """Reseed the shared generator (in place, so references to it stay valid)."""
    default_generator.bit_generator.state = np.random.PCG64(seed).state
    _initial_seed[0] = int(seed)
    return default_generator


def initial_seed():
    """The seed the shared generator was last seeded with (manual_seed, gk.seed, or the one
    drawn at import), as torch.initial_seed."""
    return _initial_seed[0]


def get_rng_state():
    """The shared generator's state, a plain dict (checkpoints store it)."""
    return default_generator.bit_generator.state


def set_rng_state(state):
    default_generator.bit_generator.state = state


@contextlib.contextmanager
def fork_rng(seed=None):
    """Inside the block, draw from the shared generator freely (reseeded with ``seed`` when
    given); on leaving, its state is put back as it was (PyTorch's ``fork_rng``)."""
    state = get_rng_state()
    if seed is not None:
        manual_seed(seed)
    try:
        yield default_generator
    finally:
        set_rng_state(state)


def _rng(generator):
    return default_generator if generator is None else generator


def normal(shape, mean=0.0, std=1.0, dtype=np.float32, generator=None):
    """An ndarray of N(mean, std²) draws in ``dtype``."""
    out = _rng(generator).standard_normal(shape, dtype=np.dtype(dtype))
    if std != 1.0:
        out *= std
    if mean != 0.0:
        out += mean
    return out


def uniform(shape, low=0.0, high=1.0, dtype=np.float32, generator=None):
    """An ndarray of U[low, high) draws in ``dtype``."""
    out = _rng(generator).random(shape, dtype=np.dtype(dtype))
    if high - low != 1.0:
        out *= high - low
    if low != 0.0:
        out += low
    return out
