"""Stochastic gradient descent with momentum and Nesterov momentum (PyTorch's form)."""

import numpy as np

from gradkit.optim.optimizer import Optimizer, axpy, check_compat_flags
from gradkit.tensor import Tensor


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum and weight decay.

    Per parameter p with gradient g, learning rate η, momentum μ, dampening τ, decay λ::

        g ← g + λ·p                                    (coupled L2: the gradient of ½λ‖p‖²)
        b ← g                         on the first step (state['momentum_buffer'])
        b ← μ·b + (1 − τ)·g           afterwards
        d ← g + μ·b   if nesterov,   else   d ← b      (d ← g when μ = 0)
        p ← p − η·d

    The cs231n notes write momentum with the learning rate inside the velocity,
    ``v ← μv − ηg; x ← x + v``. With τ = 0 this is PyTorch's form with v = −η·b: the two give
    the same iterates as long as η is constant. When η changes (a schedule), the notes' v keeps
    the old rates in its history while PyTorch's b does not, so the trajectories differ from
    the first change on. The notes' Nesterov update ``v_prev = v; v = μv − ηg;
    x += −μ·v_prev + (1 + μ)·v`` is, for constant η, the same as PyTorch's
    ``p ← p − η(g + μ·b)`` (both take the look-ahead gradient step); it too differs once η
    varies. gradkit follows PyTorch.

    Args:
        params: parameters or parameter groups.
        lr (float): learning rate η (default 1e-3, as in PyTorch).
        momentum (float): μ (default 0).
        dampening (float): τ (default 0).
        weight_decay (float): λ (default 0).
        nesterov (bool): Nesterov momentum; needs μ > 0 and τ = 0.
        maximize (bool): ascend instead of descend (g ← −g).
        foreach, differentiable, fused: accepted for compatibility (see
            ``check_compat_flags``); gradkit has a single NumPy implementation.

    State per parameter: ``momentum_buffer`` (when μ ≠ 0).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_compat_flags("SGD", differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, momentum = group["lr"], group["momentum"]
        d = self._effective_grad(p, grad, group["weight_decay"], group["maximize"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = np.array(d, copy=True)
                state["momentum_buffer"] = Tensor._make(buf, None)
            else:
                buf = buf._data
                buf *= momentum
                axpy(1 - group["dampening"], d, buf)
            if group["nesterov"]:
                axpy(-lr * momentum, buf, p)
            else:
                d = buf
        axpy(-lr, d, p)
