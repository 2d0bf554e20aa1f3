"""The zoo's registry, parameter counts, output shapes and argument/input errors."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import models, nn

ALL = ["mlp", "maxout_mlp", "lenet5", "alexnet_small", "vgg_small", "resnet20", "resnet32",
       "resnet56", "resnet18", "mnist1d_cnn"]


def test_list_models_names_every_model_function():
    assert models.list_models() == ALL
    for name in ALL:
        assert callable(getattr(models, name))


# ----- parameter counts -----

@pytest.mark.parametrize("name, exact, paper", [
    ("resnet20", 269_722, 0.27e6), ("resnet32", 464_154, 0.46e6), ("resnet56", 853_018, 0.85e6)])
def test_cifar_resnet_parameter_counts_match_he_et_al(name, exact, paper):
    model = models.get_model(name)
    count = model.num_parameters()
    assert count == exact
    assert abs(count - paper) / paper < 0.01


def test_lenet5_parameter_count_is_exact():
    # conv1 6·1·25 + 6, conv2 16·6·25 + 16, fc 400·120 + 120, 120·84 + 84, 84·10 + 10
    expected = (150 + 6) + (2400 + 16) + (48000 + 120) + (10080 + 84) + (840 + 10)
    assert expected == 61_706
    assert models.lenet5().num_parameters() == expected
    assert models.lenet5(in_channels=3, num_classes=5).num_parameters() == (
        expected + 2 * 6 * 25 - 5 * 85)


def test_other_parameter_counts():
    assert models.resnet18().num_parameters() == 11_173_962
    assert models.mnist1d_cnn().num_parameters() == (25 * 5 + 25) + 2 * (25 * 25 * 3 + 25) + (
        125 * 10 + 10)
    assert models.mlp(20, hidden=(8, 6), num_classes=3).num_parameters() == (
        20 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3)
    assert models.mlp(20, hidden=(), num_classes=3).num_parameters() == 20 * 3 + 3
    assert models.maxout_mlp(20, hidden=(10,), num_classes=4, pieces=3).num_parameters() == (
        20 * 30 + 30 + 10 * 4 + 4)
    assert models.vgg_small().num_parameters() == 814_570


def test_mlp_options_build_the_right_layers():
    model = models.mlp(12, hidden=(8, 8), activation="tanh", dropout=0.2, batchnorm=True,
                       dropconnect=0.3)
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["DropConnect", "BatchNorm1d", "Tanh", "Dropout"] * 2 + ["Linear"]
    hidden = [m for m in model.layers if isinstance(m, nn.DropConnect)]
    assert all(m.bias is None and m.p == 0.3 for m in hidden)
    assert models.mlp(12, hidden=5).layers[0].out_features == 5


def test_describe_and_repr_print_the_count():
    model = models.lenet5()
    assert models.describe(model) == "lenet5: 61,706 parameters"
    assert repr(model).endswith("# 61,706 params")
    assert models.describe(models.resnet56()) == "resnet56: 853,018 parameters"
    assert models.describe(nn.Linear(2, 3)) == "Linear: 9 parameters"


def test_num_parameters_trainable_only():
    model = models.mnist1d_cnn()
    model.conv1.requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == model.num_parameters() - 150


# ----- output shapes -----

SHAPES = [
    ("mlp", dict(in_features=3 * 4 * 4, hidden=(16, 8), batchnorm=True), (3, 3, 4, 4)),
    ("maxout_mlp", dict(in_features=10, pieces=3), (3, 10)),
    ("lenet5", {}, (3, 1, 28, 28)),
    ("lenet5", dict(in_channels=3, activation="tanh", pool="avg"), (3, 3, 32, 32)),
    ("alexnet_small", {}, (2, 3, 32, 32)),
    ("vgg_small", dict(in_channels=1, widths=(4, 8)), (2, 1, 32, 32)),
    ("resnet20", {}, (2, 3, 12, 12)),
    ("resnet32", dict(in_channels=1), (2, 1, 8, 8)),
    ("resnet56", {}, (2, 3, 8, 8)),
    ("resnet18", {}, (2, 3, 8, 8)),
    ("mnist1d_cnn", {}, (3, 40)),
    ("mnist1d_cnn", dict(in_channels=2, length=50), (3, 2, 50)),
]


@pytest.mark.parametrize("name, kwargs, shape", SHAPES, ids=[s[0] for s in SHAPES])
def test_output_shape_and_dtype(name, kwargs, shape):
    gk.manual_seed(0)
    model = models.get_model(name, num_classes=7, **kwargs)
    with gk.no_grad():
        out = model.eval()(gk.randn(*shape))
    assert out.shape == (shape[0], 7)
    assert out.dtype == np.float32
    assert np.isfinite(out.numpy()).all()


def test_flat_and_shaped_inputs_give_the_same_logits():
    gk.manual_seed(0)
    net = models.mnist1d_cnn()
    x = gk.randn(4, 40)
    np.testing.assert_array_equal(net(x).numpy(), net(x.reshape(4, 1, 40)).numpy())
    net = models.mlp(16)
    x = gk.randn(4, 1, 4, 4)
    np.testing.assert_array_equal(net(x).numpy(), net(x.reshape(4, 16)).numpy())


# ----- errors -----

def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'resnet19'") as info:
        models.get_model("resnet19")
    assert all(name in str(info.value) for name in ALL)
    assert "did you mean" in str(info.value)


def test_bad_keyword_is_named_with_the_accepted_ones():
    with pytest.raises(TypeError, match="unknown argument 'num_clases'.*did you mean "
                                        "'num_classes'.*accepts num_classes, stochastic_depth"):
        models.get_model("resnet20", num_clases=10)
    with pytest.raises(TypeError, match="missing required argument 'in_features'"):
        models.get_model("mlp")


@pytest.mark.parametrize("name, kwargs, message", [
    ("resnet20", dict(stochastic_depth=1.5), r"resnet20: stochastic_depth must be a probability"),
    ("resnet18", dict(num_classes=0), r"resnet18: num_classes must be an integer ≥ 1, got 0"),
    ("mlp", dict(in_features=4, activation="swish"), r"mlp: unknown activation 'swish'; "
                                                     r"choose one of relu, leaky_relu"),
    ("mlp", dict(in_features=4, hidden=(), dropout=0.5), r"hidden=\(\) has none"),
    ("mlp", dict(in_features=4, dropout=1.0), r"dropout must be a probability in \[0, 1\)"),
    ("maxout_mlp", dict(in_features=4, pieces=0), r"pieces must be an integer ≥ 1"),
    ("lenet5", dict(pool="min"), r"lenet5: unknown pool 'min'; choose one of max, avg"),
    ("vgg_small", dict(widths=(8,) * 6), r"vgg_small: widths must hold 1 to 5"),
])
def test_bad_values_are_named(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.get_model(name, **kwargs)


@pytest.mark.parametrize("model, shape, message", [
    (lambda: models.lenet5(), (2, 1, 30, 30),
     r"lenet5\(1→10\): expected input \(N, 1, 28, 28\) or \(N, 1, 32, 32\), got \(2, 1, 30, 30\)"),
    (lambda: models.vgg_small(), (2, 3, 28, 28),
     r"vgg_small\(3→10\): expected input \(N, 3, 32, 32\), got \(2, 3, 28, 28\)"),
    (lambda: models.resnet20(), (2, 1, 8, 8),
     r"resnet20\(3→10\): expected input \(N, 3, H, W\), got \(2, 1, 8, 8\)"),
    (lambda: models.mnist1d_cnn(), (2, 50),
     r"mnist1d_cnn\(1→10\): expected input \(N, 40\) or \(N, 1, 40\), got \(2, 50\)"),
    (lambda: models.mlp(784), (2, 1, 8, 8),
     r"mlp\(784→…\): expected input \(N, 784\) .*got \(2, 1, 8, 8\)"),
])
def test_wrong_input_shape_is_named(model, shape, message):
    with pytest.raises(ValueError, match=message):
        model()(gk.zeros(*shape))
