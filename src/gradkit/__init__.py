"""gradkit: a transparent deep-learning framework on NumPy with PyTorch's API names.

    import gradkit as gk
    x = gk.randn(3, 4, requires_grad=True)
    (x @ x.T).relu().sum().backward(); x.grad
"""

import numpy as _np

from gradkit import threads
from gradkit.threads import get_num_threads, set_num_threads
from gradkit.tensor import Tensor
from gradkit.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradkit import autograd, ops, random
from gradkit.random import get_rng_state, initial_seed, manual_seed, set_rng_state
from gradkit.devices import device
from gradkit import cuda
from gradkit.creation import (arange, bool_, default_dtype, empty, empty_like, eye, float16,
                              float32, float64, from_numpy, full, full_like, int32, int64,
                              linspace, normal, ones, ones_like, rand, rand_like, randint, randn,
                              randn_like, tensor, uint8, zeros, zeros_like)
from gradkit.ops import (abs, add, argmax, argmin, cat, chunk, clamp, concat, div, elu, eq, exp,
                         expand, flatten, ge, gelu, gt, le, leaky_relu, log, log_softmax,
                         logsumexp, lt, matmul, max, maximum, mean, min, minimum, mul, ne, neg,
                         one_hot, pad, permute, pow, relu, reshape, sigmoid, softmax, softplus,
                         split, sqrt, squeeze, stack, std, sub, sum, tanh, transpose, unsqueeze,
                         var, where)
from gradkit.ops.reduce import dot, norm
from gradkit.ops.elementwise import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan,
                                     arctan2, arctanh, asin, asinh, atan, atan2, atanh, copysign,
                                     cos, cosh, erf, erfinv, exp2, expm1, frac, hypot, lerp, log1p,
                                     log2, log10, logaddexp, reciprocal, rsqrt, sin, sinh, square,
                                     tan)
from gradkit.ops.logical import (allclose, bitwise_and, bitwise_left_shift, bitwise_not,
                                 bitwise_or, bitwise_right_shift, bitwise_xor, isclose, isfinite,
                                 isinf, isnan, isneginf, isposinf, logical_and, logical_not,
                                 logical_or, logical_xor, nan_to_num)
from gradkit.ops.rounding import (ceil, fix, floor, floor_divide, fmod, remainder, round, sign,
                                  trunc)
from gradkit.ops.activations import celu, prelu, selu, threshold
# The op modules below each name their torch.* functions in __all__.
from gradkit.ops.aliases import *  # noqa: F401,F403
from gradkit.ops.counting import *  # noqa: F401,F403
from gradkit.ops.diag import *  # noqa: F401,F403
from gradkit.ops.gather import *  # noqa: F401,F403
from gradkit.ops.layout import *  # noqa: F401,F403
from gradkit.ops.more_math import *  # noqa: F401,F403
from gradkit.ops.products import *  # noqa: F401,F403
from gradkit.ops.sampling import *  # noqa: F401,F403
from gradkit.ops.scan import *  # noqa: F401,F403
from gradkit.ops.sort import *  # noqa: F401,F403
from gradkit.ops.stats import *  # noqa: F401,F403
from gradkit import linalg
from gradkit import errors

from gradkit import models, nn, optim, train
from gradkit.serialization import load, save
from gradkit.summary import summary

__version__ = "0.1.0"

float = float32
double = float64
long = int64
bool = bool_
clip = clamp

threads.apply_default()  # the thread policy (gradkit/threads.py), before any product runs
