"""Inference: fold each eval-mode BatchNorm into the convolution (or Linear) that feeds it.

    model = fuse_conv_bn(model.eval(), example_input)   # in place; returns the model
    with gk.no_grad():
        logits = model(x)                                # one GEMM fewer pass per BN

In eval mode BatchNorm is an affine map per channel, y = γ·(z − μ)/√(σ² + ε) + β, so after
z = W * x + b it folds into the layer itself:

    s = γ / √(σ² + ε),   W' = s · W (per output channel),   b' = s · (b − μ) + β

and the BatchNorm becomes Identity. Which layer feeds which BatchNorm is found by running
``example_input`` through the model once: a pair is folded when the BatchNorm's input is the
output of a Conv1d/Conv2d/Conv3d or Linear call, that output is used by nothing else (the
recorded graph says how often each tensor is an input), and each module is called once per
forward. Anything else (a BatchNorm after a ReLU, a layer shared between two places) is left
as it is, so the fused model computes the same function to float rounding (tested to 1e-5).
Training a fused model would train a different parameterisation: fuse for inference only.
"""

import numpy as np

from gradkit.autograd import enable_grad, no_grad
from gradkit.autograd.engine import Edge
from gradkit.nn.containers import Identity
from gradkit.nn.conv import Conv1d, Conv2d, Conv3d
from gradkit.nn.linear import Linear
from gradkit.nn.normalization import _BatchNorm
from gradkit.nn.parameter import Parameter
from gradkit.tensor import Tensor

__all__ = ["fuse_conv_bn", "fuse_conv_bn_eval"]

_FOLDABLE = (Conv1d, Conv2d, Conv3d, Linear)


def _trace(model, example):
    """[(module, input, output)] of every foldable layer and BatchNorm call, and the number
    of times each tensor of the recorded graph is an input (by id)."""
    calls, handles = [], []
    for m in model.modules():
        if isinstance(m, _FOLDABLE + (_BatchNorm,)):
            handles.append(m.register_forward_hook(
                lambda mod, args, out: calls.append((mod, args[0], out))))
    x = example if isinstance(example, Tensor) else Tensor._make(np.asarray(example), None)
    x = x.detach()
    if x.dtype.kind == "f":  # so the graph is recorded even when the parameters are frozen
        x.requires_grad_(True)
    try:
        with enable_grad():
            out = model(x)
    finally:
        for h in handles:
            h.remove()
    uses, seen, stack = {}, set(), [out.grad_fn] if out.grad_fn is not None else []
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen or fn.inputs is None:
            continue
        seen.add(id(fn))
        for t in fn.inputs:
            if isinstance(t, Edge):  # an input whose array the node does not keep
                stack.append(t.grad_fn)
                t = t.tensor()  # None once freed: then no hook saw it, and it is not counted
                if t is not None:
                    uses[id(t)] = uses.get(id(t), 0) + 1
            elif isinstance(t, Tensor):
                uses[id(t)] = uses.get(id(t), 0) + 1
                stack.append(t.grad_fn)
    return calls, uses, out


def _fold(layer, bn):
    """W' = s·W, b' = s·(b − μ) + β with s = γ/√(σ² + ε), in the layer's dtype."""
    w = layer.weight._data
    std = np.sqrt(bn.running_var._data.astype(np.float64) + bn.eps)
    gamma = bn.weight._data if bn.affine else np.ones_like(std)
    beta = bn.bias._data if bn.affine and bn.bias is not None else np.zeros_like(std)
    s = gamma / std
    bias = layer.bias._data if layer.bias is not None else np.zeros(w.shape[0], w.dtype)
    layer.weight._data[...] = (w * s.reshape((-1,) + (1,) * (w.ndim - 1))).astype(w.dtype)
    folded = (s * (bias - bn.running_mean._data) + beta).astype(w.dtype)
    if layer.bias is None:
        layer.register_parameter("bias", Parameter(folded))
    else:
        layer.bias._data[...] = folded


def _replace(model, target):
    """Put Identity where ``target`` sits in the module tree."""
    for parent in model.modules():
        for name, child in list(parent._modules.items()):
            if child is target:
                parent._modules[name] = Identity()


def fuse_conv_bn_eval(conv, bn):
    """PyTorch's ``nn.utils.fuse_conv_bn_eval``: a copy of ``conv`` (or a Linear) computing
    ``bn(conv(x))`` of the eval-mode BatchNorm ``bn``."""
    import copy

    fused = copy.deepcopy(conv)
    with no_grad():
        _fold(fused, bn)
    return fused


def fuse_conv_bn(model, example_input):
    """Fold every eval-mode BatchNorm fed only by a conv or Linear into it (module
    docstring); ``example_input``: one batch the model takes (a Tensor or an array). The
    model is changed in place, put in eval mode and returned."""
    model.eval()
    calls, uses, _ = _trace(model, example_input)
    count = {}
    for mod, _, _ in calls:
        count[id(mod)] = count.get(id(mod), 0) + 1
    made_by = {id(out): mod for mod, _, out in calls  # a Linear's features must be dim 1
               if isinstance(mod, _FOLDABLE) and (not isinstance(mod, Linear) or out.ndim == 2)}
    pairs = [(made_by[id(inp)], mod) for mod, inp, _ in calls
             if isinstance(mod, _BatchNorm) and mod.track_running_stats
             and id(inp) in made_by and uses.get(id(inp)) == 1]
    with no_grad():
        for layer, bn in pairs:
            if count[id(layer)] == 1 and count[id(bn)] == 1 and \
                    bn.running_mean is not None and bn.num_features == layer.weight.shape[0]:
                _fold(layer, bn)
                _replace(model, bn)
    return model
