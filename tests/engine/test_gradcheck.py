"""gradcheck passes on every op in float64 and fails, usefully, on a wrong backward."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import Function, GradcheckError, gradcheck, numerical_grad


def _leaf(shape, low=-2.0, high=2.0, seed=0):
    data = np.random.default_rng(seed).uniform(low, high, shape)
    return gk.tensor(data, requires_grad=True)


OPS = {
    "add": (lambda a, b: a + b, [(3, 4), (4,)]),
    "sub": (lambda a, b: a - b, [(3, 1), (4,)]),
    "mul": (lambda a, b: a * b, [(3, 4), (3, 4)]),
    "div": (lambda a, b: a / (b * b + 1.0), [(3, 4), (4,)]),
    "pow": (lambda a, b: (a * a + 0.5) ** b, [(3, 4), (3, 4)]),
    "pow_scalar": (lambda a: a ** 3, [(3, 4)]),
    "rpow": (lambda a: 1.7 ** a, [(5,)]),
    "neg": (lambda a: -a, [(3,)]),
    "matmul": (lambda a, b: a @ b, [(3, 4), (4, 2)]),
    "matmul_batched": (lambda a, b: a @ b, [(2, 3, 4), (4,)]),
    "exp": (lambda a: a.exp(), [(3, 4)]),
    "log": (lambda a: (a * a + 0.1).log(), [(3, 4)]),
    "sqrt": (lambda a: (a * a + 0.1).sqrt(), [(3, 4)]),
    "abs": (lambda a: (a + 0.05).abs(), [(3, 4)]),
    "tanh": (lambda a: a.tanh(), [(3, 4)]),
    "sigmoid": (lambda a: a.sigmoid(), [(3, 4)]),
    "relu": (lambda a: (a + 0.05).relu(), [(3, 4)]),
    "leaky_relu": (lambda a: gk.leaky_relu(a + 0.05, 0.2), [(3, 4)]),
    "elu": (lambda a: gk.elu(a + 0.05, 1.3), [(3, 4)]),
    "softplus": (lambda a: gk.softplus(a, beta=1.5), [(3, 4)]),
    "gelu": (lambda a: gk.gelu(a), [(3, 4)]),
    "gelu_tanh": (lambda a: gk.gelu(a, approximate="tanh"), [(3, 4)]),
    "clamp": (lambda a: (a + 0.05).clamp(-1.0, 1.0), [(3, 4)]),
    "maximum": (lambda a, b: gk.maximum(a, b), [(3, 4), (4,)]),
    "minimum": (lambda a, b: gk.minimum(a, b), [(3, 4), (3, 1)]),
    "where": (lambda a, b: gk.where(a > 0, a * 2, b), [(3, 4), (3, 4)]),
    "sum": (lambda a: a.sum(dim=1), [(3, 4)]),
    "mean": (lambda a: a.mean(dim=(0, 2), keepdim=True), [(2, 3, 4)]),
    "var": (lambda a: a.var(dim=0), [(3, 4)]),
    "std": (lambda a: a.std(), [(3, 4)]),
    "max": (lambda a: a.max(dim=1).values, [(3, 4)]),
    "min_all": (lambda a: a.min(), [(3, 4)]),
    "logsumexp": (lambda a: a.logsumexp(dim=-1), [(3, 4)]),
    "softmax": (lambda a: a.softmax(dim=1), [(3, 4)]),
    "log_softmax": (lambda a: a.log_softmax(dim=0), [(3, 4)]),
    "reshape": (lambda a: a.reshape(4, 3) * gk.arange(3.0).double(), [(3, 4)]),
    "permute": (lambda a: a.permute(1, 2, 0), [(2, 3, 4)]),
    "transpose": (lambda a: a.transpose(0, 1), [(2, 3)]),
    "squeeze_unsqueeze": (lambda a: a.unsqueeze(0).squeeze(), [(3, 1)]),
    "expand": (lambda a: a.expand(2, 3, 4), [(3, 1)]),
    "flatten": (lambda a: a.flatten(1), [(2, 3, 2)]),
    "cat": (lambda a, b: gk.cat([a, b], dim=1), [(2, 3), (2, 2)]),
    "stack": (lambda a, b: gk.stack([a, b]), [(2, 3), (2, 3)]),
    "split": (lambda a: a.split(2)[1] * 3, [(5, 2)]),
    "chunk": (lambda a: a.chunk(2, dim=1)[0], [(2, 5)]),
    "pad": (lambda a: gk.pad(a, (1, 2)), [(2, 3)]),
    "pad_reflect": (lambda a: gk.pad(a, (2, 1), mode="reflect"), [(2, 4)]),
    "index_repeat": (lambda a: a[[0, 2, 0]], [(3, 4)]),
    "index_mask": (lambda a: a[a > 0], [(3, 4)]),
    "index_slice": (lambda a: a[1:, ::2], [(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_every_op(name):
    fn, shapes = OPS[name]
    inputs = tuple(_leaf(s, seed=i) for i, s in enumerate(shapes))
    assert gradcheck(fn, inputs)


class WrongSquare(Function):
    """out = x², with a deliberately wrong backward (forgets the factor 2)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return g * self.x


def test_gradcheck_fails_on_a_wrong_backward_with_a_useful_message():
    x = _leaf((2, 3))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: WrongSquare.apply(t), (x,))
    message = str(info.value)
    assert "input 0" in message and "shape (2, 3)" in message and "at element (" in message
    assert "analytic" in message and "numerical" in message and "relative error" in message
    assert gradcheck(lambda t: WrongSquare.apply(t), (x,), raise_exception=False) is False


def test_gradcheck_refuses_float32_and_says_why():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, (gk.randn(3, requires_grad=True),))


def test_gradcheck_leaves_existing_grads_alone():
    x = _leaf((3,))
    (x * 2).sum().backward()
    gradcheck(lambda t: t.exp(), (x,))
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_numerical_grad_matches_the_formula():
    x = gk.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    (grad,) = numerical_grad(lambda t: (t ** 3).sum(), (x,))
    np.testing.assert_allclose(grad, 3 * x.numpy() ** 2, rtol=1e-8)
    (grad,) = numerical_grad(lambda t: t * t, x, grad_output=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(grad, 2 * x.numpy() * [1, 2, 3], rtol=1e-8)
