"""nn.MultiheadAttention and F.multi_head_attention_forward against PyTorch: values and every
gradient with the same weights (PyTorch's state_dict loaded into gradkit), dropout off."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd.check import gradcheck
from gradkit.errors import ShapeError

TF = torch.nn.functional
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-5)}

def _pair(dtype=np.float64, seed=0, **kwargs):
    """A torch layer and a gradkit one holding torch's weights."""
    torch.manual_seed(seed)
    t = torch.nn.MultiheadAttention(**kwargs).to(torch.float64 if dtype == np.float64
                                                  else torch.float32)
    g = gk.nn.MultiheadAttention(**kwargs).to(dtype)
    g.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    assert list(g.state_dict()) == list(t.state_dict())
    return g, t


def _leaves(arrays, share, lib):
    """query, key, value as leaves of ``lib``; share = 'qkv' (self-attention), 'kv' or ''."""
    make = (lambda a: torch.tensor(a, requires_grad=True)) if lib is torch else (
        lambda a: gk.tensor(a, requires_grad=True))
    q = make(arrays[0])
    if share == "qkv":
        return [q], (q, q, q)
    k = make(arrays[1])
    if share == "kv":
        return [q, k], (q, k, k)
    v = make(arrays[2])
    return [q, k, v], (q, k, v)


def _masks(masks, lib):
    wrap = torch.tensor if lib is torch else gk.tensor
    return {name: wrap(m) for name, m in masks.items()}


def compare(g, t, shapes, share="", dtype=np.float64, masks=None, train=False, **options):
    """One forward and backward through both layers (upstream on the output and the weights);
    outputs, the inputs' and every parameter's gradients must agree."""
    g.train(train)
    t.train(train)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tl, ti = _leaves(arrays, share, torch)
    gl, gi = _leaves(arrays, share, gk)
    t_out, t_w = t(*ti, **_masks(masks or {}, torch), **options)
    g_out, g_w = g(*gi, **_masks(masks or {}, gk), **options)
    tol = TOL[dtype]
    assert g_out.shape == tuple(t_out.shape) and g_out.dtype == dtype
    np.testing.assert_allclose(g_out.numpy(), t_out.detach().numpy(), **tol)
    assert (g_w is None) == (t_w is None)
    u = rng.standard_normal(g_out.shape).astype(dtype)
    t_loss, g_loss = (t_out * torch.tensor(u)).sum(), (g_out * gk.tensor(u)).sum()
    if t_w is not None:
        assert g_w.shape == tuple(t_w.shape)
        np.testing.assert_allclose(g_w.numpy(), t_w.detach().numpy(), **tol)
        uw = rng.standard_normal(g_w.shape).astype(dtype)
        t_loss, g_loss = t_loss + (t_w * torch.tensor(uw)).sum(), g_loss + (g_w * gk.tensor(
            uw)).sum()
    t_loss.backward()
    g_loss.backward()
    for i, (a, b) in enumerate(zip(gl, tl)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol,
                                   err_msg=f"gradient of input {i}")
    tp = dict(t.named_parameters())
    for name, p in g.named_parameters():
        assert p.grad is not None and p.grad.dtype == dtype, name
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), **tol,
                                   err_msg=f"gradient of {name}")
    return g_out, g_w


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_self_attention(dtype, batch_first, need_weights, average):
    g, t = _pair(dtype, embed_dim=8, num_heads=2, batch_first=batch_first)
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    compare(g, t, [shape], "qkv", dtype, need_weights=need_weights,
            average_attn_weights=average)


