"""LBFGS against torch.optim.LBFGS and scipy.optimize; Newton against exact Hessians."""

import copy

import numpy as np
import pytest
import scipy.optimize
import torch

import gradkit as gk
from gradkit import optim


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _data(seed=0, n=60, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X @ np.array([1.5, -2.0, 0.5]) + 0.8 * rng.standard_normal(n) > 0).astype(np.float64)
    return X, y


def logistic_loss(w, b, X, y, lam=0.01):
    """Mean binary cross-entropy of sigmoid(Xw + b) plus ½λ‖w‖²; works on either framework."""
    z = X @ w + b
    return (z.exp().__add__(1).log() - y * z).mean() + 0.5 * lam * (w * w).sum()


def _closure(opt, loss_fn):
    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    return closure


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("problem", ["rosenbrock", "logistic"])
def test_lbfgs_trajectory_matches_torch(line_search_fn, problem):
    X, y = _data()
    if problem == "rosenbrock":
        init = [np.array([-1.5, 2.0, -0.5, 1.2])]
        fns = (lambda ps: rosenbrock(ps[0]),) * 2
    else:
        init = [np.zeros(3), np.zeros(())]
        fns = (lambda ps: logistic_loss(ps[0], ps[1], gk.tensor(X), gk.tensor(y)),
               lambda ps: logistic_loss(ps[0], ps[1], torch.tensor(X), torch.tensor(y)))
    kwargs = dict(lr=1 if line_search_fn else 0.1, max_iter=7, history_size=5,
                  line_search_fn=line_search_fn)
    ours = [gk.tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    gk_opt, torch_opt = optim.LBFGS(ours, **kwargs), torch.optim.LBFGS(theirs, **kwargs)
    for _ in range(4):
        loss = gk_opt.step(_closure(gk_opt, lambda: fns[0](ours)))
        expected = torch_opt.step(_closure(torch_opt, lambda: fns[1](theirs))).detach()
        np.testing.assert_allclose(float(loss), expected.item(), rtol=1e-8)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-8, atol=1e-12)
    state, torch_state = gk_opt.state[ours[0]], torch_opt.state[theirs[0]]
    assert state.keys() == torch_state.keys()
    assert (state["func_evals"], state["n_iter"]) == (torch_state["func_evals"],
                                                      torch_state["n_iter"])
    assert len(state["old_dirs"]) == len(torch_state["old_dirs"])
    np.testing.assert_allclose(state["d"].numpy(), torch_state["d"].numpy(), rtol=1e-6,
                               atol=1e-10)


def test_lbfgs_reaches_the_rosenbrock_minimum():
    x = gk.tensor(np.array([-1.5, 2.0]), requires_grad=True)
    opt = optim.LBFGS([x], max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-15,
                      line_search_fn="strong_wolfe")
    closure = _closure(opt, lambda: rosenbrock(x))
    for _ in range(5):
        opt.step(closure)
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-6)
    assert float(rosenbrock(x)) < 1e-12


def test_lbfgs_fits_logistic_regression_as_well_as_scipy():
    X, y = _data(seed=1, n=200)
    w = gk.tensor(np.zeros(3), requires_grad=True)
    b = gk.tensor(np.zeros(()), requires_grad=True)
    opt = optim.LBFGS([w, b], max_iter=100, tolerance_grad=1e-10, tolerance_change=1e-15,
                      line_search_fn="strong_wolfe")
    opt.step(_closure(opt, lambda: logistic_loss(w, b, gk.tensor(X), gk.tensor(y))))

    def fun(theta):
        z = X @ theta[:3] + theta[3]
        loss = np.mean(np.logaddexp(0, z) - y * z) + 0.005 * theta[:3] @ theta[:3]
        p = 1 / (1 + np.exp(-z))
        grad = np.append(X.T @ (p - y) / len(y) + 0.01 * theta[:3], np.mean(p - y))
        return loss, grad

    ref = scipy.optimize.minimize(fun, np.zeros(4), jac=True, method="BFGS",
                                  options={"gtol": 1e-10})
    ours = float(logistic_loss(w, b, gk.tensor(X), gk.tensor(y)))
    assert ours <= ref.fun + 1e-12 * ref.fun
    np.testing.assert_allclose(np.append(w.numpy(), b.numpy()), ref.x, atol=1e-6)


def test_lbfgs_float32_stays_float32():
    x = gk.tensor(np.array([-1.2, 1.0], np.float32), requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100)
    for _ in range(3):
        opt.step(_closure(opt, lambda: rosenbrock(x)))
    assert x.dtype == np.float32 and opt.state[x]["d"].dtype == np.float32
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_mid_run_continues_identically(line_search_fn):
    def make(init):
        x = gk.tensor(init.copy(), requires_grad=True)
        opt = optim.LBFGS([x], lr=0.5, max_iter=3, history_size=4, line_search_fn=line_search_fn)
        return x, opt
    x, opt = make(np.array([-1.5, 2.0, 0.3]))
    for _ in range(3):
        opt.step(_closure(opt, lambda: rosenbrock(x)))
    saved = copy.deepcopy(opt.state_dict())
    x2, opt2 = make(x.numpy())
    opt2.load_state_dict(saved)
    for _ in range(4):
        opt.step(_closure(opt, lambda: rosenbrock(x)))
        opt2.step(_closure(opt2, lambda: rosenbrock(x2)))
    np.testing.assert_array_equal(x.numpy(), x2.numpy())
    assert opt.state[x]["func_evals"] == opt2.state[x2]["func_evals"]


