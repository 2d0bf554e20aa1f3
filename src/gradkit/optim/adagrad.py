"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

import numpy as np

from gradkit.optim.optimizer import (Optimizer, advance, axpy, check_compat_flags, step_tensor,
                                     zeros_state)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), as in PyTorch.

    Per parameter p with gradient g, at step t = 1, 2, ...::

        g   ← g + λ·p                                  (weight decay λ)
        η_t = η / (1 + (t − 1)·lr_decay)
        s   ← s + g²                                   (state['sum'], starts at
                                                        initial_accumulator_value)
        p   ← p − η_t · g / (√s + ε)

    This is the notes' ``cache += dx**2; x += -lr * dx / (sqrt(cache) + eps)`` with an
    optional learning-rate decay. Note ε is added outside the square root (and defaults to
    1e-10, PyTorch's value).

    Args:
        params: parameters or parameter groups.
        lr (float): η (default 1e-2).
        lr_decay (float): learning-rate decay per step (default 0).
        weight_decay (float): λ (default 0).
        initial_accumulator_value (float): starting value of every ``sum`` entry (default 0).
        eps (float): ε (default 1e-10).
        foreach, maximize, differentiable, fused: as in PyTorch (maximize negates g).

    State per parameter: ``step`` (float32 0-d Tensor), ``sum``. As in PyTorch the state is
    created when the optimizer is built, and a group added later starts its sums at the
    constructor's ``initial_accumulator_value``.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_compat_flags("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._init_state(p, group)

    def _init_state(self, p, group):
        return {"step": step_tensor(),
                "sum": zeros_state(p._data, self.defaults["initial_accumulator_value"])}

    def _update(self, p, grad, state, group):
        step = advance(state["step"])
        g = self._effective_grad(p, grad, group["weight_decay"], group["maximize"])
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        total = state["sum"]._data
        std = self._buffer(p, 1)
        np.multiply(g, g, out=std)
        total += std
        np.sqrt(total, out=std)
        std += group["eps"]
        np.divide(g, std, out=std)
        axpy(-clr, std, p)
