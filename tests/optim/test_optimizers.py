"""SGD, Adagrad, RMSprop, Adam, AdamW against torch.optim: same start, same gradient rule,
25 steps in float64; parameters, state and state_dict layout equal to PyTorch's."""

import copy
import inspect

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import optim

RTOL = 1e-10
STEPS = 25


# ----- two problems: the gradient at each step comes from the current parameters -----
class Quadratic:
    """f(x) = Σᵢ ½ xᵢᵀAᵢxᵢ − bᵢᵀxᵢ per tensor; the gradient Aᵢxᵢ − bᵢ set as .grad."""

    shapes = [(4, 3), (3,), (2, 3, 2)]

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.init = [rng.standard_normal(s) for s in self.shapes]
        self.A, self.b = [], []
        for s in self.shapes:
            n = int(np.prod(s))
            m = rng.standard_normal((n, n))
            self.A.append(m @ m.T / n + 0.5 * np.eye(n))
            self.b.append(rng.standard_normal(n))

    def _grads(self, arrays):
        return [(A @ x.reshape(-1) - b).reshape(x.shape) for A, b, x in zip(self.A, self.b, arrays)]

    def set_gk_grads(self, params):
        for p, g in zip(params, self._grads([p.numpy() for p in params])):
            p.grad = gk.tensor(g)

    def set_torch_grads(self, params):
        for p, g in zip(params, self._grads([p.detach().numpy() for p in params])):
            p.grad = torch.tensor(g)


class SmallNet:
    """A 4-5-2 tanh MLP with squared loss; each framework backpropagates through its own."""

    def __init__(self, seed=1):
        rng = np.random.default_rng(seed)
        self.init = [rng.standard_normal((5, 4)) * 0.5, rng.standard_normal(5) * 0.1,
                     rng.standard_normal((2, 5)) * 0.5, rng.standard_normal(2) * 0.1]
        self.x = rng.standard_normal((8, 4))
        self.y = rng.standard_normal((8, 2))

    @staticmethod
    def _loss(x, y, w1, b1, w2, b2):
        h = (x @ w1.T + b1).tanh()
        return ((h @ w2.T + b2 - y) ** 2).mean()

    def set_gk_grads(self, params):
        for p in params:
            p.grad = None
        self._loss(gk.tensor(self.x), gk.tensor(self.y), *params).backward()

    def set_torch_grads(self, params):
        for p in params:
            p.grad = None
        self._loss(torch.tensor(self.x), torch.tensor(self.y), *params).backward()


PROBLEMS = {"quadratic": Quadratic, "net": SmallNet}

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
]
CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CASES]


def _to_np(value):
    return value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def assert_state_equal(gk_opt, torch_opt, rtol=RTOL):
    ours, theirs = gk_opt.state_dict(), torch_opt.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    for index, torch_state in theirs["state"].items():
        assert ours["state"][index].keys() == torch_state.keys()
        for key, value in torch_state.items():
            np.testing.assert_allclose(_to_np(ours["state"][index][key]), _to_np(value),
                                       rtol=rtol, atol=1e-14, err_msg=f"state {index}.{key}")


def make_pair(problem, name, kwargs, groups=None):
    gk_params = [gk.tensor(a.copy(), requires_grad=True) for a in problem.init]
    torch_params = [torch.tensor(a.copy(), requires_grad=True) for a in problem.init]

    def arrange(params):
        if groups is None:
            return params
        return [dict(params=[params[i] for i in idx], **opts) for idx, opts in groups]

    gk_opt = getattr(optim, name)(arrange(gk_params), **kwargs)
    torch_opt = getattr(torch.optim, name)(arrange(torch_params), **kwargs)
    return gk_params, torch_params, gk_opt, torch_opt


def run_and_compare(problem, gk_params, torch_params, gk_opt, torch_opt, steps=STEPS):
    for _ in range(steps):
        problem.set_gk_grads(gk_params)
        problem.set_torch_grads(torch_params)
        gk_opt.step()
        torch_opt.step()
        for p, q in zip(gk_params, torch_params):
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=RTOL, atol=1e-14)
    assert_state_equal(gk_opt, torch_opt)


@pytest.mark.parametrize("problem_name", list(PROBLEMS))
@pytest.mark.parametrize("name,kwargs", CASES, ids=CASE_IDS)
def test_trajectory_matches_torch(name, kwargs, problem_name):
    problem = PROBLEMS[problem_name]()
    run_and_compare(problem, *make_pair(problem, name, kwargs))


