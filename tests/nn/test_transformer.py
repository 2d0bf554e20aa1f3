"""nn.TransformerEncoderLayer / TransformerEncoder (and the decoder, nn.Transformer) against
PyTorch: same weights (torch's state_dict loaded into gradkit), dropout off, values and every
gradient equal."""

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit.errors import ShapeError

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-5)}
pytestmark = [pytest.mark.filterwarnings("ignore:Support for mismatched"),  # torch's warnings
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")]


def torch_dtype(dtype):
    return torch.float64 if dtype == np.float64 else torch.float32


def load(g, t, dtype):
    """gradkit module ``g`` in ``dtype`` holding torch module ``t``'s weights (same keys)."""
    t.to(torch_dtype(dtype))
    g.to(dtype)
    state = {k: v.detach().numpy().copy() for k, v in t.state_dict().items()}
    assert list(g.state_dict()) == list(state)
    g.load_state_dict(state)
    return g, t


def compare(g, t, arrays, dtype=np.float64, masks=None, train=False, **options):
    """Run both on the same inputs; compare outputs, inputs' and parameters' gradients."""
    g.train(train)
    t.train(train)
    arrays = [np.asarray(a, dtype) for a in arrays]
    ti = [torch.tensor(a, requires_grad=True) for a in arrays]
    gi = [gk.tensor(a, requires_grad=True) for a in arrays]
    tm = {k: torch.tensor(m) for k, m in (masks or {}).items()}
    gm = {k: gk.tensor(m) for k, m in (masks or {}).items()}
    to, go = t(*ti, **tm, **options), g(*gi, **gm, **options)
    tol = TOL[dtype]
    assert go.shape == tuple(to.shape) and go.dtype == dtype
    np.testing.assert_allclose(go.numpy(), to.detach().numpy(), **tol)
    u = np.random.default_rng(9).standard_normal(go.shape).astype(dtype)
    to.backward(torch.tensor(u))
    go.backward(gk.tensor(u))
    for i, (a, b) in enumerate(zip(gi, ti)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol,
                                   err_msg=f"gradient of input {i}")
    tp = dict(t.named_parameters())
    for name, p in g.named_parameters():
        assert p.grad is not None and p.grad.dtype == dtype, name
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), **tol,
                                   err_msg=f"gradient of {name}")
    return go


