"""The in-place twins (methods/inplace.py) against PyTorch: values, dtypes, the version counter,
and gradients when the change is recorded in the graph."""

import numpy as np
import pytest
import torch

import gradkit as gk

RNG = np.random.default_rng(0)


def _lib_args(lib, args):
    return [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in args]


# (method, args, low, high): x drawn uniformly in [low, high)
UNARY = [
    ("neg_", (), -2, 2), ("negative_", (), -2, 2), ("abs_", (), -2, 2),
    ("absolute_", (), -2, 2), ("exp_", (), -2, 2), ("exp2_", (), -2, 2), ("expm1_", (), -2, 2),
    ("log_", (), 0.5, 2), ("log2_", (), 0.5, 2), ("log10_", (), 0.5, 2), ("log1p_", (), 0, 2),
    ("sqrt_", (), 0.5, 2), ("rsqrt_", (), 0.5, 2), ("square_", (), -2, 2),
    ("reciprocal_", (), 0.5, 2), ("sin_", (), -2, 2), ("cos_", (), -2, 2), ("tan_", (), -1, 1),
    ("asin_", (), -0.9, 0.9), ("arcsin_", (), -0.9, 0.9), ("acos_", (), -0.9, 0.9),
    ("arccos_", (), -0.9, 0.9), ("atan_", (), -2, 2), ("arctan_", (), -2, 2),
    ("sinh_", (), -2, 2), ("cosh_", (), -2, 2), ("asinh_", (), -2, 2), ("arcsinh_", (), -2, 2),
    ("acosh_", (), 1.5, 3), ("arccosh_", (), 1.5, 3), ("atanh_", (), -0.9, 0.9),
    ("arctanh_", (), -0.9, 0.9), ("erf_", (), -2, 2), ("erfinv_", (), -0.9, 0.9),
    ("sigmoid_", (), -2, 2), ("tanh_", (), -2, 2), ("relu_", (), -2, 2),
    ("clip_", (-0.5, 0.5), -2, 2), ("clamp_min_", (0.3,), -2, 2), ("clamp_max_", (0.3,), -2, 2),
    ("pow_", (3,), -2, 2), ("pow_", (0.5,), 0.5, 2), ("sign_", (), -2, 2), ("sgn_", (), -2, 2),
    ("floor_", (), -2, 2), ("ceil_", (), -2, 2), ("round_", (), -2, 2), ("trunc_", (), -2, 2),
    ("fix_", (), -2, 2), ("frac_", (), -2, 2), ("fmod_", (0.7,), -2, 2),
    ("remainder_", (0.7,), -2, 2), ("multiply_", (1.5,), -2, 2), ("divide_", (1.5,), -2, 2),
    ("true_divide_", (1.5,), -2, 2), ("subtract_", (1.5,), -2, 2),
    ("nan_to_num_", (), -2, 2), ("sinc_", (), -2, 2), ("deg2rad_", (), -2, 2),
    ("rad2deg_", (), -2, 2), ("logit_", (), 0.1, 0.9), ("logit_", (0.2,), 0, 1),
    ("xlogy_", (2.0,), 0, 2), ("hypot_", (np.full((3, 4), 0.5),), -2, 2),
    ("atan2_", (np.full((3, 4), 0.5),), -2, 2), ("arctan2_", (np.full((3, 4), 0.5),), -2, 2),
    ("copysign_", (np.full((4,), -1.0),), -2, 2),
    ("lerp_", (np.full((3, 4), 0.5), 0.3), -2, 2), ("ldexp_", (np.full((4,), 2.0),), -2, 2),
    ("float_power_", (2.0,), -2, 2), ("renorm_", (2, 0, 1.0), -2, 2),
    ("addcmul_", (np.full((4,), 0.5), np.full((3, 1), 2.0)), -2, 2),
    ("addcdiv_", (np.full((4,), 0.5), np.full((3, 1), 2.0)), -2, 2),
    ("cumsum_", (1,), -2, 2), ("cumprod_", (0,), -2, 2), ("tril_", (), -2, 2),
    ("triu_", (1,), -2, 2), ("heaviside_", (np.full((4,), 0.5),), -1, 1),
]
COMPARE = ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_",
           "less_equal_", "not_equal_", "logical_and_", "logical_or_", "logical_xor_"]
