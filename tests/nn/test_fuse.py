"""Folding eval-mode BatchNorm into the layer before it: the same function, fewer passes."""

import numpy as np
import torch

import gradkit as gk
from gradkit import models, nn
from gradkit.nn.fuse import fuse_conv_bn, fuse_conv_bn_eval


def _randomize_statistics(model, seed=0):
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) or isinstance(m, nn.BatchNorm1d):
            m.running_mean._data[...] = rng.normal(0, 0.3, m.num_features)
            m.running_var._data[...] = rng.uniform(0.5, 2.0, m.num_features)
            m.weight._data[...] = rng.uniform(0.5, 1.5, m.num_features)
            m.bias._data[...] = rng.normal(0, 0.3, m.num_features)


def test_every_batchnorm_of_resnet20_folds_and_the_outputs_agree():
    gk.manual_seed(0)
    model = models.get_model("resnet20", num_classes=10).double()
    _randomize_statistics(model)
    x = gk.tensor(np.random.default_rng(1).standard_normal((4, 3, 32, 32)))
    model.eval()
    with gk.no_grad():
        before = model(x).numpy()
    fuse_conv_bn(model, x[:1])
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    with gk.no_grad():
        np.testing.assert_allclose(model(x).numpy(), before, rtol=1e-10, atol=1e-10)


def test_float32_agrees_to_float_rounding():
    gk.manual_seed(0)
    model = models.get_model("resnet20", num_classes=10)
    _randomize_statistics(model)
    x = gk.tensor(np.random.default_rng(1).standard_normal((2, 3, 32, 32)).astype(np.float32))
    model.eval()
    with gk.no_grad():
        before = model(x).numpy()
        after = fuse_conv_bn(model, x).__call__(x).numpy()
    assert after.dtype == np.float32
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-4)


class Shared(nn.Module):
    """conv's output feeds the BN and the sum; a BN after a ReLU; a Linear + BN1d."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(2)
        self.conv2 = nn.Conv2d(2, 2, 1)
        self.bn2 = nn.BatchNorm2d(2)
        self.fc = nn.Linear(8 * 2 * 2, 3)
        self.bn3 = nn.BatchNorm1d(3)

    def forward(self, x):
        z = self.conv(x)
        y = self.bn(z) + z
        y = self.bn2(self.conv2(y).relu())
        return self.bn3(self.fc(y.flatten(1)))


def test_only_a_bn_fed_by_nothing_but_its_layer_is_folded():
    model = Shared().double()
    _randomize_statistics(model)
    x = gk.tensor(np.random.default_rng(2).standard_normal((3, 2, 4, 4)))
    model.eval()
    with gk.no_grad():
        before = model(x).numpy()
    fuse_conv_bn(model, x)
    assert isinstance(model.bn, nn.BatchNorm2d) and isinstance(model.bn2, nn.BatchNorm2d)
    assert isinstance(model.bn3, nn.Identity)
    with gk.no_grad():
        np.testing.assert_allclose(model(x).numpy(), before, rtol=1e-12, atol=1e-12)


def test_fuse_conv_bn_eval_matches_pytorch():
    conv, bn = nn.Conv2d(3, 4, 3, bias=False).double(), nn.BatchNorm2d(4).double()
    _randomize_statistics(nn.Sequential(bn))
    tconv, tbn = torch.nn.Conv2d(3, 4, 3, bias=False).double(), torch.nn.BatchNorm2d(4).double()
    tconv.load_state_dict({k: torch.tensor(v.numpy()) for k, v in conv.state_dict().items()})
    tbn.load_state_dict({k: torch.tensor(v.numpy()) for k, v in bn.state_dict().items()})
    tconv.eval(), tbn.eval(), bn.eval()
    fused = fuse_conv_bn_eval(conv, bn)
    expected = torch.nn.utils.fuse_conv_bn_eval(tconv, tbn)
    np.testing.assert_allclose(fused.weight.numpy(), expected.weight.detach().numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(fused.bias.numpy(), expected.bias.detach().numpy(), rtol=1e-12)
    assert conv.bias is None  # the original is left alone


def test_a_loaded_run_fused_for_inference_predicts_the_same(tmp_path):
    from gradkit.config import make_config
    from gradkit.experiment import train
    from gradkit.train.trained_run import final_checkpoint, load_run

    config = make_config({"model": {"name": "mlp", "kwargs": {"hidden": [16],
                                                              "batchnorm": True}},
                          "dataset": {"name": "spiral"}, "epochs": 2, "batch_size": 32,
                          "out": str(tmp_path / "run")})
    run = train(config, report=False, log=lambda *a: None).run_dir
    plain = load_run(final_checkpoint(run))
    fused = load_run(final_checkpoint(run), fuse=True)
    assert any(isinstance(m, nn.BatchNorm1d) for m in plain.model.modules())
    assert not any(isinstance(m, nn.BatchNorm1d) for m in fused.model.modules())
    x = np.random.default_rng(0).standard_normal((50, 2)).astype(np.float32)
    np.testing.assert_allclose(fused.predict(x), plain.predict(x), rtol=1e-5, atol=1e-6)


def test_a_linear_whose_features_are_not_the_batchnorm_channels_is_left_alone():
    class Tokens(nn.Module):  # Linear on (N, 4, 4): BatchNorm1d(4) normalises dim 1, not the
        def __init__(self):   # Linear's output features, though both have 4
            super().__init__()
            self.fc, self.bn = nn.Linear(4, 4), nn.BatchNorm1d(4)

        def forward(self, x):
            return self.bn(self.fc(x))

    model = Tokens().double()
    _randomize_statistics(model)
    x = gk.tensor(np.random.default_rng(3).standard_normal((2, 4, 4)))
    model.eval()
    with gk.no_grad():
        before = model(x).numpy()
    fuse_conv_bn(model, x)
    assert isinstance(model.bn, nn.BatchNorm1d)
    with gk.no_grad():
        np.testing.assert_allclose(model(x).numpy(), before, rtol=0, atol=0)


def test_a_frozen_model_is_fused_too():
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)).double()
    _randomize_statistics(model)
    for p in model.parameters():
        p.requires_grad_(False)
    x = gk.tensor(np.random.default_rng(4).standard_normal((2, 2, 5, 5)))
    model.eval()
    with gk.no_grad():
        before = model(x).numpy()
    fuse_conv_bn(model, x)
    assert isinstance(model[1], nn.Identity)
    with gk.no_grad():
        np.testing.assert_allclose(model(x).numpy(), before, rtol=1e-12, atol=1e-12)
