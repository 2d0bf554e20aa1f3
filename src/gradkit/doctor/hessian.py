"""Curvature of a loss at a point: Hessian-vector products from differences of gradients,
and the extreme Hessian eigenvalues by the Lanczos iteration on them.

    grad = LossGradient(model, lambda: setup.loss(model, x, y))  # θ ↦ ∇L(θ), flat float64
    theta = grad.theta()                         # the current parameters
    hvp = hessian_vector_product(grad, theta)    # v ↦ H(θ)·v
    low, high, ritz, escape = extreme_eigenvalues(hvp, theta.size, iterations=20)

H·v comes from a central difference of the analytic gradient (backprop) along v:

    H·v ≈ (∇L(θ + h·v̂) − ∇L(θ − h·v̂)) / (2h) · ‖v‖,   v̂ = v/‖v‖,  h = cbrt(eps)·max(1, ‖θ‖∞)

(exact up to rounding on a quadratic, O(h²) otherwise), so one product costs two gradient
evaluations and no second-order autograd. ``extreme_eigenvalues`` runs k steps of Lanczos
with full re-orthogonalization from a random start: the Ritz values of the k×k tridiagonal
matrix lie between λ_min and λ_max of H, and the extreme ones converge to them first
(exactly when k reaches the dimension). Cost: 2k gradient evaluations and k·n floats.

Use a float64 copy of the model (``setup.copy_model(np.float64)``): in float32 the difference
of gradients loses about half of its digits. ``curvature(setup, run)`` does it all for the
doctor's probe run: the loss, gradient and extreme eigenvalues where the run ended, on
HESSIAN_SAMPLES fixed training samples.
"""

import copy

import numpy as np

from gradkit import random as gk_random
from gradkit.autograd import enable_grad, no_grad

MAX_PARAMETERS = 100_000  # above this ``curvature`` declines (2 gradients per Lanczos step)
HESSIAN_SAMPLES = 256
LANCZOS_STEPS = 20


class LossGradient:
    """θ ↦ ∇L(θ) (flat ndarray) for the parameters of ``model`` that require gradients.

    ``loss_fn()`` computes the loss Tensor of ``model`` on fixed data; every evaluation runs
    under the same random seed, so dropout masks repeat and L is one deterministic function.
    Calling it sets the model's parameters to θ; ``restore()`` puts back those it had."""

    def __init__(self, model, loss_fn, seed=0):
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.loss_fn, self.seed = loss_fn, seed
        self.evaluations = 0
        self._saved = self.theta()

    def theta(self):
        """The current parameters, concatenated (a copy)."""
        return np.concatenate([p._data.reshape(-1) for p in self.params]).astype(np.float64)

    def set(self, theta):
        at = 0
        with no_grad():
            for p in self.params:
                n = p._data.size
                p._data[...] = theta[at:at + n].reshape(p._data.shape)
                at += n

    def restore(self):
        self.set(self._saved)

    def loss(self, theta):
        """L(θ) as a float."""
        self.set(theta)
        with no_grad(), gk_random.fork_rng(self.seed):
            return float(self.loss_fn().item())

    def __call__(self, theta):
        self.set(theta)
        for p in self.params:
            p.grad = None
        with enable_grad(), gk_random.fork_rng(self.seed):
            self.loss_fn().backward()
        self.evaluations += 1
        return np.concatenate([np.zeros(p._data.size) if p.grad is None
                               else p.grad._data.reshape(-1).astype(np.float64)
                               for p in self.params])


def hessian_vector_product(grad, theta, rel_step=None):
    """v ↦ H(θ)·v by the central difference of ``grad`` (a function θ ↦ ∇L(θ)) along v.

    ``rel_step`` h relative to max(1, ‖θ‖∞); default cbrt(float64 eps) ≈ 6e-6, the step that
    balances the truncation error (∝ h²) and the rounding error (∝ eps/h)."""
    theta = np.asarray(theta, np.float64)
    rel = float(np.finfo(np.float64).eps) ** (1 / 3) if rel_step is None else rel_step
    h = rel * max(1.0, float(np.abs(theta).max(initial=0.0)))

    def hvp(v):
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            return np.zeros_like(theta)
        u = v / norm
        return (grad(theta + h * u) - grad(theta - h * u)) / (2 * h) * norm

    return hvp