@pytest.mark.parametrize("name,kwargs,group_opts", [
    ("SGD", dict(lr=0.1, momentum=0.9), [dict(lr=0.05), dict(momentum=0.5, nesterov=True)]),
    ("Adam", dict(lr=0.05), [dict(lr=0.01, amsgrad=True), dict(weight_decay=0.1)]),
    ("RMSprop", dict(lr=0.01), [dict(centered=True), dict(lr=0.002, momentum=0.9)]),
    ("Adagrad", dict(lr=0.1), [dict(lr_decay=0.1), dict(lr=0.3)]),
])
def test_per_group_options_match_torch(name, kwargs, group_opts):
    problem = SmallNet()
    groups = [([0, 1], group_opts[0]), ([2, 3], group_opts[1])]
    gk_params, torch_params, gk_opt, torch_opt = make_pair(problem, name, kwargs, groups)
    run_and_compare(problem, gk_params, torch_params, gk_opt, torch_opt)


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=CASE_IDS[::3])
def test_state_dict_layout_equals_torch(name, kwargs):
    problem = SmallNet()
    groups = [([0, 1], {}), ([2, 3], {"lr": 0.02})]
    gk_params, torch_params, gk_opt, torch_opt = make_pair(problem, name, kwargs, groups)
    run_and_compare(problem, gk_params, torch_params, gk_opt, torch_opt, steps=2)
    assert gk_opt.state_dict()["param_groups"] == torch_opt.state_dict()["param_groups"]
    assert gk_opt.defaults == torch_opt.defaults


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "LBFGS"])
def test_signature_equals_torch(name):
    def params(cls):
        return [(p.name, p.kind, p.default)
                for p in inspect.signature(cls.__init__).parameters.values()]
    assert params(getattr(optim, name)) == params(getattr(torch.optim, name))