def test_lbfgs_loads_torch_state():
    theirs = torch.tensor([-1.5, 2.0, 0.3], dtype=torch.float64, requires_grad=True)
    torch_opt = torch.optim.LBFGS([theirs], max_iter=3, line_search_fn="strong_wolfe")
    for _ in range(2):
        torch_opt.step(_closure(torch_opt, lambda: rosenbrock(theirs)))
    ours = gk.tensor(theirs.detach().numpy().copy(), requires_grad=True)
    gk_opt = optim.LBFGS([ours], max_iter=3, line_search_fn="strong_wolfe")
    gk_opt.load_state_dict(torch_opt.state_dict())
    for _ in range(3):
        gk_opt.step(_closure(gk_opt, lambda: rosenbrock(ours)))
        torch_opt.step(_closure(torch_opt, lambda: rosenbrock(theirs)))
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-8)


def test_lbfgs_bad_input():
    x = gk.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [gk.tensor(np.ones(2), requires_grad=True)]}])
    opt = optim.LBFGS([x])
    x.grad = None
    loss = opt.step(lambda: gk.tensor(3.0))  # no gradient: already optimal, a no-op
    assert float(loss) == 3.0 and x.numpy().tolist() == [1.0, 1.0]


# ----- Newton -----
def _quadratic(seed=0, n=6):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    return m @ m.T + np.eye(n), rng.standard_normal(n)


def test_newton_lands_on_a_quadratic_minimum_in_one_step():
    """f = ½xᵀAx − bᵀx + (v − 3)² with x = w.flatten(): H = blockdiag(A, 2), argmin (A⁻¹b, 3)."""
    A, b = _quadratic()
    w = gk.tensor(np.zeros((2, 3)), requires_grad=True)
    v = gk.tensor(np.ones(()), requires_grad=True)
    A_t, b_t = gk.tensor(A), gk.tensor(b)

    def loss_fn():
        x = w.reshape(-1)
        return 0.5 * (x @ (A_t @ x)) - b_t @ x + (v - 3.0) ** 2

    opt = optim.Newton([w, v])
    expected_H = np.zeros((7, 7))
    expected_H[:6, :6], expected_H[6, 6] = A, 2.0
    np.testing.assert_allclose(opt.hessian(loss_fn), expected_H, rtol=1e-8, atol=1e-8)
    start = float(loss_fn())
    loss = opt.step(_closure(opt, loss_fn))
    assert float(loss) == start
    np.testing.assert_allclose(w.numpy().reshape(-1), np.linalg.solve(A, b), rtol=1e-8)
    np.testing.assert_allclose(v.numpy(), 3.0, rtol=1e-10)
    assert float(opt.state[w]["step"]) == 1.0


def test_newton_hessian_equals_torch_on_logistic_loss():
    X, y = _data()
    w = gk.tensor(np.array([0.3, -0.2, 0.1]), requires_grad=True)
    b = gk.tensor(np.array(0.05), requires_grad=True)
    opt = optim.Newton([w, b])
    H = opt.hessian(lambda: logistic_loss(w, b, gk.tensor(X), gk.tensor(y)))
    np.testing.assert_array_equal(w.numpy(), [0.3, -0.2, 0.1])  # restored exactly
    Xt, yt = torch.tensor(X), torch.tensor(y)
    expected = torch.autograd.functional.hessian(
        lambda theta: logistic_loss(theta[:3], theta[3], Xt, yt),
        torch.tensor([0.3, -0.2, 0.1, 0.05], dtype=torch.float64))
    np.testing.assert_allclose(H, expected.numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(H, H.T)


def test_newton_converges_quadratically_on_logistic_regression():
    X, y = _data(seed=2, n=100)
    w = gk.tensor(np.zeros(3), requires_grad=True)
    b = gk.tensor(np.zeros(()), requires_grad=True)
    opt = optim.Newton([w, b])
    closure = _closure(opt, lambda: logistic_loss(w, b, gk.tensor(X), gk.tensor(y)))
    grad_norms = []
    for _ in range(7):
        opt.step(closure)  # leaves the gradient at the point before the step
        grad_norms.append(np.sqrt(np.sum(w.grad.numpy() ** 2) + b.grad.numpy() ** 2))
    assert grad_norms[-1] < 1e-12
    for k in (3, 4, 5):  # quadratic convergence: ‖g_{k+1}‖ ≲ C·‖g_k‖²
        assert grad_norms[k + 1] < 10 * grad_norms[k] ** 2


def test_newton_damping_and_singular_hessian():
    w = gk.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def loss_fn():
        return (w[0] - 3.0) ** 2  # flat along w[1]: H = diag(2, 0)

    with pytest.raises(RuntimeError, match="singular.*damping"):
        optim.Newton([w]).step(_closure(optim.Newton([w]), loss_fn))
    opt = optim.Newton([w], lr=0.5, damping=1.0)
    opt.step(_closure(opt, loss_fn))
    # g = (−4, 0), (H + I)⁻¹g = (−4/3, 0); x ← x − 0.5·that
    np.testing.assert_allclose(w.numpy(), [1.0 + 2.0 / 3.0, 2.0], rtol=1e-7)


def test_newton_refuses_large_models():
    big = gk.tensor(np.zeros((100, 50)), requires_grad=True)
    with pytest.raises(ValueError, match="5,000 parameters.*LBFGS"):
        optim.Newton([big])
    assert optim.Newton([big], max_params=5000).defaults["damping"] == 0.0
