"""Issue 16: the PyTorch names textbook code uses, compared with PyTorch itself.

Creation functions with size=/dtype=/device=/requires_grad=/generator=/out=, gk.normal,
gk.dot, Tensor.type/t/norm/swapaxes, format specs, max/min overloads, devices and gk.cuda."""

import numpy as np
import pytest
import torch

import gradkit as gk


def same(g, t):
    assert g.shape == tuple(t.shape)
    assert g.dtype == np.dtype(str(t.dtype).replace("torch.", ""))


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "randn", "rand"])
def test_sized_creation_takes_pytorchs_keywords(name):
    g_fn, t_fn = getattr(gk, name), getattr(torch, name)
    for args, kwargs in [((2, 3), {}), (((2, 3),), {}), ((), {"size": (2, 3)}),
                         ((), {"size": [4]}), ((2,), {"dtype": gk.float64}),
                         ((3,), {"device": "cpu", "requires_grad": True})]:
        t_kwargs = dict(kwargs, dtype=torch.float64) if "dtype" in kwargs else kwargs
        g, t = g_fn(*args, **kwargs), t_fn(*args, **t_kwargs)
        same(g, t)
        assert g.requires_grad == t.requires_grad
    if name in ("zeros", "ones"):
        np.testing.assert_array_equal(g_fn(size=(2, 2)).numpy(), t_fn(size=(2, 2)).numpy())


def test_size_given_twice_is_refused():
    with pytest.raises(TypeError, match=r"give the size once"):
        gk.zeros(2, size=(3,))


def test_every_creation_function_takes_device_and_requires_grad():
    cpu = gk.device("cpu")
    made = [gk.tensor([1.0, 2.0], device=cpu, requires_grad=True),
            gk.full((2,), 1.5, device="cpu", requires_grad=True),
            gk.arange(0.0, 1.0, 0.25, device="cpu:0", requires_grad=True),
            gk.linspace(0, 1, 5, device=cpu, requires_grad=True),
            gk.eye(3, device="cpu", requires_grad=True),
            gk.normal(0.0, 1.0, size=(2,), device="cpu", requires_grad=True),
            gk.zeros_like(gk.ones(2), device="cpu", requires_grad=True),
            gk.ones_like(gk.ones(2), device=cpu, requires_grad=True),
            gk.randn_like(gk.ones(2), device="cpu", requires_grad=True),
            gk.rand_like(gk.ones(2), device="cpu", requires_grad=True),
            gk.full_like(gk.ones(2), 3.0, device="cpu", requires_grad=True),
            gk.empty_like(gk.ones(2), device="cpu", requires_grad=True)]
    assert all(t.requires_grad and t.is_leaf and t.device == "cpu" for t in made)
    assert gk.randint(0, 5, (3,), device="cpu").dtype == np.int64


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps", gk.device("cuda", 1)])
def test_a_device_other_than_the_cpu_says_gradkit_runs_on_the_cpu(device):
    for make in (lambda: gk.zeros(2, device=device), lambda: gk.tensor([1.0], device=device),
                 lambda: gk.randn(2).to(device), lambda: gk.nn.Linear(2, 3).to(device),
                 lambda: gk.arange(3, device=device)):
        with pytest.raises(RuntimeError, match=r"is not available: gradkit runs on the CPU"):
            make()
    with pytest.raises(RuntimeError, match=r"Tensor.cuda: device 'cuda'"):
        gk.ones(1).cuda()


def test_the_usual_device_choice_resolves_to_the_cpu_and_runs():
    device = gk.device("cuda" if gk.cuda.is_available() else "cpu")
    assert (gk.cuda.is_available(), gk.cuda.device_count()) == (torch.cuda.is_available(), 0)
    assert repr(device) == repr(torch.device("cpu")) == "device(type='cpu')"
    assert str(gk.device("cuda", 1)) == str(torch.device("cuda", 1)) == "cuda:1"
    assert gk.device("cuda:1").index == torch.device("cuda:1").index == 1
    net = gk.nn.Linear(2, 3).to(device)
    x = gk.randn(4, 2).to(device)
    assert net(x).device == device == "cpu" and x.device.type == "cpu"
    assert not x.is_cuda


def test_an_unknown_device_name_is_refused_when_named():
    with pytest.raises(RuntimeError, match=r"unknown device type 'gpu'"):
        gk.device("gpu")
    with pytest.raises(RuntimeError, match=r"zeros: device\(\): unknown device type 'gpu'"):
        gk.zeros(1, device="gpu")


