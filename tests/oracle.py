"""The PyTorch oracle: run one expression in gradkit and in PyTorch, compare values and grads.

    check([(3, 4), (4,)], lambda a, b: a * b)                         # same code for both
    check([(3, 4)], lambda a: torch.relu(a), lambda a: gk.relu(a))   # or one lambda each

Inputs are random arrays (float64 by default) shared by both frameworks; the backward is seeded
with the same random upstream gradient so non-scalar outputs are checked in full.
"""

import numpy as np
import torch

import gradkit as gk

TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=1e-5)}


def random_inputs(shapes, dtype=np.float64, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def check(shapes, torch_fn, gk_fn=None, dtype=np.float64, low=-2.0, high=2.0, arrays=None,
          grad=True, rtol=None, atol=None, seed=0):
    """Assert gradkit's forward and every input's gradient equal PyTorch's."""
    gk_fn = gk_fn or torch_fn
    tol = dict(TOLERANCE[dtype])
    tol.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
    arrays = arrays if arrays is not None else random_inputs(shapes, dtype, low, high, seed)
    tt = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    gt = [gk.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    t_out, g_out = torch_fn(*tt), gk_fn(*gt)
    if isinstance(t_out, (tuple, list)):
        t_out, g_out = t_out[0], g_out[0]
    assert isinstance(g_out, gk.Tensor), f"gradkit returned {type(g_out).__name__}"
    assert g_out.shape == tuple(t_out.shape), f"shape {g_out.shape} != torch {tuple(t_out.shape)}"
    assert g_out.dtype == np.dtype(str(t_out.dtype).replace("torch.", "")), (
        f"dtype {g_out.dtype} != torch {t_out.dtype}")
    np.testing.assert_allclose(g_out.numpy(), t_out.detach().numpy(), **tol,
                               err_msg="forward values differ")
    if not (grad and t_out.requires_grad):
        return
    upstream = np.random.default_rng(seed + 1).standard_normal(t_out.shape).astype(dtype)
    t_out.backward(torch.tensor(upstream))
    g_out.backward(gk.tensor(upstream))
    for i, (t, g) in enumerate(zip(tt, gt)):
        if not t.requires_grad:
            continue
        expected = np.zeros(t.shape, dtype) if t.grad is None else t.grad.numpy()
        got = np.zeros(g.shape, dtype) if g.grad is None else g.grad.numpy()
        assert got.dtype == dtype, f"grad of input {i} has dtype {got.dtype}"
        np.testing.assert_allclose(got, expected, **tol, err_msg=f"gradient of input {i} differs")
