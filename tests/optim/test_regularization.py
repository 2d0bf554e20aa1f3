"""gradkit.nn.utils: gradient clipping and max-norm against PyTorch, penalties against their
formulas, and the decay / no-decay split of a model's parameters."""

import importlib
import importlib.util
import pathlib

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import optim


def _load_utils():
    try:
        return importlib.import_module("gradkit.nn.utils")
    except ImportError:  # gradkit.nn is being written alongside; load the file on its own
        path = pathlib.Path(gk.__file__).parent / "nn" / "utils.py"
        spec = importlib.util.spec_from_file_location("gradkit_nn_utils", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


utils = _load_utils()
SHAPES = [(4, 3), (5,), (2, 3, 2)]


def _pairs(dtype=np.float64, seed=0, scale=1.0, missing_grad=True):
    """Parameters with random gradients in both frameworks; the last one has no gradient."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES + [(2,)]):
        w = rng.standard_normal(shape).astype(dtype)
        g = (scale * rng.standard_normal(shape)).astype(dtype)
        p, q = gk.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        if not (missing_grad and i == len(SHAPES)):
            p.grad, q.grad = gk.tensor(g.copy()), torch.tensor(g.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_equals_torch(norm_type, max_norm):
    ours, theirs = _pairs()
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, gk.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.numpy(), expected.numpy(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
    grads = [p.grad.numpy() for p in ours if p.grad is not None]
    new_total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    assert float(new_total) <= max_norm * (1 + 1e-9) or max_norm > float(total)
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_clip_grad_norm_float32_and_inputs():
    ours, theirs = _pairs(np.float32)
    total = utils.clip_grad_norm_((p for p in ours), 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.dtype == np.float32 and ours[0].grad.dtype == np.float32
    np.testing.assert_allclose(total.numpy(), expected.numpy(), rtol=1e-5)
    for p, q in zip(ours[:-1], theirs[:-1]):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5)
    single = gk.tensor(np.ones(4), requires_grad=True)
    single.grad = gk.tensor(np.full(4, 3.0))
    assert float(utils.clip_grad_norm_(single, 1.0)) == 6.0
    np.testing.assert_allclose(single.grad.numpy(), np.full(4, 0.5 * 6 / (6 + 1e-6)))
    empty = utils.clip_grad_norm_([gk.tensor(np.ones(2), requires_grad=True)], 1.0)
    assert float(empty) == 0.0


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_clip_grad_norm_nonfinite():
    ours, theirs = _pairs()
    ours[0].grad.numpy()[0, 0] = np.inf
    theirs[0].grad[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert float(total) == float(expected) == np.inf
    for p, q in zip(ours[:-1], theirs[:-1]):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clip_grad_value_equals_torch():
    ours, theirs = _pairs(scale=3.0)
    utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours[:-1], theirs[:-1]):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert max(np.abs(p.grad.numpy()).max() for p in ours[:-1]) == 1.5


@pytest.mark.parametrize("shape", [(6, 4), (5, 3, 2, 2), (4, 2, 3)])
def test_max_norm_equals_torch_renorm(shape):
    rng = np.random.default_rng(3)
    w = rng.standard_normal(shape)
    w[0] *= 0.01  # one unit well inside the ball stays exactly as it was
    p = gk.tensor(w.copy(), requires_grad=True)
    bias = gk.tensor(np.full(shape[0], 10.0), requires_grad=True)
    utils.max_norm_([p, bias], max_norm=1.0)
    expected = torch.renorm(torch.tensor(w), 2, 0, 1.0).numpy()
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12)
    norms = np.linalg.norm(p.numpy().reshape(shape[0], -1), axis=1)
    assert np.all(norms <= 1.0) and np.any(norms > 1.0 - 1e-6)
    np.testing.assert_array_equal(p.numpy()[0], w[0])
    np.testing.assert_array_equal(bias.numpy(), np.full(shape[0], 10.0))


def test_max_norm_keeps_float32():
    p = gk.tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32) * 5)
    utils.max_norm_(p, 2.0)
    assert p.dtype == np.float32
    assert np.linalg.norm(p.numpy(), axis=1).max() <= 2.0


def _weights(seed=4):
    rng = np.random.default_rng(seed)
    return [gk.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]


def test_l1_and_l2_penalties_values_and_gradients():
    params = _weights()
    arrays = [p.numpy() for p in params]
    l1, l2 = utils.l1_penalty(params), utils.l2_penalty(params)
    assert l1.shape == () and l2.shape == ()
    np.testing.assert_allclose(float(l1), sum(np.abs(a).sum() for a in arrays), rtol=1e-13)
    np.testing.assert_allclose(float(l2), 0.5 * sum((a * a).sum() for a in arrays), rtol=1e-13)
    (0.3 * l1 + 2.0 * l2).backward()
    for p, a in zip(params, arrays):
        np.testing.assert_allclose(p.grad.numpy(), 0.3 * np.sign(a) + 2.0 * a, rtol=1e-13)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.3, 1.0])
def test_elastic_net_penalty(l1_ratio):
    params = _weights()
    value = utils.elastic_net_penalty(params, l1_ratio)
    expected = (l1_ratio * float(utils.l1_penalty(params))
                + (1 - l1_ratio) * float(utils.l2_penalty(params)))
    np.testing.assert_allclose(float(value), expected, rtol=1e-13)
    assert gk.autograd.gradcheck(lambda *ps: utils.elastic_net_penalty(ps, l1_ratio),
                                 [p.detach().requires_grad_() for p in params])
    with pytest.raises(ValueError, match="l1_ratio"):
        utils.elastic_net_penalty(params, 1.5)


def test_l2_penalty_equals_coupled_weight_decay():
    """loss + λ·l2_penalty stepped by plain SGD == loss stepped by SGD(weight_decay=λ)."""
    target = np.arange(12.0).reshape(4, 3)
    a, b = _weights(), _weights()
    opt_a = optim.SGD(a, lr=0.1, momentum=0.9)
    opt_b = optim.SGD(b, lr=0.1, momentum=0.9, weight_decay=0.05)
    for _ in range(10):
        for params, opt, lam in ((a, opt_a, 0.05), (b, opt_b, 0.0)):
            opt.zero_grad()
            loss = ((params[0] - gk.tensor(target)) ** 2).sum() + sum(p.sum() for p in params[1:])
            if lam:
                loss = loss + lam * utils.l2_penalty(params)
            loss.backward()
            opt.step()
    for p, q in zip(a, b):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-12)


class _Leaf:
    """A duck-typed module: named_parameters(recurse=False) over its own tensors."""

    def __init__(self, **params):
        self.params = params

    def named_parameters(self, recurse=True):
        return list(self.params.items())


class LayerNorm(_Leaf):
    pass


class _Model:
    def __init__(self):
        self.fc = _Leaf(weight=gk.tensor(np.ones((3, 4)), requires_grad=True),
                        bias=gk.tensor(np.ones(3), requires_grad=True))
        self.norm = LayerNorm(weight=gk.tensor(np.ones((1, 3)), requires_grad=True))
        self.emb = _Leaf(table=gk.tensor(np.ones((5, 3)), requires_grad=True),
                         frozen=gk.tensor(np.ones((5, 3))))
        self.mods = {"fc": self.fc, "norm": self.norm, "emb": self.emb}

    def named_modules(self):
        return [("", self)] + list(self.mods.items())

    def named_parameters(self, recurse=True):
        if not recurse:
            return []
        return [(f"{m}.{n}", p) for m, mod in self.mods.items()
                for n, p in mod.named_parameters()]


def test_param_groups_weight_decay_split():
    model = _Model()
    decay, no_decay = utils.param_groups_weight_decay(model, 5e-4, no_weight_decay_list=())
    assert decay["weight_decay"] == 5e-4 and no_decay["weight_decay"] == 0.0
    assert [p is model.fc.params["weight"] for p in decay["params"]] == [True, False]
    assert decay["params"][1] is model.emb.params["table"]
    assert {id(p) for p in no_decay["params"]} == {id(model.fc.params["bias"]),
                                                   id(model.norm.params["weight"])}
    skipped = utils.param_groups_weight_decay(model, 1e-3, no_weight_decay_list=["emb.table"])
    assert len(skipped[0]["params"]) == 1 and len(skipped[1]["params"]) == 3

    opt = optim.SGD(utils.param_groups_weight_decay(model, 0.1), lr=1.0)
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = gk.zeros_like(p)
    opt.step()
    np.testing.assert_allclose(model.fc.params["weight"].numpy(), 0.9)
    np.testing.assert_allclose(model.fc.params["bias"].numpy(), 1.0)
    np.testing.assert_allclose(model.norm.params["weight"].numpy(), 1.0)


def test_param_groups_weight_decay_on_a_gradkit_model():
    nn = pytest.importorskip("gradkit.nn")
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    decay, no_decay = utils.param_groups_weight_decay(model, 1e-4)
    assert [tuple(p.shape) for p in decay["params"]] == [(3, 4), (2, 3)]
    assert sorted(tuple(p.shape) for p in no_decay["params"]) == [(2,), (3,), (3,), (3,)]