def test_adam_first_step_is_bias_corrected():
    """t starts at 1: m̂ = g, v̂ = g², so the first step is lr·g/(|g| + eps) per coordinate."""
    g = np.array([[1e-3, -2.0], [5.0, -1e-6]])
    p = gk.tensor(np.zeros((2, 2)), requires_grad=True)
    p.grad = gk.tensor(g)
    opt = optim.Adam([p], lr=0.1, eps=1e-8)
    opt.step()
    np.testing.assert_allclose(p.numpy(), -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    assert float(opt.state[p]["step"]) == 1.0


@pytest.mark.parametrize("name,kwargs", CASES[1::2], ids=CASE_IDS[1::2])
def test_state_dict_mid_run_continues_identically(name, kwargs):
    problem = SmallNet()
    params = [gk.tensor(a.copy(), requires_grad=True) for a in problem.init]
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(10):
        problem.set_gk_grads(params)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    clones = [gk.tensor(p.numpy().copy(), requires_grad=True) for p in params]
    fresh = getattr(optim, name)(clones, lr=123.0)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    for _ in range(15):
        problem.set_gk_grads(params)
        problem.set_gk_grads(clones)
        opt.step()
        fresh.step()
    for p, q in zip(params, clones):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("name,kwargs", CASES[::2], ids=CASE_IDS[::2])
def test_loading_a_torch_state_dict_continues_like_torch(name, kwargs):
    problem = Quadratic()
    gk_params, torch_params, gk_opt, torch_opt = make_pair(problem, name, kwargs)
    for _ in range(10):
        problem.set_torch_grads(torch_params)
        torch_opt.step()
    for p, q in zip(gk_params, torch_params):
        p.data = q.detach().numpy().copy()
    gk_opt.load_state_dict(torch_opt.state_dict())
    assert all(isinstance(v, gk.Tensor) for s in gk_opt.state.values() for v in s.values())
    run_and_compare(problem, gk_params, torch_params, gk_opt, torch_opt, steps=15)


def test_float32_stays_float32_and_matches_torch():
    problem = SmallNet()
    init = [a.astype(np.float32) for a in problem.init]
    gk_params = [gk.tensor(a.copy(), requires_grad=True) for a in init]
    torch_params = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    gk_opt = optim.Adam(gk_params, lr=0.01, amsgrad=True, weight_decay=0.01)
    torch_opt = torch.optim.Adam(torch_params, lr=0.01, amsgrad=True, weight_decay=0.01)
    x, y = problem.x.astype(np.float32), problem.y.astype(np.float32)
    for _ in range(STEPS):
        gk_opt.zero_grad()
        torch_opt.zero_grad()
        SmallNet._loss(gk.tensor(x), gk.tensor(y), *gk_params).backward()
        SmallNet._loss(torch.tensor(x), torch.tensor(y), *torch_params).backward()
        gk_opt.step()
        torch_opt.step()
    for p, q in zip(gk_params, torch_params):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    for state in gk_opt.state.values():
        assert all(state[k].dtype == np.float32 for k in ("exp_avg", "exp_avg_sq"))


# ----- the notes' momentum forms (docstring of SGD) -----
def _notes_momentum(problem, lrs, mu, nesterov):
    x = [a.copy() for a in problem.init]
    v = [np.zeros_like(a) for a in x]
    for lr in lrs:
        grads = problem._grads(x)
        for i, g in enumerate(grads):
            v_prev = v[i].copy()
            v[i] = mu * v[i] - lr * g
            x[i] += -mu * v_prev + (1 + mu) * v[i] if nesterov else v[i]
    return x


def _torch_form(problem, lrs, mu, nesterov):
    params = [gk.tensor(a.copy(), requires_grad=True) for a in problem.init]
    opt = optim.SGD(params, lr=lrs[0], momentum=mu, nesterov=nesterov)
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        problem.set_gk_grads(params)
        opt.step()
    return [p.numpy() for p in params]


@pytest.mark.parametrize("nesterov", [False, True])
def test_notes_momentum_equals_torch_form_for_constant_lr(nesterov):
    problem = Quadratic()
    lrs = [0.05] * STEPS
    for a, b in zip(_notes_momentum(problem, lrs, 0.9, nesterov),
                    _torch_form(problem, lrs, 0.9, nesterov)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_notes_momentum_differs_once_lr_changes(nesterov):
    problem = Quadratic()
    lrs = [0.05] * 10 + [0.005] * 15
    diffs = [np.abs(a - b).max() for a, b in zip(_notes_momentum(problem, lrs, 0.9, nesterov),
                                                 _torch_form(problem, lrs, 0.9, nesterov))]
    assert max(diffs) > 1e-3


# ----- bookkeeping and bad input -----
def _param(shape=(3,)):
    return gk.tensor(np.ones(shape), requires_grad=True)


def test_step_without_gradients_is_a_no_op():
    p = _param()
    opt = optim.Adam([p], lr=0.1)
    assert opt.step() is None
    np.testing.assert_array_equal(p.numpy(), np.ones(3))
    assert len(opt.state) == 0 and opt.state_dict()["state"] == {}


def test_params_without_grad_are_skipped():
    p, q = _param(), _param()
    q.grad = gk.tensor(np.full(3, 2.0))
    opt = optim.SGD([p, q], lr=0.5)
    opt.step()
    np.testing.assert_array_equal(p.numpy(), np.ones(3))
    np.testing.assert_array_equal(q.numpy(), np.zeros(3))
    assert len(opt.state) == 0  # plain SGD keeps no state, as in PyTorch


def test_closure_is_called_with_grad_enabled_and_its_loss_returned():
    p = _param()
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with gk.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 3.0
    np.testing.assert_allclose(p.numpy(), np.full(3, 0.8))


def test_zero_grad():
    p = _param()
    p.grad = gk.tensor(np.ones(3))
    opt = optim.SGD([p])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
    opt.zero_grad()
    assert p.grad is None


def test_unknown_option_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="momentun"):
        optim.SGD([_param()], lr=0.1, momentun=0.9)
    with pytest.raises(TypeError, match="momentun"):
        optim.SGD([{"params": [_param()], "momentun": 0.9}], lr=0.1)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "LBFGS",
                                  "Newton"])
def test_negative_learning_rate_is_rejected(name):
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        getattr(optim, name)([_param()], lr=-0.1)


def test_negative_group_learning_rate_is_rejected():
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD([{"params": [_param()], "lr": -1.0}], lr=0.1)


def test_parameter_listed_twice_is_rejected():
    p = _param()
    with pytest.raises(ValueError, match="listed twice"):
        optim.SGD([p, _param(), p], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="listed twice"):
        opt.add_param_group({"params": [p]})


def test_other_bad_params():
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(_param(), lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ndarray"):
        optim.SGD([np.ones(3)], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD([{"params": {_param()}}], lr=0.1)
    leaf = _param()
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([leaf * 2], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([leaf], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="differentiable"):
        optim.Adam([leaf], differentiable=True)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([leaf], betas=(0.9, 1.0))


def test_add_param_group_fills_defaults_and_named_params():
    p, q = _param(), _param()
    opt = optim.SGD([("w", p)], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["param_names"] == ["w"]
    opt.add_param_group({"params": [("b", q)], "lr": 0.01})
    group = opt.param_groups[1]
    assert group["lr"] == 0.01 and group["momentum"] == 0.9 and group["params"][0] is q
    assert opt.state_dict()["param_groups"][1]["params"] == [1]


def test_load_state_dict_rejects_mismatched_groups():
    opt = optim.SGD([_param(), _param()], lr=0.1)
    other = optim.SGD([_param()], lr=0.1)
    with pytest.raises(ValueError, match="1 parameters in group 0"):
        opt.load_state_dict(other.state_dict())