def test_out_receives_the_values_in_place():
    out = gk.empty(3)
    assert gk.zeros(3, out=out) is out and out.tolist() == [0.0, 0.0, 0.0]
    assert gk.arange(3, out=out).tolist() == [0.0, 1.0, 2.0] and out._version == 2
    with pytest.raises(ValueError, match=r"out must be a tensor of the result's shape \(4,\)"):
        gk.ones(4, out=out)


def test_normal_overloads_match_pytorchs_shapes_and_moments():
    gk.manual_seed(0)
    draws = gk.normal(2.0, 0.5, size=(20000,))
    same(draws, torch.normal(2.0, 0.5, size=(20000,)))
    assert abs(draws.mean().item() - 2.0) < 0.02 and abs(draws.std().item() - 0.5) < 0.02
    means, stds = gk.tensor([0.0, 10.0, -10.0]), gk.tensor([1e-6, 1e-6, 1e-6])
    same(gk.normal(means, stds), torch.normal(torch.zeros(3), torch.ones(3)))
    np.testing.assert_allclose(gk.normal(means, stds).numpy(), [0, 10, -10], atol=1e-4)
    np.testing.assert_allclose(gk.normal(means, 0.0).numpy(), [0, 10, -10])
    same(gk.normal(0.0, gk.ones(2, 3)), torch.normal(0.0, torch.ones(2, 3)))
    same(gk.normal(gk.zeros(2, dtype=gk.float64)), torch.normal(torch.zeros(2).double()))
    with pytest.raises(RuntimeError, match=r"normal expects std >= 0.0, but found std -1"):
        gk.normal(0, -1, (2,))
    with pytest.raises(TypeError, match=r"give the size"):
        gk.normal(0.0, 1.0)


def test_seeded_draws_repeat_and_a_generator_is_used():
    gk.manual_seed(3)
    a = gk.normal(0, 1, size=(4,))
    gk.manual_seed(3)
    assert a.tolist() == gk.normal(0, 1, size=(4,)).tolist()
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    assert gk.randn(3, generator=rng1).tolist() == gk.randn(size=(3,), generator=rng2).tolist()


def test_randint_takes_pytorchs_argument_forms():
    for args, kwargs in [((10, (3,)), {}), ((3, 10, (3,)), {}), ((), {"high": 10, "size": (3,)}),
                         ((10,), {"size": (2, 2)}), ((2, 10), {"size": (3,)})]:
        g, t = gk.randint(*args, **kwargs), torch.randint(*args, **kwargs)
        same(g, t)
    assert set(gk.randint(3, 5, (200,)).tolist()) == {3, 4}
    assert gk.randint(10, size=(500,)).numpy().min() == 0


def test_dot_matches_pytorch():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, -5.0, 6.0])
    ga, gb = gk.tensor(a, requires_grad=True), gk.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    g, t = gk.dot(ga, gb), torch.dot(ta, tb)
    g.backward()
    t.backward()
    assert g.shape == () and g.item() == t.item() == 12.0
    np.testing.assert_array_equal(ga.grad.numpy(), ta.grad.numpy())
    assert ga.dot(gb).item() == 12.0
    with pytest.raises(RuntimeError, match=r"1D tensors expected, but got 2D and 1D tensors"):
        gk.dot(gk.ones(2, 2), gk.ones(2))
    with pytest.raises(RuntimeError, match=r"same length, got 3 and 2"):
        gk.dot(gk.ones(3), gk.ones(2))


def test_type_casts_like_pytorch_and_names_the_type():
    x, t = gk.tensor([1.7, -2.2]), torch.tensor([1.7, -2.2])
    assert x.type() == "gradkit.FloatTensor" and t.type() == "torch.FloatTensor"
    assert gk.tensor([1, 2]).type() == "gradkit.LongTensor"
    same(x.type(gk.float64), t.type(torch.float64))
    assert x.type(gk.int64).tolist() == t.type(torch.int64).tolist() == [1, -2]
    assert x.type("torch.DoubleTensor").dtype == np.float64
    y = gk.tensor([0, 1, 2])
    assert (x.sum() > 0).type(y.dtype).dtype == np.int64
    with pytest.raises(ValueError, match=r"unknown tensor type 'torch.FooTensor'"):
        x.type("torch.FooTensor")


def test_t_transposes_matrices_and_refuses_3d():
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(gk.tensor(a).t().numpy(), torch.tensor(a).t().numpy())
    assert gk.ones(3).t().shape == torch.ones(3).t().shape == (3,)
    assert gk.tensor(2.0).t().shape == ()
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions, "
                                           r"but self is 3D"):
        gk.ones(2, 3, 4).t()


