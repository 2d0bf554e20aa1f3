"""Adam and AdamW: bias-corrected moment estimates, with coupled or decoupled weight decay."""

import math

import numpy as np

from gradkit.optim.optimizer import (Optimizer, advance, axpy, check_compat_flags, step_tensor,
                                     zeros_state)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), as in PyTorch, bias-corrected from the first step.

    Per parameter p with gradient g, at step t = 1, 2, ... (t starts at 1, so the first
    step is already corrected: m̂ = g, v̂ = g², a step of about η in every coordinate)::

        p ← p·(1 − η·λ)                 if decoupled_weight_decay (AdamW)
        g ← g + λ·p                     otherwise (coupled L2)
        m ← β₁·m + (1 − β₁)·g           (state['exp_avg'])
        v ← β₂·v + (1 − β₂)·g²          (state['exp_avg_sq'])
        v_max ← max(v_max, v)           if amsgrad (state['max_exp_avg_sq']); then v := v_max
        p ← p − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    This is the notes' ``m = beta1*m + (1-beta1)*dx; mt = m / (1-beta1**t); v = ...;
    x += -lr * mt / (sqrt(vt) + eps)`` exactly (ε outside the square root, after the
    correction). gradkit folds √(1 − β₂ᵗ) into the step size to save a pass over the data,
    which changes results only by rounding.

    Args:
        params: parameters or parameter groups.
        lr (float): η (default 1e-3).
        betas (tuple): (β₁, β₂) (default (0.9, 0.999)).
        eps (float): ε (default 1e-8).
        weight_decay (float): λ (default 0).
        amsgrad (bool): use the running maximum of v (Reddi et al., 2018).
        maximize (bool): ascend instead of descend.
        decoupled_weight_decay (bool): decay the weights directly (AdamW) instead of adding
            λ·p to the gradient.
        foreach, capturable, differentiable, fused: accepted for compatibility.

    State per parameter: ``step`` (float32 0-d Tensor), ``exp_avg``, ``exp_avg_sq`` and
    ``max_exp_avg_sq`` (amsgrad).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        check_compat_flags(type(self).__name__, differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = {"step": step_tensor(), "exp_avg": zeros_state(p._data),
                 "exp_avg_sq": zeros_state(p._data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(p._data)
        return state

    def _update(self, p, grad, state, group):
        step = advance(state["step"])
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if weight_decay != 0 and group["decoupled_weight_decay"]:
            p *= 1 - lr * weight_decay
            weight_decay = 0
        g = self._effective_grad(p, grad, weight_decay, group["maximize"])
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        exp_avg *= beta1
        axpy(1 - beta1, g, exp_avg)
        denom = self._buffer(p, 1)
        np.multiply(g, g, out=denom)
        exp_avg_sq *= beta2
        axpy(1 - beta2, denom, exp_avg_sq)
        if group["amsgrad"]:
            second = state["max_exp_avg_sq"]._data
            np.maximum(second, exp_avg_sq, out=second)
        else:
            second = exp_avg_sq
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
        step_size = lr / (1 - beta1 ** step) * bias_correction2_sqrt
        np.sqrt(second, out=denom)
        denom += eps * bias_correction2_sqrt
        np.divide(exp_avg, denom, out=denom)
        axpy(-step_size, denom, p)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as in PyTorch.

    ``p ← p·(1 − η·λ)`` before the Adam step, so the decay does not pass through the adaptive
    scaling (with coupled L2 in Adam, weights with large gradient history are barely
    decayed). Same arguments as :class:`Adam`, but ``weight_decay`` defaults to 1e-2 and
    ``decoupled_weight_decay`` is always True.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
