"""Issue 11, item 2: the activations, functional and module, against PyTorch (values and
gradients, float64 and float32), gradcheck in float64, edge shapes and errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis.extra.numpy import array_shapes

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd.check import gradcheck
from oracle import check

F64, F32 = np.float64, np.float32
S = [(3, 4)]

# (id, shapes, torch_fn, gradkit_fn): the same call on torch.nn.functional and gradkit's F
FUNCTIONAL = [
    ("silu", S, lambda a: TF.silu(a), lambda a: F.silu(a)),
    ("mish", S, lambda a: TF.mish(a), lambda a: F.mish(a)),
    ("hardswish", S, lambda a: TF.hardswish(a * 3), lambda a: F.hardswish(a * 3)),
    ("hardsigmoid", S, lambda a: TF.hardsigmoid(a * 3), lambda a: F.hardsigmoid(a * 3)),
    ("hardtanh", S, lambda a: TF.hardtanh(a, -0.5, 1.2), lambda a: F.hardtanh(a, -0.5, 1.2)),
    ("relu6", S, lambda a: TF.relu6(a * 5), lambda a: F.relu6(a * 5)),
    ("selu", S, lambda a: TF.selu(a), lambda a: F.selu(a)),
    ("celu", S, lambda a: TF.celu(a, 0.6), lambda a: F.celu(a, 0.6)),
    ("softsign", S, lambda a: TF.softsign(a), lambda a: F.softsign(a)),
    ("logsigmoid", S, lambda a: TF.logsigmoid(a * 20), lambda a: F.logsigmoid(a * 20)),
    ("softmin", S, lambda a: TF.softmin(a, dim=-1), lambda a: F.softmin(a, dim=-1)),
    ("glu", [(3, 4, 2)], lambda a: TF.glu(a, dim=1), lambda a: F.glu(a, dim=1)),
    ("glu_last", [(2, 6)], lambda a: TF.glu(a), lambda a: F.glu(a)),
    ("prelu_channels", [(2, 3, 4), (3,)], lambda a, w: TF.prelu(a, w),
     lambda a, w: F.prelu(a, w)),
    ("prelu_single", [(2, 3), (1,)], lambda a, w: TF.prelu(a, w), lambda a, w: F.prelu(a, w)),
    ("prelu_1d", [(3,), (1,)], lambda a, w: TF.prelu(a, w), lambda a, w: F.prelu(a, w)),
    ("normalize", [(3, 4)], lambda a: TF.normalize(a), lambda a: F.normalize(a)),
    ("normalize_p1_dim0", [(3, 4)], lambda a: TF.normalize(a, p=1, dim=0),
     lambda a: F.normalize(a, p=1, dim=0)),
    ("threshold", S, lambda a: TF.threshold(a, 0.3, -2.0), lambda a: F.threshold(a, 0.3, -2.0)),
]


def _params(table):
    return [pytest.param(*row[1:], id=row[0]) for row in table]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shapes, torch_fn, gk_fn", _params(FUNCTIONAL))
def test_functional_against_torch(shapes, torch_fn, gk_fn, dtype):
    check(shapes, torch_fn, gk_fn, dtype=dtype)


@pytest.mark.parametrize("shapes, torch_fn, gk_fn", _params(FUNCTIONAL))
def test_gradcheck(shapes, torch_fn, gk_fn):
    rng = np.random.default_rng(5)
    xs = [gk.tensor(rng.uniform(-2, 2, size=s), requires_grad=True) for s in shapes]
    assert gradcheck(gk_fn, tuple(xs))


@settings(max_examples=15, deadline=None)
@given(shape=array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
def test_elementwise_activations_any_shape(shape):
    for _, _, torch_fn, gk_fn in FUNCTIONAL[:10]:
        check([shape], torch_fn, gk_fn)


def test_kinks_match_torch():
    a = np.array([-3.0, 3.0, -1.0, 1.0, 0.0, 0.3, 6.0])
    for name in ("hardswish", "hardsigmoid", "hardtanh", "relu6"):
        check([], getattr(TF, name), getattr(F, name), arrays=[a])
    check([], lambda x: TF.threshold(x, 0.3, 5.0), lambda x: F.threshold(x, 0.3, 5.0),
          arrays=[a])


def test_normalize_of_a_zero_vector_is_zero_with_zero_gradient():
    check([], lambda a: TF.normalize(a, dim=-1), lambda a: F.normalize(a, dim=-1),
          arrays=[np.array([[0.0, 0.0], [3.0, 4.0]])])


MODULES = [
    ("SiLU", (), {}), ("Mish", (), {}), ("Hardswish", (), {}), ("Hardsigmoid", (), {}),
    ("Hardtanh", (-0.5, 0.7), {}), ("ReLU6", (), {}), ("SELU", (), {}), ("CELU", (0.5,), {}),
    ("Softsign", (), {}), ("LogSigmoid", (), {}), ("Softmin", (), {"dim": 1}),
    ("GLU", (), {"dim": 0}), ("Threshold", (0.1, 20.0), {}),
]


@pytest.mark.parametrize("name, args, kwargs", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch_and_repr(name, args, kwargs):
    tm, gm = getattr(torch.nn, name)(*args, **kwargs), getattr(gk.nn, name)(*args, **kwargs)
    check([(4, 6)], tm, gm)
    assert repr(gm) == repr(tm)


def test_prelu_module_init_state_dict_and_gradient():
    torch.manual_seed(0)
    tm, gm = torch.nn.PReLU(3), gk.nn.PReLU(3)
    np.testing.assert_array_equal(gm.weight.numpy(), np.full(3, 0.25, np.float32))
    assert repr(gm) == repr(tm) and list(gm.state_dict()) == list(tm.state_dict())
    with torch.no_grad():
        tm.weight.copy_(torch.tensor([0.1, -0.3, 0.7]))
    gm.load_state_dict({k: gk.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 5)).astype(F32)
    tx, gx = torch.tensor(x), gk.tensor(x)
    tm(tx).sum().backward()
    gm(gx).sum().backward()
    np.testing.assert_allclose(gm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5)


def test_bad_arguments_are_value_and_runtime_errors():
    with pytest.raises(RuntimeError, match="glu: halving dimension must be even, but "
                                           "dimension 1 is size 3"):
        F.glu(gk.zeros(2, 3), dim=1)
    with pytest.raises(ValueError, match="prelu: weight has 4 parameters but the input"):
        F.prelu(gk.zeros(2, 3), gk.zeros(4))
    with pytest.raises(RuntimeError, match="hardtanh: min_val"):
        F.hardtanh(gk.zeros(2), 1.0, -1.0)