def lanczos(matvec, n, iterations=20, seed=0):
    """(ritz values ascending, ritz vectors as columns (n, m)) of a symmetric operator
    ``matvec`` on Rⁿ after m = min(iterations, n) Lanczos steps with full
    re-orthogonalization, from a random unit vector of ``seed``. An invariant subspace found
    early (β ≈ 0) ends the iteration sooner: its Ritz values are then exact eigenvalues."""
    k = min(int(iterations), int(n))
    q = np.random.default_rng(seed).standard_normal(n)
    basis, alphas, betas = [q / np.linalg.norm(q)], [], []
    for j in range(k):
        w = matvec(basis[j])
        alphas.append(float(w @ basis[j]))
        Q = np.array(basis)
        for _ in range(2):  # re-orthogonalize twice: "twice is enough" (Kahan)
            w = w - Q.T @ (Q @ w)
        beta = float(np.linalg.norm(w))
        scale = max(max(abs(a) for a in alphas), max(betas, default=0.0), 1e-300)
        if j == k - 1 or beta <= 1e-10 * scale:
            break
        betas.append(beta)
        basis.append(w / beta)
    m = len(alphas)
    T = np.diag(alphas) + np.diag(betas[:m - 1], 1) + np.diag(betas[:m - 1], -1)
    values, vectors = np.linalg.eigh(T)
    return values, np.array(basis[:m]).T @ vectors


def extreme_eigenvalues(matvec, n, iterations=20, seed=0):
    """(λ_min, λ_max, ritz values, unit vector of λ_min): the extreme Ritz values of
    ``lanczos``; the last is the direction of most negative curvature (the way out of a
    saddle point)."""
    values, vectors = lanczos(matvec, n, iterations, seed)
    v = vectors[:, 0]
    return float(values[0]), float(values[-1]), [float(r) for r in values], v / np.linalg.norm(v)


# ----- the doctor's use: where a probe run ended -----

def _fixed_batch(setup, dtype=np.float64):
    """HESSIAN_SAMPLES training samples drawn with the setup's seed, floats as ``dtype``."""
    rng = np.random.default_rng(setup.seed)
    idx = np.sort(rng.choice(len(setup.x), min(HESSIAN_SAMPLES, len(setup.x)), replace=False))
    x, y = setup.x[idx], setup.y[idx]
    return tuple(a.astype(dtype) if a.dtype.kind == "f" else a for a in (x, y))


def curvature(setup, run):
    """The loss landscape where the probe ``run`` (doctor.training.Probe) ended, computed once
    (``setup.cache["curvature"]``): {"loss", "grad_norm", "lambda_min", "lambda_max",
    "ritz", "gain": ‖g‖²/(2·λ_max·L) (None when λ_max ≤ 0), "escape_drop": how far the loss
    falls along λ_min's eigenvector}, or None above MAX_PARAMETERS parameters."""
    if "curvature" in setup.cache:
        return setup.cache["curvature"]
    n = sum(p.numel() for p in setup.model.parameters() if p.requires_grad)
    if n > MAX_PARAMETERS:
        setup.cache["curvature"] = None
        return None
    x, y = _fixed_batch(setup)
    model = copy.deepcopy(run.model).to(np.float64).train()
    grad = LossGradient(model, lambda: setup.loss(model, x, y), seed=setup.seed)
    theta = grad.theta()
    loss, g_norm = grad.loss(theta), float(np.linalg.norm(grad(theta)))
    low, high, ritz, escape = extreme_eigenvalues(
        hessian_vector_product(grad, theta), theta.size, LANCZOS_STEPS, setup.seed)
    gain = g_norm ** 2 / (2 * high * max(loss, 1e-300)) if high > 0 else None
    result = {"loss": loss, "grad_norm": g_norm, "lambda_min": low, "lambda_max": high,
              "ritz": ritz, "gain": gain,
              "escape_drop": _escape_drop(grad, theta, escape) if low < 0 else 0.0}
    grad.restore()
    setup.cache["curvature"] = result
    setup.cache.setdefault("figures", {})["critical_point"] = {
        k: result[k] for k in ("ritz", "lambda_min", "lambda_max", "grad_norm")}
    return result


def _escape_drop(grad, theta, direction):
    """How much the loss falls along ±direction: L(θ) − the lowest L(θ ± t·v) over steps t
    from 1e-3 to 1 times max(1, ‖θ‖)."""
    base = grad.loss(theta)
    scale = max(1.0, float(np.linalg.norm(theta)))
    return base - min(grad.loss(theta + sign * t * scale * direction)
                      for t in np.geomspace(1e-3, 1.0, 7) for sign in (1, -1))
