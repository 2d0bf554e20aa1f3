"""nn.init.torch_default_: every layer's parameters re-drawn by PyTorch's own reset rule.

The values cannot match PyTorch's (different generators), so each parameter is compared with
the rule (its bound and std) and with the same PyTorch layer's empirical statistics."""

import math

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from gradkit.nn.init import torch_default_


def has(*names):
    missing = [n for n in names if getattr(nn, n, None) is None]
    return pytest.mark.skipif(bool(missing), reason=f"gradkit.nn lacks {missing}")


def scramble(module):
    """Every parameter set to 7 and every buffer to 3, so a reset shows on all of them."""
    for p in module.parameters():
        p._data[...] = 7
    for b in module.buffers():
        b._data[...] = 3
    return module


def assert_uniform(p, bound, rel=0.03):
    a = p.numpy()
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    assert np.abs(a).max() > bound * 0.95
    assert a.std() == pytest.approx(bound / math.sqrt(3), rel=rel)
    assert abs(a.mean()) < 0.05 * bound


def test_linear_follows_pytorch_rule():
    layer = scramble(nn.Linear(1000, 500))
    assert torch_default_(layer) is layer
    bound = 1 / math.sqrt(1000)
    assert_uniform(layer.weight, bound)
    assert_uniform(layer.bias, bound, rel=0.15)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Conv2d(64, 128, 3), 64 * 9),
    (lambda: nn.Conv1d(32, 256, 5, groups=4), 8 * 5),
])
def test_conv_follows_pytorch_rule(make, fan_in):
    layer = torch_default_(scramble(make()))
    assert_uniform(layer.weight, 1 / math.sqrt(fan_in))
    assert np.abs(layer.bias.numpy()).max() <= 1 / math.sqrt(fan_in)
    assert np.abs(layer.bias.numpy()).max() > 0.5 / math.sqrt(fan_in)


PAIRS = [  # (name, the layer built from gradkit.nn or torch.nn with the same arguments)
    ("Linear", lambda m: m.Linear(300, 200)),
    ("Conv2d", lambda m: m.Conv2d(16, 32, 3)),
    ("Conv3d", lambda m: m.Conv3d(8, 16, 3)),
    ("ConvTranspose2d", lambda m: m.ConvTranspose2d(32, 16, 3)),
    ("Bilinear", lambda m: m.Bilinear(20, 30, 40)),
    ("Embedding", lambda m: m.Embedding(100, 64, padding_idx=3)),
    ("LSTM", lambda m: m.LSTM(64, 128, num_layers=2)),
    ("GRU", lambda m: m.GRU(64, 128)),
    ("RNN", lambda m: m.RNN(64, 128)),
    ("LSTMCell", lambda m: m.LSTMCell(64, 128)),
    ("MultiheadAttention", lambda m: m.MultiheadAttention(64, 4)),
    ("BatchNorm2d", lambda m: m.BatchNorm2d(32)),
    ("LayerNorm", lambda m: m.LayerNorm(32)),
    ("GroupNorm", lambda m: m.GroupNorm(4, 32)),
    ("PReLU", lambda m: m.PReLU(8)),
]


@pytest.mark.parametrize("name, make", PAIRS, ids=[p[0] for p in PAIRS])
def test_each_parameter_matches_pytorch_statistics(name, make):
    if getattr(nn, name, None) is None:
        pytest.skip(f"gradkit.nn lacks {name}")
    torch.manual_seed(0)
    gk.manual_seed(0)  # the same draws whatever ran before in this worker (16 biases vary)
    ours, theirs = torch_default_(scramble(make(nn))), make(torch.nn)
    theirs_params = dict(theirs.named_parameters())
    assert {n for n, _ in ours.named_parameters()} == set(theirs_params)
    for n, p in ours.named_parameters():
        a, b = p.numpy(), theirs_params[n].detach().numpy()
        assert a.shape == b.shape, n
        assert not (a == 7).all(), f"{name}.{n} was not reset"
        if b.std() == 0:
            np.testing.assert_array_equal(a, b, err_msg=f"{name}.{n}")
            continue
        rel = 4 / math.sqrt(a.size)
        assert a.std() == pytest.approx(b.std(), rel=rel), f"{name}.{n} std"
        if name != "Embedding":  # N(0, 1) has no bound
            assert np.abs(a).max() <= np.abs(b).max() * (1 + rel), f"{name}.{n} bound"
    for n, buf in ours.named_buffers():
        np.testing.assert_array_equal(buf.numpy(), dict(theirs.named_buffers())[n].numpy())


def test_embedding_padding_row_is_zero():
    layer = torch_default_(scramble(nn.Embedding(500, 40, padding_idx=2)))
    w = layer.weight.numpy()
    assert (w[2] == 0).all()
    assert np.delete(w, 2, axis=0).std() == pytest.approx(1.0, rel=0.03)


def test_recurrent_bound_is_one_over_sqrt_hidden():
    layer = torch_default_(scramble(nn.LSTM(100, 256)))
    for p in layer.parameters():
        assert np.abs(p.numpy()).max() <= 1 / 16
    assert_uniform(layer.weight_hh_l0, 1 / 16)