NO_GRAD = {"floor_", "ceil_", "round_", "trunc_", "fix_", "sign_", "sgn_", "heaviside_",
           # torch: "the derivative for 'inplace version of asinh' is not implemented"
           "asinh_", "arcsinh_", "acosh_", "arccosh_", "atanh_", "arctanh_"}


def _x(low, high, dtype=np.float64):
    return RNG.uniform(low, high, (3, 4)).astype(dtype)


@pytest.mark.parametrize("name,args,low,high", UNARY, ids=lambda v: str(v)[:12])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_twin_values_match_torch(name, args, low, high, dtype):
    if name == "float_power_" and dtype == np.float32:
        pytest.skip("float_power_ on float32 raises in torch (tested below)")
    x = _x(low, high, dtype)
    args = [a.astype(dtype) if isinstance(a, np.ndarray) else a for a in args]
    t, g = torch.tensor(x), gk.tensor(x)
    t_out = getattr(t, name)(*_lib_args(torch, args))
    g_out = getattr(g, name)(*_lib_args(gk, args))
    assert g_out is g and g._version == 1
    assert g.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(g.numpy(), t_out.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,args,low,high",
                         [u for u in UNARY if u[0] not in NO_GRAD], ids=lambda v: str(v)[:12])
def test_twin_in_the_graph_gives_torch_gradients(name, args, low, high):
    x = _x(low, high)
    up = RNG.standard_normal((3, 4))
    grads = []
    for lib in (torch, gk):
        leaf = lib.tensor(x, requires_grad=True)
        other = [lib.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) else a
                 for a in args]
        y = leaf * 1.0
        getattr(y, name)(*other)
        (y * lib.tensor(up)).sum().backward()
        grads.append([leaf.grad.numpy()] + [o.grad.numpy() for o in other
                                            if hasattr(o, "grad") and o.grad is not None])
    assert len(grads[0]) == len(grads[1])
    for t_grad, g_grad in zip(*grads):
        np.testing.assert_allclose(g_grad, t_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", COMPARE)
def test_comparison_twins_write_zero_one_in_the_tensor_dtype(name):
    x = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    other = np.array([1.0, 1.0, 0.0])
    t, g = torch.tensor(x), gk.tensor(x)
    getattr(t, name)(torch.tensor(other))
    getattr(g, name)(gk.tensor(other))
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    assert g.dtype == np.float64


@pytest.mark.parametrize("name", ["bitwise_and_", "bitwise_or_", "bitwise_xor_",
                                  "bitwise_left_shift_", "bitwise_right_shift_", "gcd_", "lcm_",
                                  "floor_divide_", "remainder_"])
def test_integer_twins(name):
    x, y = np.array([[12, 7, 3], [5, 8, 9]]), np.array([4, 2, 1])
    t, g = torch.tensor(x), gk.tensor(x)
    getattr(t, name)(torch.tensor(y))
    getattr(g, name)(gk.tensor(y))
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    assert g.dtype == np.int64


def test_bitwise_not_and_logical_not():
    t, g = torch.tensor([3, 0, -2]), gk.tensor([3, 0, -2])
    t.bitwise_not_(), g.bitwise_not_()
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    t, g = torch.tensor([1.5, 0.0]), gk.tensor([1.5, 0.0])
    t.logical_not_(), g.logical_not_()
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_float_result_into_an_integer_tensor_raises_as_torch():
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.tensor([1, 2]).exp_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        gk.tensor([1, 2]).exp_()
    with pytest.raises(RuntimeError):
        torch.tensor([1.0], dtype=torch.float32).float_power_(2)
    with pytest.raises(RuntimeError, match="requires dtype float64"):
        gk.tensor([1.0]).float_power_(2)


def test_broadcast_that_grows_the_tensor_raises():
    with pytest.raises(RuntimeError):
        torch.zeros(3).add_(torch.zeros(2, 3))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        gk.zeros(3).hypot_(gk.zeros(2, 3))


def test_leaf_that_requires_grad_refuses_and_no_grad_allows():
    for lib in (torch, gk):
        w = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            w.exp_()
        with lib.no_grad():
            w.exp_()
        np.testing.assert_allclose(np.asarray(w.detach().numpy()), np.e)


def test_saved_input_changed_by_a_twin_raises_at_backward_as_torch():
    for lib in (torch, gk):
        x = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        y = x * 1.0
        z = y.sin()
        y.cos_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_non_contiguous_input_and_shared_views():
    x = np.arange(6.0).reshape(2, 3)
    t, g = torch.tensor(x).t(), gk.tensor(x).t()
    t.exp_(), g.exp_()
    np.testing.assert_allclose(g.numpy(), t.numpy())
    base = gk.tensor(x)
    row = base[0]
    base.neg_()
    np.testing.assert_array_equal(row.numpy(), -x[0])


def test_empty_and_size_one():
    for shape in [(0,), (1,), (0, 3), ()]:
        t, g = torch.ones(shape), gk.ones(*shape)
        t.tanh_(), g.tanh_()
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6)
        assert g.shape == tuple(t.shape)


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((5, 2), False), ((7, 2), True),
                                        ((2, 5), True), ((3, 3, 3), False), ((0, 0), False)])
