"""Regularization utilities: gradient clipping, penalties to add to a loss, the max-norm
constraint, and the split of a model's parameters into decayed and non-decayed groups.

    loss = F.cross_entropy(model(x), y) + 1e-4 * nn.utils.l2_penalty(decay_params)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
    opt.step()
    nn.utils.max_norm_(model.parameters(), max_norm=3.0)        # after the step

For inference, ``fuse_conv_bn(model, example)`` folds eval-mode BatchNorms into the layers
that feed them, and ``fuse_conv_bn_eval(conv, bn)`` one pair (gradkit.nn.fuse).
"""

import numpy as np

from gradkit.autograd import no_grad
from gradkit.tensor import Tensor


def _tensors(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(x, norm_type):
    """‖x‖_p of an array viewed as a vector (p = inf: max |x|, p = 0: count of non-zeros)."""
    x = x.reshape(-1)
    if norm_type == 2.0:
        return np.sqrt(np.dot(x, x))
    if norm_type == np.inf:
        return np.abs(x).max(initial=0)
    if norm_type == -np.inf:
        return np.abs(x).min()
    if norm_type == 0:
        return x.dtype.type(np.count_nonzero(x))
    if norm_type == 1.0:
        return np.abs(x).sum()
    return (np.abs(x) ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    total = ‖(‖g₁‖_p, ‖g₂‖_p, ...)‖_p (the p-norm of all gradients as one vector);
    every g ← g · min(1, max_norm / (total + 1e-6)), in place, as PyTorch does.

    Args:
        parameters: a Tensor or an iterable of Tensors (those with ``.grad`` None are skipped).
        max_norm (float): the largest allowed norm.
        norm_type (float): p; ``float('inf')`` for the max-norm.
        error_if_nonfinite (bool): raise RuntimeError if the total norm is nan or inf
            (otherwise the gradients are scaled by a non-finite factor, as in PyTorch).
        foreach: accepted for PyTorch compatibility.

    Returns the total norm before clipping as a 0-d Tensor (float32 0.0 when no gradients).
    """
    grads = [p.grad._data for p in _tensors(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor._make(np.array(0.0, np.float32), None)
    norms = np.stack([_vector_norm(g, norm_type) for g in grads])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coef = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    for g in grads:
        g *= coef
    return Tensor._make(np.asarray(total), None)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry into [−clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def max_norm_(parameters, max_norm):
    """The max-norm constraint: rescale each unit's incoming weight vector to norm ≤ max_norm.

    A unit's incoming weights are one slice along dim 0: a row of a Linear weight (out, in),
    one filter (in, kh, kw) of a Conv weight (out, in, kh, kw). Each slice w with ‖w‖₂ >
    max_norm becomes w·max_norm/(‖w‖₂ + 1e-7) (``torch.renorm(w, 2, 0, max_norm)``); the others
    are unchanged. Parameters with fewer than 2 dims (biases, norm scales) have no incoming
    vector and are left alone. Call it after ``optimizer.step()``; it changes ``.data`` in place
    under no_grad.
    """
    max_norm = float(max_norm)
    with no_grad():
        for p in _tensors(parameters):
            w = p._data
            if w.ndim < 2:
                continue
            flat = w.reshape(w.shape[0], -1)
            norms = np.sqrt(np.einsum("ij,ij->i", flat, flat))
            scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
            w *= scale.reshape((-1,) + (1,) * (w.ndim - 1))


def _total(terms, like):
    total = None
    for term in terms:
        total = term if total is None else total + term
    if total is None:
        return Tensor._make(np.array(0.0, like), None)
    return total


def l1_penalty(parameters):
    """Σ|w| over all given parameters, a differentiable 0-d Tensor (gradient sign(w)).

    Multiply by λ and add to the loss: ``loss + lam * l1_penalty(params)``."""
    return _total((p.abs().sum() for p in _tensors(parameters)), np.float32)


def l2_penalty(parameters):
    """½·Σw² over all given parameters, a differentiable 0-d Tensor (gradient w).

    The notes' convention ½λ‖w‖², chosen so that ``loss + lam * l2_penalty(params)`` gives
    exactly the gradient λ·w that an optimizer's ``weight_decay=lam`` adds (coupled L2)."""
    return _total(((p * p).sum() * 0.5 for p in _tensors(parameters)), np.float32)


def elastic_net_penalty(parameters, l1_ratio=0.5):
    """l1_ratio·Σ|w| + (1 − l1_ratio)·½Σw² (scikit-learn's ElasticNet convention).

    l1_ratio = 1 is ``l1_penalty``, l1_ratio = 0 is ``l2_penalty``."""
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"elastic_net_penalty: l1_ratio must be in [0, 1], got {l1_ratio}")
    params = _tensors(parameters)
    return l1_ratio * l1_penalty(params) + (1.0 - l1_ratio) * l2_penalty(params)


def param_groups_weight_decay(model, weight_decay=1e-5, no_weight_decay_list=()):
    """Split ``model.named_parameters()`` into a decayed and a non-decayed param group.

    Not decayed: biases and every other parameter with fewer than 2 dims (BatchNorm/LayerNorm
    scales and shifts), any parameter of a module whose class name contains "Norm" (when the
    model has ``named_modules()``), and names listed in ``no_weight_decay_list``. Parameters
    with ``requires_grad=False`` are left out. Returns a list to pass to an optimizer::

        [{'params': [...], 'weight_decay': weight_decay}, {'params': [...], 'weight_decay': 0.0}]
    """
    skip = set(no_weight_decay_list)
    norm_ids = set()
    if hasattr(model, "named_modules"):
        for _, module in model.named_modules():
            if "Norm" in type(module).__name__:
                norm_ids.update(id(p) for _, p in module.named_parameters(recurse=False))
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim <= 1 or name.endswith("bias") or name in skip or id(p) in norm_ids:
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


from gradkit.nn.fuse import fuse_conv_bn, fuse_conv_bn_eval  # noqa: E402,F401  (re-exported)
