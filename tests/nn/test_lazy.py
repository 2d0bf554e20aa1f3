"""Lazy layers (issue 16): parameters that exist before the first call, materialized in place,
checked against PyTorch's lazy layers on the same weights and data."""

import copy
import pickle

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn, optim


def torch_state(module):
    return {k: torch.from_numpy(np.array(v.numpy())) for k, v in module.state_dict().items()}


def lenet_pair():
    """The textbook's LeNet with lazy layers, in gradkit and in PyTorch."""
    def build(lib):
        return lib.Sequential(
            lib.LazyConv2d(6, kernel_size=5, padding=2), lib.Sigmoid(),
            lib.AvgPool2d(kernel_size=2, stride=2), lib.LazyConv2d(16, kernel_size=5),
            lib.Sigmoid(), lib.AvgPool2d(kernel_size=2, stride=2), lib.Flatten(),
            lib.LazyLinear(12), lib.Sigmoid(), lib.LazyLinear(10))
    return build(nn), build(torch.nn)


def test_parameters_exist_before_the_first_call_and_become_plain_in_place():
    gk_model, torch_model = lenet_pair()
    before = list(gk_model.parameters())
    assert [type(p).__name__ for p in before] == [type(p).__name__ for p in
                                                  torch_model.parameters()]
    assert all(isinstance(p, nn.UninitializedParameter) for p in before) and len(before) == 8
    assert all(m.has_uninitialized_params() for m in gk_model if hasattr(m, "cls_to_become"))
    gk_model(gk.zeros(2, 1, 28, 28))
    torch_model(torch.zeros(2, 1, 28, 28))
    after = list(gk_model.parameters())
    assert all(a is b for a, b in zip(before, after))
    assert all(type(p) is nn.Parameter for p in after)
    assert [p.shape for p in after] == [tuple(p.shape) for p in torch_model.parameters()]
    assert [type(m).__name__ for m in gk_model] == [type(m).__name__ for m in torch_model]
    assert (gk_model[7].in_features, gk_model[3].in_channels) == (400, 6)