def test_fill_diagonal_matches_torch(shape, wrap):
    t, g = torch.zeros(shape), gk.zeros(*shape)
    t.fill_diagonal_(2.5, wrap=wrap)
    g.fill_diagonal_(2.5, wrap=wrap)
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_fill_diagonal_gradient_and_bad_shape():
    x = RNG.standard_normal((3, 4))
    grads = []
    for lib in (torch, gk):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 2.0
        y.fill_diagonal_(1.0)
        y.sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])
    for lib in (torch, gk):
        with pytest.raises(RuntimeError):
            lib.zeros(2, 3, 4).fill_diagonal_(1.0)


@pytest.mark.parametrize("name,args", [("unsqueeze_", (0,)), ("unsqueeze_", (-1,)),
                                       ("squeeze_", ()), ("squeeze_", (1,)), ("t_", ()),
                                       ("transpose_", (0, 2)), ("swapaxes_", (1, -1)),
                                       ("swapdims_", (0, 1))])
def test_view_twins_change_the_shape_like_torch(name, args):
    x = RNG.standard_normal((3, 1, 4)) if name != "t_" else RNG.standard_normal((3, 4))
    t, g = torch.tensor(x), gk.tensor(x)
    assert getattr(g, name)(*args) is g
    getattr(t, name)(*args)
    assert g.shape == tuple(t.shape)
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    assert g._version == 1


def test_view_twin_in_the_graph():
    x = RNG.standard_normal((2, 3))
    up = RNG.standard_normal((3, 2))
    grads = []
    for lib in (torch, gk):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 3.0
        y.t_()
        (y * lib.tensor(up)).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0])
    for lib in (torch, gk):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            lib.ones(2, 3, requires_grad=True).t_()


def test_view_twin_after_a_saving_node_raises_as_torch():
    for lib in (torch, gk):
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        y = x * 1.0
        z = y * y
        y.t_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_detach_():
    for lib in (torch, gk):
        y = lib.ones(2, requires_grad=True) * 2.0
        assert y.detach_() is y
        assert not y.requires_grad and y.grad_fn is None


def test_index_put_():
    x = np.zeros((3, 3))
    idx = (np.array([0, 0, 2]), np.array([1, 1, 0]))
    for acc in (False, True):
        t, g = torch.tensor(x), gk.tensor(x)
        t.index_put_(tuple(map(torch.tensor, idx)), torch.tensor(2.0, dtype=torch.float64),
                     accumulate=acc)
        g.index_put_(tuple(map(gk.tensor, idx)), gk.tensor(2.0, dtype=gk.float64),
                     accumulate=acc)
        np.testing.assert_array_equal(g.numpy(), t.numpy())


@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (6,), (0,), (1, 2, 3)])
def test_resize_(shape):
    t, g = torch.arange(6.0), gk.arange(6.0)
    view = g[1:3]
    t.resize_(*shape), g.resize_(shape)
    assert g.shape == tuple(t.shape)
    n = min(6, int(np.prod(shape)))
    np.testing.assert_array_equal(g.numpy().reshape(-1)[:n], t.numpy().reshape(-1)[:n])
    if 3 <= int(np.prod(shape)) <= 6:  # still the same memory: a view of it sees changes
        g.fill_(-1.0)
        assert view.tolist() == [-1.0, -1.0]
    t2, g2 = torch.zeros(4), gk.zeros(4)
    t2.resize_as_(torch.ones(2, 2)), g2.resize_as_(gk.ones(2, 2))
    assert g2.shape == tuple(t2.shape)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError, match="require grad"):
            lib.ones(2, requires_grad=True).resize_(4)
