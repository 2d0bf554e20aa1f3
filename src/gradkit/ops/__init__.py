"""Differentiable ops: one Function per op, forward and backward side by side."""

from gradkit.ops.arithmetic import (add, cast, clone, div, eq, ge, gt, le, lt, matmul, maximum,
                                    minimum, mul, ne, neg, pow, sub, where)
from gradkit.ops.index import getitem, index_arrays, index_put, one_hot
from gradkit.ops.reduce import (argmax, argmin, log_softmax, logsumexp, max, mean, min, softmax,
                                std, sum, values_indices, var)
from gradkit.ops.shape import (cat, chunk, concat, expand, flatten, pad, permute, reshape, split,
                               squeeze, stack, transpose, unsqueeze, view)
from gradkit.ops.unary import (abs, clamp, elu, exp, gelu, leaky_relu, log, relu, sigmoid,
                               softplus, sqrt, tanh)

__all__ = [
    "add", "cast", "clone", "div", "eq", "ge", "gt", "le", "lt", "matmul", "maximum", "minimum",
    "mul", "ne", "neg", "pow", "sub", "where", "getitem", "index_arrays", "index_put", "one_hot",
    "argmax",
    "argmin", "log_softmax", "logsumexp", "max", "mean", "min", "softmax", "std", "sum",
    "values_indices", "var", "cat", "chunk", "concat", "expand", "flatten", "pad", "permute",
    "reshape", "split", "squeeze", "stack", "transpose", "unsqueeze", "view", "abs", "clamp",
    "elu", "exp", "gelu", "leaky_relu", "log", "relu", "sigmoid", "softplus", "sqrt", "tanh",
]
