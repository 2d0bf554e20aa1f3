"""RNN, GRU, LSTM and their cells against PyTorch with the same weights: outputs, final states
and the gradients of the input, h0/c0 and every parameter, for every combination of
num_layers, bidirectional, batch_first and h0; state_dict round trips both ways; gradcheck of
the recurrence Functions in float64; the errors a user can fix."""

import itertools

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit.autograd import gradcheck
from gradkit.nn.rnn import (GRU, LSTM, RNN, GRUCell, LSTMCell, RecurrentInputError, RNNCell)
from gradkit.ops.recurrent import GRURecurrence, LSTMRecurrence, RNNRecurrence
from nn.torch_ref import TOL, from_torch_state, prepare

F64, F32 = np.float64, np.float32
T, B, I, H = 4, 3, 5, 4

KINDS = {  # name -> (gradkit class, torch class, extra kwargs)
    "rnn_tanh": (RNN, torch.nn.RNN, {}),
    "rnn_relu": (RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "gru": (GRU, torch.nn.GRU, {}),
    "lstm": (LSTM, torch.nn.LSTM, {}),
}
CELLS = {
    "rnn_tanh": (RNNCell, torch.nn.RNNCell, {}),
    "rnn_relu": (RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "gru": (GRUCell, torch.nn.GRUCell, {}),
    "lstm": (LSTMCell, torch.nn.LSTMCell, {}),
}


def _rand(shape, dtype, seed):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape).astype(dtype)


def _flat(result):
    """(output, h_n) or (output, (h_n, c_n)) or h' or (h', c') -> a flat tuple of tensors."""
    if not isinstance(result, tuple):
        return (result,)
    out = []
    for r in result:
        out.extend(r if isinstance(r, tuple) else (r,))
    return tuple(out)


def _compare(gk_module, torch_module, x, states, dtype, tol=None):
    """Forward both with the same input and states, backward the same random weights of every
    output; assert the outputs and the gradients of x, the states and every parameter agree."""
    tol = tol or TOL[dtype]
    xt, xg = torch.tensor(x, requires_grad=True), gk.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in states]
    sg = [gk.tensor(s, requires_grad=True) for s in states]

    def pack(items, lstm_like):
        if not items:
            return None
        return tuple(items) if lstm_like else items[0]

    lstm_like = isinstance(gk_module, (LSTM, LSTMCell))
    out_t = _flat(torch_module(xt, pack(st, lstm_like)) if st else torch_module(xt))
    out_g = _flat(gk_module(xg, pack(sg, lstm_like)))
    assert len(out_g) == len(out_t)
    rng = np.random.default_rng(7)
    loss_t, loss_g = 0, 0
    for k, (a, b) in enumerate(zip(out_g, out_t)):
        assert a.shape == tuple(b.shape), f"output {k}: shape {a.shape} != torch {b.shape}"
        assert a.dtype == dtype
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **tol,
                                   err_msg=f"output {k} differs")
        w = rng.standard_normal(a.shape).astype(dtype)
        loss_t = loss_t + (b * torch.tensor(w)).sum()
        loss_g = loss_g + (a * gk.tensor(w)).sum()
    loss_t.backward()
    loss_g.backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), **tol, err_msg="dx differs")
    for k, (a, b) in enumerate(zip(sg, st)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol,
                                   err_msg=f"gradient of state {k} differs")
    torch_params = dict(torch_module.named_parameters())
    for name, p in gk_module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), torch_params[name].grad.numpy(), **tol,
                                   err_msg=f"gradient of {name} differs")


def _pair(kind, dtype, **kwargs):
    gk_cls, torch_cls, extra = KINDS[kind]
    gk.manual_seed(3)
    g = gk_cls(I, H, **extra, **kwargs)
    t = torch_cls(I, H, **extra, **kwargs)
    prepare(g, t, dtype)
    return g, t


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("num_layers, bidirectional, batch_first, with_h0",
                         list(itertools.product((1, 2), (False, True), (False, True),
                                                (False, True))))
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, with_h0):
    g, t = _pair(kind, F64, num_layers=num_layers, bidirectional=bidirectional,
                 batch_first=batch_first)
    x = _rand((B, T, I) if batch_first else (T, B, I), F64, 0)
    rows = num_layers * (2 if bidirectional else 1)
    n_states = 2 if kind == "lstm" else 1
    states = [_rand((rows, B, H), F64, 1 + j) for j in range(n_states)] if with_h0 else []
    _compare(g, t, x, states, F64)