def random(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def encoder_layer_pair(dtype=np.float64, **kwargs):
    torch.manual_seed(0)
    kwargs = dict(dict(d_model=8, nhead=2, dim_feedforward=16), **kwargs)
    t = torch.nn.TransformerEncoderLayer(**kwargs)
    g = gk.nn.TransformerEncoderLayer(**kwargs)
    return load(g, t, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer(dtype, norm_first, activation):
    g, t = encoder_layer_pair(dtype, norm_first=norm_first, activation=activation)
    compare(g, t, [random((5, 3, 8))], dtype)


def test_encoder_layer_batch_first_masks_and_causal():
    g, t = encoder_layer_pair(batch_first=True, norm_first=True)
    padding = np.zeros((3, 5), bool)
    padding[1, 3:] = True
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    x = random((3, 5, 8))
    compare(g, t, [x], masks=dict(src_key_padding_mask=padding))
    compare(g, t, [x], masks=dict(src_mask=causal), is_causal=True)
    compare(g, t, [x], masks=dict(src_mask=causal, src_key_padding_mask=padding))
    compare(g, t, [x], masks=dict(src_mask=np.triu(np.ones((5, 5), bool), 1)))


def test_encoder_layer_callable_activation_no_bias_unbatched():
    torch.manual_seed(0)
    t = torch.nn.TransformerEncoderLayer(8, 2, 16, activation=torch.nn.functional.silu,
                                         bias=False)
    g = gk.nn.TransformerEncoderLayer(8, 2, 16, activation=gk.nn.functional.silu, bias=False)
    load(g, t, np.float64)
    compare(g, t, [random((5, 8))])
    t = torch.nn.TransformerEncoderLayer(8, 2, 16, activation=torch.nn.GELU())
    g = gk.nn.TransformerEncoderLayer(8, 2, 16, activation=gk.nn.GELU())
    load(g, t, np.float64)
    compare(g, t, [random((5, 2, 8))])


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_two_layers(norm):
    g_layer, t_layer = encoder_layer_pair(batch_first=True)
    t = torch.nn.TransformerEncoder(t_layer, 2, torch.nn.LayerNorm(8) if norm else None,
                                    enable_nested_tensor=False)
    g = gk.nn.TransformerEncoder(g_layer, 2, gk.nn.LayerNorm(8) if norm else None,
                                 enable_nested_tensor=False)
    with torch.no_grad():  # the copies start equal: make them differ to test the key order
        t.layers[1].linear1.weight.mul_(-0.5)
    load(g, t, np.float64)
    assert "layers.1.self_attn.in_proj_weight" in g.state_dict()
    padding = np.zeros((2, 6), bool)
    padding[0, 4:] = True
    causal = np.triu(np.full((6, 6), -np.inf), 1)
    x = random((2, 6, 8))
    compare(g, t, [x])
    compare(g, t, [x], masks=dict(mask=causal, src_key_padding_mask=padding))
    compare(g, t, [x], masks=dict(mask=causal))


def test_encoder_layers_are_copies():
    layer = gk.nn.TransformerEncoderLayer(8, 2, 16)
    encoder = gk.nn.TransformerEncoder(layer, 2)
    assert encoder.layers[0] is not layer and encoder.layers[0] is not encoder.layers[1]
    w0, w1 = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert w0 is not w1 and np.array_equal(w0.numpy(), w1.numpy())
    assert len(list(encoder.parameters())) == 2 * len(list(layer.parameters()))


def test_encoder_layer_float32_default_and_dropout_in_training():
    layer = gk.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    x = gk.tensor(random((2, 5, 8)).astype(np.float32))
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == (2, 5, 8)
    layer.eval()
    assert np.array_equal(layer(x).numpy(), layer(x).numpy())
    bound = 1 / np.sqrt(8)
    assert np.abs(layer.linear1.weight.numpy()).max() <= bound  # PyTorch's U(±1/√fan_in)


def test_encoder_layer_bad_input():
    layer = gk.nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(ShapeError, match=r"TransformerEncoderLayer\(d_model=8\): expected src "
                                         r"\(S, N, 8\), got \(5, 2, 6\)"):
        layer(gk.zeros(5, 2, 6))
    with pytest.raises(ShapeError, match=r"\(N, S, 8\)"):
        gk.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)(gk.zeros(5, 2, 6))
    with pytest.raises(ValueError, match="relu/gelu"):
        gk.nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(RuntimeError, match="attn_mask"):
        layer(gk.zeros(5, 2, 8), is_causal=True)


# ----- the decoder and nn.Transformer -----

def decoder_layer_pair(dtype=np.float64, **kwargs):
    torch.manual_seed(0)
    kwargs = dict(dict(d_model=8, nhead=2, dim_feedforward=16), **kwargs)
    return load(gk.nn.TransformerDecoderLayer(**kwargs),
                torch.nn.TransformerDecoderLayer(**kwargs), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer(dtype, norm_first):
    g, t = decoder_layer_pair(dtype, norm_first=norm_first, activation="gelu")
    compare(g, t, [random((4, 3, 8)), random((6, 3, 8), 1)], dtype)


def test_decoder_layer_masks_batch_first():
    g, t = decoder_layer_pair(batch_first=True)
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    memory_padding = np.zeros((2, 6), bool)
    memory_padding[1, 4:] = True
    tgt_padding = np.zeros((2, 4), bool)
    tgt_padding[0, 3] = True
    compare(g, t, [random((2, 4, 8)), random((2, 6, 8), 1)],
            masks=dict(tgt_mask=causal, memory_key_padding_mask=memory_padding,
                       tgt_key_padding_mask=tgt_padding), tgt_is_causal=True)
    compare(g, t, [random((2, 4, 8)), random((2, 6, 8), 1)],
            masks=dict(tgt_mask=causal, memory_mask=random((4, 6), 2)))


def test_decoder_two_layers_unbatched():
    g_layer, t_layer = decoder_layer_pair()
    t = torch.nn.TransformerDecoder(t_layer, 2, torch.nn.LayerNorm(8))
    g = gk.nn.TransformerDecoder(g_layer, 2, gk.nn.LayerNorm(8))
    load(g, t, np.float64)
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    compare(g, t, [random((4, 8)), random((6, 8), 1)], masks=dict(tgt_mask=causal))


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer(batch_first):
    torch.manual_seed(0)
    kwargs = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                  dim_feedforward=16, batch_first=batch_first)
    g, t = load(gk.nn.Transformer(**kwargs), torch.nn.Transformer(**kwargs), np.float64)
    src, tgt = ((3, 6, 8), (3, 4, 8)) if batch_first else ((6, 3, 8), (4, 3, 8))
    mask = gk.nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64).numpy()
    np.testing.assert_array_equal(
        mask, torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64))
    compare(g, t, [random(src), random(tgt, 1)], masks=dict(tgt_mask=mask))
    with pytest.raises(ShapeError, match="batch number"):
        g(gk.zeros(*src).double(), gk.zeros(4, 2, 8).double() if not batch_first else
          gk.zeros(2, 4, 8).double())


def test_transformer_init_is_xavier():
    model = gk.nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                              dim_feedforward=32)
    w = model.encoder.layers[0].linear1.weight.numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (16 + 32)) and w.dtype == np.float32
    assert sorted(model.state_dict()) == sorted(torch.nn.Transformer(
        16, 2, 1, 1, 32).state_dict())


def test_torch_state_dict_loads_unchanged():
    torch.manual_seed(0)
    t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, norm_first=True),
                                    2, torch.nn.LayerNorm(8), enable_nested_tensor=False)
    g = gk.nn.TransformerEncoder(gk.nn.TransformerEncoderLayer(8, 2, 16, norm_first=True), 2,
                                 gk.nn.LayerNorm(8))
    result = g.load_state_dict(t.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    x = random((5, 2, 8)).astype(np.float32)
    t.eval()
    g.eval()
    np.testing.assert_allclose(g(gk.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(),
                               **TOL[np.float32])