def test_swapaxes_and_swapdims_are_transpose():
    a = np.arange(24.0).reshape(2, 3, 4)
    for name in ("swapaxes", "swapdims"):
        g, t = getattr(gk.tensor(a), name)(0, 2), getattr(torch.tensor(a), name)(0, 2)
        np.testing.assert_array_equal(g.numpy(), t.numpy())


@pytest.mark.parametrize("p", [2, "fro", 1, 3, float("inf"), float("-inf")])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (1, True), ((0, 1), False)])
def test_norm_matches_pytorch_values_and_gradients(p, dim, keepdim):
    if p in (float("inf"), float("-inf")) and isinstance(dim, tuple):
        pytest.skip("inf-norms take one dim here")
    a = np.random.default_rng(0).uniform(-2, 2, (3, 4))
    g, t = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    gn, tn = g.norm(p, dim, keepdim), t.norm(p, dim, keepdim)
    np.testing.assert_allclose(gn.numpy(), tn.detach().numpy(), rtol=1e-12)
    gn.sum().backward()
    tn.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_norm_of_zeros_has_zero_gradient_as_in_pytorch():
    g, t = gk.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    g.norm().backward()
    t.norm().backward()
    assert g.grad.tolist() == t.grad.tolist() == [0.0, 0.0, 0.0]
    assert gk.norm(gk.tensor([3.0, 4.0])).item() == 5.0
    assert gk.ones(2).norm(p=-1).item() == torch.ones(2).norm(p=-1).item() == 0.5
    assert gk.tensor([0.0, 2.0, 3.0]).norm(p=0).item() == 2.0


def test_format_spec_on_one_element_tensors():
    loss = gk.tensor(0.123456)
    assert f"{loss:.3f}" == f"{torch.tensor(0.123456):.3f}" == "0.123"
    assert f"{loss}" == f"{torch.tensor(0.123456)}"
    assert format(gk.tensor([2.5]), ".2f") == "2.50"
    assert f"{gk.tensor(7):>4d}" == "   7"
    assert f"{gk.ones(2)}" == str(gk.ones(2))
    with pytest.raises(TypeError, match=r"needs a one-element tensor, got shape \(2,\)"):
        format(gk.ones(2), ".3f")


def test_max_and_min_take_the_dim_as_a_0d_tensor_or_numpy_int():
    a = np.random.default_rng(1).normal(size=(3, 4))
    g, t = gk.tensor(a), torch.tensor(a)
    for dim_g, dim_t in [(gk.tensor(1), torch.tensor(1)), (np.int64(0), np.int64(0))]:
        for op in ("max", "min"):
            gv, tv = getattr(g, op)(dim=dim_g), getattr(t, op)(dim=dim_t)
            np.testing.assert_array_equal(gv.values.numpy(), tv.values.numpy())
            np.testing.assert_array_equal(gv.indices.numpy(), tv.indices.numpy())
    assert g.max(np.int64(1)).indices.tolist() == t.max(1).indices.tolist()
    with pytest.raises(TypeError, match=r"max\(dim=...\) takes a single int dim, got 1.5"):
        g.max(dim=1.5)


def test_max_and_min_with_a_tensor_are_elementwise():
    a, b = np.random.default_rng(2).normal(size=(2, 3, 4))
    ga, gb = gk.tensor(a, requires_grad=True), gk.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    for op in ("max", "min"):
        gk_out, torch_out = getattr(gk, op)(ga, gb), getattr(torch, op)(ta, tb)
        np.testing.assert_array_equal(gk_out.numpy(), torch_out.detach().numpy())
        gk_out.sum().backward()
        torch_out.sum().backward()
    np.testing.assert_array_equal(ga.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(ga.max(gb).numpy(), ta.max(tb).detach().numpy())
    np.testing.assert_array_equal(gk.max(ga, other=gb).numpy(), torch.max(ta, other=tb)
                                  .detach().numpy())
    assert gk.max(gk.tensor([1.0, 5.0]), gk.tensor(3)).tolist() == [3.0, 5.0]
    with pytest.raises(TypeError, match=r"takes no dim or keepdim"):
        gk.max(ga, gb, True)


def test_a_refused_device_leaves_the_random_generator_untouched():
    gk.manual_seed(4)
    for draw in (gk.randn, gk.rand):
        with pytest.raises(RuntimeError, match=r"gradkit runs on the CPU"):
            draw(3, device="cuda")
    with pytest.raises(RuntimeError, match=r"normal: device 'mps'"):
        gk.normal(0.0, 1.0, size=(3,), device="mps")
    with pytest.raises(RuntimeError, match=r"randint: device 'cuda'"):
        gk.randint(5, (3,), device="cuda")
    after = gk.randn(3).tolist()
    gk.manual_seed(4)
    assert gk.randn(3).tolist() == after