@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_float32(kind):
    g, t = _pair(kind, F32, num_layers=2, bidirectional=True)
    _compare(g, t, _rand((T, B, I), F32, 0), [], F32)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("batch_first", [False, True])
def test_layer_unbatched_input(kind, batch_first):
    g, t = _pair(kind, F64, num_layers=2, bidirectional=True, batch_first=batch_first)
    n_states = 2 if kind == "lstm" else 1
    _compare(g, t, _rand((T, I), F64, 2), [_rand((4, H), F64, 3 + j) for j in range(n_states)],
             F64)


@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_without_bias(kind):
    g, t = _pair(kind, F64, bias=False, batch_first=True)
    assert [n for n, _ in g.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    _compare(g, t, _rand((B, T, I), F64, 4), [], F64)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("steps, batch, features, hidden", [(1, 1, 1, 1), (1, 3, 2, 5),
                                                            (6, 1, 3, 2), (3, 0, 2, 3)])
def test_layer_size_one_and_empty_dims(kind, steps, batch, features, hidden):
    gk_cls, torch_cls, extra = KINDS[kind]
    g = gk_cls(features, hidden, num_layers=2, bidirectional=True, **extra)
    t = torch_cls(features, hidden, num_layers=2, bidirectional=True, **extra)
    prepare(g, t, F64)
    _compare(g, t, _rand((steps, batch, features), F64, 0), [], F64)


@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_non_contiguous_input(kind):
    g, t = _pair(kind, F64, batch_first=True)
    x = _rand((T, 2 * B, I), F64, 0).transpose(1, 0, 2)[::2]      # (B, T, I), strided
    assert not x.flags.c_contiguous
    _compare(g, t, x, [], F64)


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("batched, with_h", list(itertools.product((True, False),
                                                                  (True, False))))
def test_cell_matches_torch(kind, batched, with_h):
    gk_cls, torch_cls, extra = CELLS[kind]
    g, t = gk_cls(I, H, **extra), torch_cls(I, H, **extra)
    prepare(g, t, F64)
    lead = (B,) if batched else ()
    n_states = 2 if kind == "lstm" else 1
    states = [_rand(lead + (H,), F64, 1 + j) for j in range(n_states)] if with_h else []
    _compare(g, t, _rand(lead + (I,), F64, 0), states, F64)


def test_cell_unrolled_equals_layer():
    """LSTMCell stepped by hand over time gives LSTM's output (one layer, same weights)."""
    layer, cell = LSTM(I, H).double(), LSTMCell(I, H).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = gk.tensor(_rand((T, B, I), F64, 0))
    output, (h_n, c_n) = layer(x)
    h = c = gk.zeros(B, H, dtype=gk.float64)
    for step in range(T):
        h, c = cell(x[step], (h, c))
        np.testing.assert_allclose(h.numpy(), output[step].numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c.numpy(), c_n[0].numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", list(KINDS))
def test_torch_state_dict_loads_unchanged_and_back(kind):
    gk_cls, torch_cls, extra = KINDS[kind]
    torch.manual_seed(0)
    t = torch_cls(I, H, num_layers=2, bidirectional=True, **extra).double()
    g = gk_cls(I, H, num_layers=2, bidirectional=True, **extra).double()
    assert list(g.state_dict()) == list(t.state_dict())
    assert g.load_state_dict(from_torch_state(t)).missing_keys == []
    x = _rand((T, B, I), F64, 0)
    np.testing.assert_allclose(_flat(g(gk.tensor(x)))[0].numpy(),
                               _flat(t(torch.tensor(x)))[0].detach().numpy(), rtol=1e-10)
    gk.manual_seed(5)
    g2 = gk_cls(I, H, num_layers=2, bidirectional=True, **extra).double()
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in g2.state_dict().items()})
    np.testing.assert_allclose(_flat(g2(gk.tensor(x)))[-1].numpy(),
                               _flat(t(torch.tensor(x)))[-1].detach().numpy(), rtol=1e-10)


def test_default_init_is_pytorch_uniform():
    gk.manual_seed(0)
    lstm = LSTM(3, 16, num_layers=2)
    w = np.concatenate([p.numpy().ravel() for p in lstm.parameters()])
    assert w.dtype == np.float32 and np.abs(w).max() <= 0.25 and np.abs(w).max() > 0.24
    assert abs(w.mean()) < 0.01 and abs(w.std() - 0.25 / np.sqrt(3)) < 0.01