def test_an_optimizer_built_before_the_first_call_trains_like_pytorch():
    gk.manual_seed(0)
    gk_model, torch_model = lenet_pair()
    gk_opt = optim.SGD(gk_model.parameters(), lr=0.9)
    torch_opt = torch.optim.SGD(torch_model.parameters(), lr=0.9)
    x = np.random.default_rng(0).normal(size=(8, 1, 28, 28)).astype(np.float32)
    y = np.arange(8) % 10
    gk_model(gk.tensor(x[:1]))
    torch_model(torch.tensor(x[:1]))
    torch_model.load_state_dict(torch_state(gk_model))
    for _ in range(3):
        for model, opt, lib, loss_fn in ((gk_model, gk_opt, gk, nn.functional.cross_entropy),
                                         (torch_model, torch_opt, torch,
                                          torch.nn.functional.cross_entropy)):
            opt.zero_grad()
            loss_fn(model(lib.tensor(x)), lib.tensor(y)).backward()
            opt.step()
    first = gk_model[0].weight
    assert not np.allclose(first.numpy(), 0) and first is gk_opt.param_groups[0]["params"][0]
    for (name, g), t in zip(gk_model.state_dict().items(), torch_model.state_dict().values()):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def test_apply_after_a_dry_run_sees_the_eager_classes():
    model = nn.Sequential(nn.LazyConv2d(4, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    model(gk.zeros(1, 1, 5, 5))
    seen = []

    def init_cnn(module):  # the textbook's initializer
        if type(module) == nn.Linear or type(module) == nn.Conv2d:
            nn.init.constant_(module.weight, 0.5)
            seen.append(type(module).__name__)

    model.apply(init_cnn)
    assert seen == ["Conv2d", "Linear"]
    assert model[3].weight.numpy().min() == model[3].weight.numpy().max() == 0.5
    assert repr(model[3]) == "Linear(in_features=36, out_features=2, bias=True)"


def test_using_an_uninitialized_parameter_raises_naming_the_layer():
    model = nn.Sequential(nn.LazyLinear(10))
    weight = model[0].weight
    fix = r"Run the model once on a batch first \(a dry run, model\(x\)\)"
    with pytest.raises(RuntimeError, match=r"state_dict\(\): '0.weight' of LazyLinear is an "
                                           r"uninitialized parameter.*" + fix):
        model.state_dict()
    checkpoint = {"0.weight": np.zeros((10, 3)), "0.bias": np.zeros(10)}
    for use in (lambda: weight.numel(), lambda: weight * 2, lambda: weight.shape,
                lambda: nn.init.xavier_uniform_(weight), lambda: model.load_state_dict(checkpoint)):
        with pytest.raises(RuntimeError, match=r"LazyLinear\(out_features=10\).weight is an "
                                               r"uninitialized parameter"):
            use()
    assert repr(weight) == "<UninitializedParameter of LazyLinear(out_features=10).weight>"
    assert repr(model[0]) == repr(torch.nn.LazyLinear(10))


def test_repr_and_summary_counts_skip_uninitialized_parameters():
    model = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.Linear(3, 2))
    text = repr(model)
    assert "(0): LazyLinear(in_features=0, out_features=3, bias=True)\n" in text
    assert text.endswith("# 8 params")


def test_initialize_parameters_by_hand_then_the_first_call_switches_the_class():
    layer = nn.LazyLinear(3, bias=False)
    assert layer.has_uninitialized_params() and layer.bias is None
    layer.initialize_parameters(gk.zeros(2, 5))
    assert not layer.has_uninitialized_params() and layer.weight.shape == (3, 5)
    assert type(layer) is nn.LazyLinear
    assert layer(gk.ones(2, 5)).shape == (2, 3) and type(layer) is nn.Linear


@pytest.mark.parametrize("lazy,torch_lazy,shape,kwargs", [
    (nn.LazyConv1d, torch.nn.LazyConv1d, (2, 4, 9), dict(kernel_size=3, stride=2)),
    (nn.LazyConv2d, torch.nn.LazyConv2d, (2, 4, 7, 6), dict(kernel_size=3, padding=1,
                                                            groups=2)),
    (nn.LazyConv2d, torch.nn.LazyConv2d, (4, 7, 6), dict(kernel_size=(3, 2))),
])
def test_lazy_convolutions_match_pytorch(lazy, torch_lazy, shape, kwargs):
    x = np.random.default_rng(0).normal(size=shape)
    g_layer, t_layer = lazy(6, dtype=gk.float64, **kwargs), torch_lazy(6, dtype=torch.float64,
                                                                       **kwargs)
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g_layer.initialize_parameters(gx)
    t_layer.initialize_parameters(tx)
    t_layer.load_state_dict(torch_state(g_layer))
    g_out, t_out = g_layer(gx), t_layer(tx)
    np.testing.assert_allclose(g_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    g_out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert g_layer.in_channels == t_layer.in_channels == shape[-len(g_layer.kernel_size) - 1]
    assert type(g_layer).__name__ == type(t_layer).__name__


@pytest.mark.parametrize("lazy,torch_lazy,shape", [
    (nn.LazyBatchNorm1d, torch.nn.LazyBatchNorm1d, (6, 3)),
    (nn.LazyBatchNorm1d, torch.nn.LazyBatchNorm1d, (6, 3, 5)),
    (nn.LazyBatchNorm2d, torch.nn.LazyBatchNorm2d, (4, 3, 2, 2)),
])
def test_lazy_batch_norm_matches_pytorch_including_running_statistics(lazy, torch_lazy, shape):
    x = np.random.default_rng(0).normal(2.0, 3.0, size=shape)
    g_layer, t_layer = lazy(dtype=gk.float64), torch_lazy(dtype=torch.float64)
    assert isinstance(g_layer.running_mean, nn.UninitializedBuffer)
    g_out, t_out = g_layer(gk.tensor(x)), t_layer(torch.tensor(x))
    np.testing.assert_allclose(g_out.numpy(), t_out.detach().numpy(), rtol=1e-8, atol=1e-10)
    for key, value in t_layer.state_dict().items():
        np.testing.assert_allclose(g_layer.state_dict()[key].numpy(), value.numpy(),
                                   rtol=1e-10, err_msg=key)
    assert g_layer.num_features == t_layer.num_features == 3


def test_lazy_batch_norm_without_affine_or_running_stats():
    layer = nn.LazyBatchNorm2d(affine=False, track_running_stats=False)
    assert not layer.has_uninitialized_params()
    out = layer(gk.randn(4, 2, 3, 3))
    assert out.shape == (4, 2, 3, 3) and type(layer) is nn.BatchNorm2d
    assert layer.num_features == 2  # PyTorch keeps 0; gradkit's BatchNorm checks channels


def test_bad_first_input_is_refused_and_the_layer_stays_lazy():
    layer = nn.LazyConv2d(4, 3)
    with pytest.raises(ValueError, match=r"LazyConv2d\(out_channels=4, kernel_size=\(3, 3\)\): "
                                         r"expected input \(N, C, H, W\) or \(C, H, W\), "
                                         r"got \(5, 5\)"):
        layer(gk.zeros(5, 5))
    with pytest.raises(ValueError, match=r"LazyLinear\(out_features=2\): expected input "
                                         r"\(\*, in_features\), got \(\)"):
        nn.LazyLinear(2)(gk.tensor(1.0))
    with pytest.raises(TypeError, match=r"LazyLinear: expected a Tensor, got list"):
        nn.LazyLinear(2)([1.0, 2.0])
    with pytest.raises(ValueError, match=r"input's 3 channels must be divisible by groups \(2\)"):
        nn.LazyConv2d(4, 3, groups=2)(gk.zeros(1, 3, 5, 5))
    assert type(layer) is nn.LazyConv2d and layer.has_uninitialized_params()


def test_dtype_and_device_are_kept_for_the_array_to_be():
    model = nn.Sequential(nn.LazyLinear(2), nn.LazyBatchNorm1d()).to(gk.float64)
    model(gk.randn(4, 3, dtype=gk.float64))
    assert {p.dtype for p in model.state_dict().values()} == {np.dtype("float64"),
                                                              np.dtype("int64")}
    assert nn.LazyLinear(2, dtype=gk.float64, device="cpu")(gk.ones(1, 3).double()).dtype \
        == np.float64
    with pytest.raises(RuntimeError, match=r"LazyLinear: device 'cuda' is not available"):
        nn.LazyLinear(2, device="cuda")


def test_a_copy_before_the_first_call_stays_lazy_and_materializes_on_its_own():
    model = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyLinear(2))
    twin = copy.deepcopy(model)
    restored = pickle.loads(pickle.dumps(model))
    assert twin(gk.zeros(1, 5)).shape == restored(gk.zeros(1, 7)).shape == (1, 2)
    assert (twin[0].weight.shape, restored[0].weight.shape) == ((3, 5), (3, 7))
    assert type(model[0]) is nn.LazyLinear and model[0].has_uninitialized_params()


def test_an_uninitialized_buffer_is_named_as_a_buffer():
    layer = nn.LazyBatchNorm1d(affine=False)
    with pytest.raises(RuntimeError, match=r"'running_mean' of LazyBatchNorm1d is an "
                                           r"uninitialized buffer"):
        layer.state_dict()
    layer(gk.randn(4, 3))
    assert layer.running_mean.shape == (3,) and type(layer.running_mean) is gk.Tensor