@pytest.mark.parametrize("share", ["", "kv"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_cross_attention(share, batch_first):
    g, t = _pair(embed_dim=6, num_heads=3, batch_first=batch_first)
    q, kv = ((2, 4, 6), (2, 7, 6)) if batch_first else ((4, 2, 6), (7, 2, 6))
    compare(g, t, [q, kv, kv], share)
    compare(g, t, [q, kv, kv], share, need_weights=False)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_kdim_vdim(need_weights):
    g, t = _pair(embed_dim=8, num_heads=2, kdim=5, vdim=3)
    assert g.in_proj_weight is None and g.q_proj_weight.shape == (8, 8)
    compare(g, t, [(4, 2, 8), (6, 2, 5), (6, 2, 3)], need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_mha_masks(kind, need_weights):
    rng = np.random.default_rng(5)
    attn = rng.random((4, 6)) > 0.7
    attn[:, 0] = False
    padding = np.zeros((2, 6), bool)
    padding[0, 4:] = True
    masks = dict(attn_mask=attn, key_padding_mask=padding)
    if kind == "float":
        masks = {k: np.where(m, -1e4 * rng.random(m.shape), rng.random(m.shape))
                 for k, m in masks.items()}
    g, t = _pair(embed_dim=8, num_heads=2)
    compare(g, t, [(4, 2, 8), (6, 2, 8), (6, 2, 8)], masks=masks, need_weights=need_weights)
    compare(g, t, [(4, 2, 8), (6, 2, 8), (6, 2, 8)], masks={"attn_mask": masks["attn_mask"]},
            need_weights=need_weights)
    compare(g, t, [(4, 2, 8), (6, 2, 8), (6, 2, 8)],
            masks={"key_padding_mask": masks["key_padding_mask"]}, need_weights=need_weights)


def test_mha_3d_attn_mask_per_head():
    attn = np.random.default_rng(2).random((2 * 2, 4, 6)) > 0.6
    attn[..., 0] = False
    g, t = _pair(embed_dim=8, num_heads=2)
    for need in (True, False):
        compare(g, t, [(4, 2, 8), (6, 2, 8), (6, 2, 8)], masks={"attn_mask": attn},
                need_weights=need, average_attn_weights=False)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_causal(need_weights):
    causal = np.triu(np.ones((5, 5), bool), 1)
    g, t = _pair(embed_dim=8, num_heads=2, batch_first=True)
    compare(g, t, [(2, 5, 8)], "qkv", masks={"attn_mask": causal}, is_causal=True,
            need_weights=need_weights)
    padding = np.zeros((2, 5), bool)
    padding[1, 3:] = True
    compare(g, t, [(2, 5, 8)], "qkv", masks={"attn_mask": causal, "key_padding_mask": padding},
            is_causal=True, need_weights=need_weights)
    with pytest.raises(RuntimeError, match="attn_mask"):
        g(*[gk.zeros(2, 5, 8)] * 3, is_causal=True)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched(need_weights):
    g, t = _pair(embed_dim=8, num_heads=4)
    out, w = compare(g, t, [(5, 8)], "qkv", need_weights=need_weights)
    assert out.shape == (5, 8)
    compare(g, t, [(5, 8), (3, 8), (3, 8)], masks={"key_padding_mask": np.array(
        [False, False, True])}, need_weights=need_weights, average_attn_weights=False)
    compare(g, t, [(5, 8), (3, 8), (3, 8)], masks={"attn_mask": np.random.default_rng(0).random(
        (4, 5, 3))}, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("bias_kv,zero_attn", [(True, False), (False, True), (True, True)])
def test_mha_bias_kv_and_zero_attn(bias_kv, zero_attn, need_weights):
    g, t = _pair(embed_dim=8, num_heads=2, add_bias_kv=bias_kv, add_zero_attn=zero_attn)
    padding = np.zeros((2, 6), bool)
    padding[1, 2:] = True
    attn = np.zeros((4, 6), bool)
    attn[2, 1:] = True
    compare(g, t, [(4, 2, 8), (6, 2, 8), (6, 2, 8)], masks=dict(key_padding_mask=padding,
            attn_mask=attn), need_weights=need_weights)


def test_mha_without_bias_and_dropout_in_eval():
    g, t = _pair(embed_dim=8, num_heads=2, bias=False, dropout=0.3)
    assert g.in_proj_bias is None and g.out_proj.bias is None
    compare(g, t, [(4, 2, 8)], "qkv")


@pytest.mark.filterwarnings("ignore:invalid value")  # the NaN row of need_weights=True
def test_mha_fully_masked_row_as_torch():
    padding = np.array([[True] * 4, [False] * 4])
    g, t = _pair(embed_dim=8, num_heads=2)
    g.eval()
    t.eval()
    x = np.random.default_rng(0).standard_normal((4, 2, 8))
    for need in (True, False):
        to, tw = t(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(padding),
                   need_weights=need)
        go, gw = g(*[gk.tensor(x)] * 3, key_padding_mask=gk.tensor(padding), need_weights=need)
        np.testing.assert_allclose(go.numpy(), to.detach().numpy(), **TOL[np.float64])
        if need:
            np.testing.assert_allclose(gw.numpy(), tw.detach().numpy(), **TOL[np.float64])


def test_mha_float32_input_and_init():
    g = gk.nn.MultiheadAttention(16, 4)
    assert g.in_proj_weight.dtype == np.float32 and g.in_proj_weight.shape == (48, 16)
    bound = np.sqrt(6 / (16 + 48))
    assert np.abs(g.in_proj_weight.numpy()).max() <= bound
    assert np.all(g.in_proj_bias.numpy() == 0) and np.all(g.out_proj.bias.numpy() == 0)
    assert np.abs(g.out_proj.weight.numpy()).max() <= 1 / 4
    out, w = g(*[gk.zeros(3, 2, 16)] * 3)
    assert out.dtype == np.float32 and w.dtype == np.float32


def test_mha_dropout_in_training():
    g = gk.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = gk.tensor(np.random.default_rng(0).standard_normal((2, 6, 8)).astype(np.float32))
    _, dropped = g(x, x, x, average_attn_weights=False)
    g.eval()
    a, w = g(x, x, x, average_attn_weights=False)
    assert np.array_equal(a.numpy(), g(x, x, x)[0].numpy())
    dropped, w = dropped.numpy(), w.numpy()  # returned after dropout, as PyTorch does
    assert np.all(np.isclose(dropped, 0) | np.isclose(dropped, 2 * w))
    assert 0.3 < np.mean(dropped == 0) < 0.7
    g.train()
    gk.manual_seed(3)
    out = g(x, x, x, need_weights=False)[0].numpy()
    gk.manual_seed(3)
    assert np.array_equal(out, g(x, x, x, need_weights=False)[0].numpy())
    assert not np.allclose(out, a.numpy())


def test_mha_gradcheck():
    g = gk.nn.MultiheadAttention(4, 2, add_bias_kv=True).double()
    rng = np.random.default_rng(0)
    q, k = (gk.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 2, 4), (5, 2, 4)])
    padding = gk.tensor(np.array([[False] * 5, [False, False, True, True, True]]))
    for need in (True, False):
        assert gradcheck(lambda q, k: g(q, k, k, key_padding_mask=padding,
                                        need_weights=need)[0], (q, k))


def test_mha_bad_input():
    g = gk.nn.MultiheadAttention(8, 2)
    with pytest.raises(ShapeError, match=r"MultiheadAttention\(embed_dim=8\): expected query "
                                         r"\(L, N, 8\), got \(5, 2, 6\)"):
        g(*[gk.zeros(5, 2, 6)] * 3)
    with pytest.raises(ShapeError, match=r"expected key \(S, 2, 8\)"):
        g(gk.zeros(5, 2, 8), gk.zeros(4, 3, 8), gk.zeros(4, 3, 8))
    with pytest.raises(ShapeError, match=r"expected value"):
        g(gk.zeros(5, 2, 8), gk.zeros(4, 2, 8), gk.zeros(3, 2, 8))
    with pytest.raises(ShapeError, match=r"key_padding_mask \(2, 4\)"):
        g(gk.zeros(5, 2, 8), gk.zeros(4, 2, 8), gk.zeros(4, 2, 8),
          key_padding_mask=gk.zeros(2, 5))
    with pytest.raises(ShapeError, match=r"attn_mask \(5, 4\)"):
        g(gk.zeros(5, 2, 8), gk.zeros(4, 2, 8), gk.zeros(4, 2, 8), attn_mask=gk.zeros(4, 5))
    with pytest.raises(ShapeError, match=r"\(N, L, 8\)"):
        gk.nn.MultiheadAttention(8, 2, batch_first=True)(*[gk.zeros(2, 5, 6)] * 3)
    with pytest.raises(ShapeError, match=r"\(L, 8\)"):
        g(*[gk.zeros(5, 6)] * 3)
    with pytest.raises(ValueError, match="divisible"):
        gk.nn.MultiheadAttention(8, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        gk.nn.MultiheadAttention(0, 1)


def test_functional_multi_head_attention_forward():
    g, t = _pair(embed_dim=8, num_heads=2)
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((4, 2, 8)), rng.standard_normal((6, 2, 8))
    names = ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v"]
    tp = [getattr(t, n) for n in names]
    gp = [getattr(g, n) for n in names]
    to, tw = TF.multi_head_attention_forward(torch.tensor(q), torch.tensor(k), torch.tensor(k),
                                             8, 2, *tp, False, 0.0, t.out_proj.weight,
                                             t.out_proj.bias)
    go, gw = F.multi_head_attention_forward(gk.tensor(q), gk.tensor(k), gk.tensor(k), 8, 2, *gp,
                                            False, 0.0, g.out_proj.weight, g.out_proj.bias)
    np.testing.assert_allclose(go.numpy(), to.detach().numpy(), **TOL[np.float64])
    np.testing.assert_allclose(gw.numpy(), tw.detach().numpy(), **TOL[np.float64])


def test_functional_static_kv_and_separate_weights():
    rng = np.random.default_rng(0)
    arrays = dict(q=(4, 2, 8), k=(6, 2, 5), v=(6, 2, 3), b_in=(24,), wo=(8, 8), b_out=(8,),
                  wq=(8, 8), wk=(8, 5), wv=(8, 3), sk=(2 * 2, 7, 4), sv=(2 * 2, 7, 4))
    arrays = {name: rng.standard_normal(shape) for name, shape in arrays.items()}

    def run(fn, wrap):
        a = {name: wrap(x) for name, x in arrays.items()}
        return fn(a["q"], a["k"], a["v"], 8, 2, None, a["b_in"], None, None, False, 0.0,
                  a["wo"], a["b_out"], use_separate_proj_weight=True, q_proj_weight=a["wq"],
                  k_proj_weight=a["wk"], v_proj_weight=a["wv"], static_k=a["sk"],
                  static_v=a["sv"])
    t_out, t_w = run(TF.multi_head_attention_forward, torch.tensor)
    g_out, g_w = run(F.multi_head_attention_forward, gk.tensor)
    np.testing.assert_allclose(g_out.numpy(), t_out.numpy(), **TOL[np.float64])
    np.testing.assert_allclose(g_w.numpy(), t_w.numpy(), **TOL[np.float64])


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.sampled_from([1, 2, 4]),
       st.booleans(), st.booleans())
def test_mha_hypothesis_shapes(length, source, batch, heads, batch_first, need_weights):
    g, t = _pair(embed_dim=4, num_heads=heads, batch_first=batch_first)
    q, kv = ((batch, length, 4), (batch, source, 4)) if batch_first else (
        (length, batch, 4), (source, batch, 4))
    compare(g, t, [q, kv, kv], "kv", need_weights=need_weights)
