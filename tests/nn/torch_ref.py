"""Compare a gradkit layer with the same PyTorch layer: same weights, same input, same upstream
gradient; forward values, the input's gradient and every parameter's gradient must agree.

    run_pair(nn.Linear(5, 3), torch.nn.Linear(5, 3), x)   # copies gradkit's weights to torch
"""

import numpy as np
import torch

import gradkit as gk
from gradkit.autograd import gradcheck

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-5)}


def to_torch_state(module):
    """gradkit state_dict -> a dict of torch tensors (through NumPy, as a user would)."""
    return {k: torch.from_numpy(np.array(v.numpy())) for k, v in module.state_dict().items()}


def from_torch_state(module):
    """torch state_dict -> a dict of NumPy arrays."""
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def prepare(gk_module, torch_module, dtype):
    """Both modules in ``dtype`` with gradkit's weights copied into the torch one."""
    gk_module.to(dtype)
    torch_module.to(torch.float64 if dtype == np.float64 else torch.float32)
    torch_module.load_state_dict(to_torch_state(gk_module))


def run_pair(gk_module, torch_module, x, dtype=np.float64, train=True, seed=1, tol=None,
             copy_weights=True, grad_input=True):
    """One forward and backward through both; assert outputs and gradients agree."""
    tol = tol or TOL[dtype]
    if copy_weights:
        prepare(gk_module, torch_module, dtype)
    gk_module.train(train)
    torch_module.train(train)
    x = np.asarray(x, dtype)
    xt = torch.tensor(x, requires_grad=grad_input)
    xg = gk.tensor(x, requires_grad=grad_input)
    out_t, out_g = torch_module(xt), gk_module(xg)
    assert out_g.shape == tuple(out_t.shape)
    assert out_g.dtype == dtype
    np.testing.assert_allclose(out_g.numpy(), out_t.detach().numpy(), **tol,
                               err_msg="forward differs")
    upstream = np.random.default_rng(seed).standard_normal(out_g.shape).astype(dtype)
    out_t.backward(torch.tensor(upstream))
    out_g.backward(gk.tensor(upstream))
    if grad_input:
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), **tol,
                                   err_msg="input gradient differs")
    torch_params = dict(torch_module.named_parameters())
    for name, p in gk_module.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad.numpy(), torch_params[name].grad.numpy(), **tol,
                                   err_msg=f"gradient of {name} differs")
    torch_buffers = dict(torch_module.named_buffers())
    for name, b in gk_module.named_buffers():
        np.testing.assert_allclose(b.numpy(), torch_buffers[name].numpy(), **tol,
                                   err_msg=f"buffer {name} differs")
    gk_module.zero_grad()
    torch_module.zero_grad()
    return out_g


def random_array(shape, dtype=np.float64, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def module_gradcheck(module, x_shape, seed=0, reseed=None):
    """gradcheck of a float64 module with respect to its input and every parameter."""
    module.double()
    x = gk.tensor(random_array(x_shape, seed=seed), requires_grad=True)
    params = list(module.parameters())
    names = [n for n, _ in module.named_parameters()]

    def fn(x, *ps):
        if reseed is not None:
            gk.manual_seed(reseed)
        for name, p in zip(names, ps):
            owner = module.get_submodule(name.rpartition(".")[0])
            owner._parameters[name.rpartition(".")[2]] = p
        return module(x)

    assert gradcheck(fn, (x, *params))