def test_dropout_between_layers():
    """dropout=1 zeroes the second layer's input while training: then layer 2 sees only its
    biases, as a torch GRU with weight_ih_l1 = 0; in eval mode dropout is off."""
    g, t = _pair("gru", F64, num_layers=2, dropout=1.0)
    x = _rand((T, B, I), F64, 0)
    t.eval()
    with torch.no_grad():
        plain = t(torch.tensor(x))[0].numpy()
        t.weight_ih_l1.zero_()
        no_layer2_input = t(torch.tensor(x))[0].numpy()
    np.testing.assert_allclose(g.train()(gk.tensor(x))[0].numpy(), no_layer2_input, rtol=1e-10)
    np.testing.assert_allclose(g.eval()(gk.tensor(x))[0].numpy(), plain, rtol=1e-10)
    with pytest.warns(UserWarning, match="num_layers greater than 1, but got dropout=0.5"):
        GRU(2, 3, dropout=0.5)


@pytest.mark.parametrize("reverse", [False, True])
def test_recurrence_functions_gradcheck(reverse):
    rng = np.random.default_rng(0)

    def t(*shape):
        return gk.tensor(rng.standard_normal(shape) * 0.7, requires_grad=True)

    for nl in ("tanh", "relu"):
        assert gradcheck(lambda gx, h0, w, b: RNNRecurrence.apply(
            gx, h0, w, b, nonlinearity=nl, reverse=reverse), (t(3, 2, 3), t(2, 3), t(3, 3), t(3)))
    assert gradcheck(lambda gx, h0, w, b: GRURecurrence.apply(gx, h0, w, b, reverse=reverse),
                     (t(3, 2, 9), t(2, 3), t(9, 3), t(9)))
    assert gradcheck(lambda gx, h0, c0, w, b: LSTMRecurrence.apply(
        gx, h0, c0, w, b, reverse=reverse), (t(3, 2, 12), t(2, 3), t(2, 3), t(12, 3), t(12)))


def test_shapes_and_repr():
    lstm = LSTM(I, H, num_layers=2, batch_first=True, bidirectional=True)
    out, (h_n, c_n) = lstm(gk.zeros(B, T, I))
    assert out.shape == (B, T, 2 * H) and h_n.shape == c_n.shape == (4, B, H)
    out, h_n = GRU(I, H)(gk.zeros(T, 0, I))
    assert out.shape == (T, 0, H) and h_n.shape == (1, 0, H)
    assert repr(lstm) == "LSTM(5, 4, num_layers=2, batch_first=True, bidirectional=True)"
    assert repr(RNNCell(3, 4, bias=False, nonlinearity="relu")) == (
        "RNNCell(3, 4, bias=False, nonlinearity=relu)")
    assert len(lstm.all_weights) == 4 and lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse


def test_bad_input_and_arguments():
    lstm = LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match=r"LSTM\(3→4\): input.size\(-1\) must be equal to "
                                           "input_size. Expected 3, got 4"):
        lstm(gk.zeros(5, 2, 4))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(2, 2, 4\).*got \(1, 2, 4\)"):
        lstm(gk.zeros(5, 2, 3), (gk.zeros(1, 2, 4), gk.zeros(2, 2, 4)))
    with pytest.raises(RecurrentInputError, match="unbatched 2-D input, h_0 should be 2-D"):
        lstm(gk.zeros(5, 3), (gk.zeros(2, 1, 4), gk.zeros(2, 1, 4)))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        lstm(gk.zeros(5, 2, 3), gk.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"expected input \(L, N, H_in\).*got a 4-D tensor"):
        lstm(gk.zeros(1, 5, 2, 3))
    with pytest.raises(ValueError, match="sequence length to be larger than 0"):
        lstm(gk.zeros(0, 2, 3))
    with pytest.raises(TypeError, match="dtype mismatch"):
        lstm(gk.zeros(5, 2, 3, dtype=gk.float64))
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        GRUCell(3, 4)([[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"GRUCell\(3→4\): expected h_0 of shape \(2, 4\)"):
        GRUCell(3, 4)(gk.zeros(2, 3), gk.zeros(3, 4))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'x'"):
        RNN(3, 4, nonlinearity="x")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        RNN(3, 4, dropout=2)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        GRU(3, 0)
    with pytest.raises(NotImplementedError, match="proj_size"):
        LSTM(3, 4, proj_size=2)