@has("MultiheadAttention")
def test_attention_in_projection_is_xavier_and_biases_zero():
    layer = torch_default_(scramble(nn.MultiheadAttention(128, 8)))
    assert_uniform(layer.in_proj_weight, math.sqrt(6 / (128 + 3 * 128)))
    assert (layer.in_proj_bias.numpy() == 0).all()
    assert (layer.out_proj.bias.numpy() == 0).all()
    assert_uniform(layer.out_proj.weight, 1 / math.sqrt(128), rel=0.05)


def test_sequential_every_parameter_changes_and_buffers_reset():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 6 * 6, 10))
    model(gk.randn(4, 3, 8, 8))  # moves the running stats
    before = {n: p.numpy().copy() for n, p in model.named_parameters()}
    model[1].weight._data[...] = 2.0
    model[1].bias._data[...] = 0.5
    assert torch_default_(model) is model
    for n, p in model.named_parameters():
        assert p.dtype == np.float32
        if n.startswith("1."):
            expect = 1.0 if n.endswith("weight") else 0.0
            assert (p.numpy() == expect).all(), n
        else:
            assert not np.array_equal(p.numpy(), before[n]), f"{n} unchanged"
    bn = model[1]
    assert (bn.running_mean.numpy() == 0).all() and (bn.running_var.numpy() == 1).all()
    assert int(bn.num_batches_tracked.item()) == 0
    bound = 1 / math.sqrt(8 * 6 * 6)
    assert np.abs(model[4].weight.numpy()).max() <= bound


def test_seeding_makes_it_reproducible_and_generator_is_honoured():
    def draw(seed):
        gk.manual_seed(seed)
        model = torch_default_(nn.Sequential(nn.Linear(5, 4), nn.Conv1d(2, 3, 2)))
        return [p.numpy().copy() for p in model.parameters()]
    first, again, other = draw(0), draw(0), draw(1)
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    m1, m2 = nn.Linear(5, 4), nn.Linear(5, 4)
    torch_default_(m1, generator=np.random.default_rng(3))
    torch_default_(m2, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(m1.weight.numpy(), m2.weight.numpy())


def test_float64_module_and_unknown_layers_left_alone():
    model = nn.Sequential(nn.Linear(4, 3), nn.Maxout(3, 2, 2)).double()
    kept = model[1].weight.numpy().copy()
    torch_default_(model)
    assert model[0].weight.dtype == np.float64
    np.testing.assert_array_equal(model[1].weight.numpy(), kept)


def test_lazy_layer_before_its_first_call_is_skipped():
    model = nn.Sequential(nn.LazyLinear(3), nn.Linear(3, 2))
    torch_default_(model)
    model(gk.randn(2, 5))
    assert model[0].weight.shape == (3, 5)


def test_zero_fan_in_layer_gives_zero_bias():
    with pytest.warns(UserWarning, match="zero-element"):
        layer = scramble(nn.Linear(0, 3))
    with pytest.warns(UserWarning, match="zero-element"):
        torch_default_(layer)
    assert (layer.bias.numpy() == 0).all()


class StandInAttention(nn.Module):
    """PyTorch's MultiheadAttention parameter names, for the rule while gradkit lacks it."""

    def __init__(self, e):
        super().__init__()
        self.in_proj_weight = nn.Parameter(np.full((3 * e, e), 7.0, np.float32))
        self.in_proj_bias = nn.Parameter(np.full(3 * e, 7.0, np.float32))
        self.bias_k = nn.Parameter(np.full((1, 1, e), 7.0, np.float32))
        self.out_proj = scramble(nn.Linear(e, e))


class StandInTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = StandInAttention(64)
        self.ff = scramble(nn.Linear(64, 256))
        self.norm = scramble(nn.LayerNorm(64))


def test_attention_and_transformer_rules_on_pytorch_names(monkeypatch):
    monkeypatch.setattr(nn, "MultiheadAttention", StandInAttention, raising=False)
    monkeypatch.setattr(nn, "Transformer", StandInTransformer, raising=False)
    layer = torch_default_(StandInAttention(128))
    assert_uniform(layer.in_proj_weight, math.sqrt(6 / (128 + 3 * 128)))
    assert (layer.in_proj_bias.numpy() == 0).all() and (layer.out_proj.bias.numpy() == 0).all()
    assert layer.bias_k.numpy().std() == pytest.approx(math.sqrt(2 / 256), rel=0.3)
    assert_uniform(layer.out_proj.weight, 1 / math.sqrt(128), rel=0.05)
    model = torch_default_(StandInTransformer())
    assert_uniform(model.ff.weight, math.sqrt(6 / (64 + 256)))
    assert_uniform(model.attn.out_proj.weight, math.sqrt(6 / 128), rel=0.05)
    assert (model.attn.in_proj_bias.numpy() == 0).all()
    assert (model.norm.weight.numpy() == 1).all() and (model.norm.bias.numpy() == 0).all()
    assert np.abs(model.ff.bias.numpy()).max() <= 1 / 8
