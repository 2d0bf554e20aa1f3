"""Newton's method for small models: the exact Hessian from differences of the gradient."""

import numpy as np

from gradkit.autograd import enable_grad, no_grad
from gradkit.autograd.engine import note_change
from gradkit.optim.optimizer import Optimizer, advance, step_tensor


class Newton(Optimizer):
    r"""Damped Newton steps ``x ← x − lr·(H + λI)⁻¹·g`` (no PyTorch counterpart).

    H is the Hessian of the loss, built column by column from central differences of the
    analytic gradient (backprop), which is far more accurate than differencing the loss twice:

        H[:, i] = (g(x + hᵢ·eᵢ) − g(x − hᵢ·eᵢ)) / (2·hᵢ),   then H ← (H + Hᵀ)/2

    (2·hᵢ taken as the difference of the two perturbed values actually stored, so rounding of
    x ± hᵢ in float32 does not bias the quotient)

    with hᵢ = fd_eps·max(1, |xᵢ|) (fd_eps defaults to the cube root of the dtype's machine
    epsilon, the step that balances truncation and rounding error). On a quadratic the gradient
    is linear, so H is exact up to rounding and one step with lr = 1, λ = 0 lands on the
    minimum. Damping λ > 0 (Levenberg) keeps the step defined and shortened where H is
    singular or indefinite; with λ = 0 and an indefinite H the step heads for a saddle point.

    Building H costs 2n gradient evaluations and n² memory for n parameters, so Newton refuses
    models with more than ``max_params`` parameters (use LBFGS there).

    Args:
        params: the parameters (one group only).
        lr (float): step length (default 1).
        damping (float): λ (default 0).
        fd_eps (float or None): relative finite-difference step (default: cbrt(eps)).
        max_params (int): the largest number of parameters accepted (default 4096).

    ``step(closure)``: the closure computes and returns the loss; it may call ``backward()``
    itself (PyTorch's closure convention) or leave it to Newton, which clears the gradients
    before every evaluation. ``step`` returns the loss before the update and leaves that
    point's gradients in ``.grad``. State (under the first parameter): ``step``.
    """

    def __init__(self, params, lr=1.0, damping=0.0, fd_eps=None, max_params=4096):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= damping:
            raise ValueError(f"Invalid damping value: {damping}")
        defaults = dict(lr=lr, damping=damping, fd_eps=fd_eps)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("Newton doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        n = sum(p._data.size for p in self._params)
        if n > max_params:
            raise ValueError(
                f"Newton: the model has {n:,} parameters; the exact Hessian needs {2 * n:,} "
                f"gradient evaluations and an {n:,}×{n:,} matrix ({n * n * 8 / 1e9:.1f} GB in "
                f"float64). Newton is meant for up to {max_params:,} parameters: use LBFGS for "
                "a model this size, or pass a larger max_params"
            )

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("Newton doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _flat_grad(self, closure):
        for p in self._params:
            p.grad = None
        loss = closure()
        if all(p.grad is None for p in self._params) and getattr(loss, "requires_grad", False):
            loss.backward()
        grads = [np.zeros(p._data.size, p.dtype) if p.grad is None else p.grad._data.reshape(-1)
                 for p in self._params]
        return loss, np.concatenate(grads)

    def hessian(self, closure):
        """The (n, n) symmetric Hessian at the current parameters, from 2n closure calls.

        The parameters are restored exactly afterwards; the gradients are those of the last
        evaluation."""
        closure = enable_grad()(closure)
        fd_eps = self.param_groups[0]["fd_eps"]
        n = sum(p._data.size for p in self._params)
        H = np.empty((n, n), np.result_type(*(p.dtype for p in self._params)))
        column = 0
        with no_grad():
            for p in self._params:
                x = p._data.flat
                rel = fd_eps if fd_eps is not None else float(np.finfo(p.dtype).eps) ** (1 / 3)
                for i in range(p._data.size):
                    saved = x[i]
                    h = rel * max(1.0, abs(float(saved)))
                    x[i] = saved + h
                    upper = float(x[i])
                    _, g_plus = self._flat_grad(closure)
                    x[i] = saved - h
                    lower = float(x[i])
                    _, g_minus = self._flat_grad(closure)
                    x[i] = saved
                    H[:, column] = (g_plus - g_minus) / (upper - lower)
                    column += 1
        return (H + H.T) / 2

    def step(self, closure):
        """One damped Newton step; returns the loss at the starting point."""
        group = self.param_groups[0]
        H = self.hessian(closure)
        with enable_grad():
            loss, g = self._flat_grad(closure)
        H[np.diag_indices_from(H)] += group["damping"]
        try:
            direction = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            raise RuntimeError(
                "Newton: the Hessian (plus damping) is singular, so the Newton step is undefined; "
                "pass damping > 0"
            ) from None
        advance(self.state[self._params[0]].setdefault("step", step_tensor()))
        with no_grad():
            offset = 0
            for p in self._params:
                n = p._data.size
                p._data -= (group["lr"] * direction[offset:offset + n]).reshape(p.shape).astype(
                    p.dtype, copy=False)
                note_change(p._vc)
                offset += n
        return loss
