"""RMSprop: a leaky average of squared gradients scales each coordinate's step."""

import numpy as np

from gradkit.optim.optimizer import (Optimizer, advance, axpy, check_compat_flags, step_tensor,
                                     zeros_state)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), optionally centred and with momentum, as in PyTorch.

    Per parameter p with gradient g, decay rate α::

        g ← g + λ·p                                    (weight decay λ)
        v ← α·v + (1 − α)·g²                           (state['square_avg'])
        m ← α·m + (1 − α)·g,   v̂ = v − m²   if centered (state['grad_avg']), else v̂ = v
        a = √v̂ + ε
        b ← μ·b + g / a,   p ← p − η·b                 if momentum μ > 0 (state['momentum_buffer'])
        p ← p − η·g / a                                otherwise

    The notes' ``cache = decay_rate * cache + (1 - decay_rate) * dx**2;
    x += -lr * dx / (sqrt(cache) + eps)`` is the plain case with α = decay_rate. ε is added
    outside the square root.

    Args:
        params: parameters or parameter groups.
        lr (float): η (default 1e-2).
        alpha (float): α (default 0.99).
        eps (float): ε (default 1e-8).
        weight_decay (float): λ (default 0).
        momentum (float): μ (default 0).
        centered (bool): normalize by the estimated variance instead of the raw second moment.
        capturable, foreach, maximize, differentiable: as in PyTorch (maximize negates g).

    State per parameter: ``step``, ``square_avg``, and ``momentum_buffer`` (μ > 0) and
    ``grad_avg`` (centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        check_compat_flags("RMSprop", differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = {"step": step_tensor(), "square_avg": zeros_state(p._data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(p._data)
        if group["centered"]:
            state["grad_avg"] = zeros_state(p._data)
        return state

    def _update(self, p, grad, state, group):
        advance(state["step"])
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        g = self._effective_grad(p, grad, group["weight_decay"], group["maximize"])
        square_avg = state["square_avg"]._data
        avg = self._buffer(p, 1)
        np.multiply(g, g, out=avg)
        square_avg *= alpha
        axpy(1 - alpha, avg, square_avg)
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            grad_avg *= alpha
            axpy(1 - alpha, g, grad_avg)
            np.multiply(grad_avg, grad_avg, out=avg)
            np.subtract(square_avg, avg, out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        avg += eps
        np.divide(g, avg, out=avg)
        if momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            buf += avg
            axpy(-group["lr"], buf, p)
        else:
            axpy(-group["lr"], avg, p)
