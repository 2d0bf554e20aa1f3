"""Differentiable ops: one Function per op, forward and backward side by side."""

from gradkit.ops.arithmetic import (add, cast, clone, div, eq, ge, gt, le, lt, matmul, maximum,
                                    minimum, mul, ne, neg, pow, sub, where)
from gradkit.ops.index import getitem, index_arrays, index_put, one_hot
from gradkit.ops.reduce import (argmax, argmin, log_softmax, logsumexp, max, mean, min, softmax,
                                std, sum, values_indices, var)
from gradkit.ops.shape import (cat, chunk, concat, expand, flatten, pad, permute, reshape, split,
                               squeeze, stack, transpose, unsqueeze, view)
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
from gradkit.ops.unary import (abs, clamp, elu, exp, gelu, leaky_relu, log, relu, sigmoid,
                               softplus, sqrt, tanh)
from gradkit.ops import diag, gather, layout, products, scan, sort, stats

__all__ = [
    "add", "cast", "clone", "div", "eq", "ge", "gt", "le", "lt", "matmul", "maximum", "minimum",
    "mul", "ne", "neg", "pow", "sub", "where", "getitem", "index_arrays", "index_put", "one_hot",
    "argmax",
    "argmin", "log_softmax", "logsumexp", "max", "mean", "min", "softmax", "std", "sum",
    "values_indices", "var", "cat", "chunk", "concat", "expand", "flatten", "pad", "permute",
    "reshape", "split", "squeeze", "stack", "transpose", "unsqueeze", "view", "abs", "clamp",
    "elu", "exp", "gelu", "leaky_relu", "log", "relu", "sigmoid", "softplus", "sqrt", "tanh",
    "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "asin", "asinh", "atan", "atan2", "atanh", "copysign", "cos", "cosh", "erf", "erfinv",
    "exp2", "expm1", "frac", "hypot", "lerp", "log1p", "log2", "log10", "logaddexp",
    "reciprocal", "rsqrt", "sin", "sinh", "square", "tan", "allclose", "bitwise_and",
    "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "isclose", "isfinite", "isinf", "isnan", "isneginf", "isposinf", "logical_and",
    "logical_not", "logical_or", "logical_xor", "nan_to_num", "ceil", "fix", "floor",
    "floor_divide", "fmod", "remainder", "round", "sign", "trunc",
]
