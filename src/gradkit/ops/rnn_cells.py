"""torch.rnn_tanh_cell, rnn_relu_cell, gru_cell, lstm_cell: one step of a recurrent cell
with the weights passed in (the functional form of nn.RNNCell, GRUCell, LSTMCell), exported
through ops/aliases.py.

The input part gx = x W_ihᵀ + b_ih is one Linear op, and the step is ops/recurrent.py's
recurrence run for one time step, so the formulas and gradients are those of the layers:
RNN h′ = act(gx + h W_hhᵀ + b_hh); GRU (r, z, n gates) h′ = (1 − z)·n + z·h; LSTM
(i, f, g, o gates) c′ = f·c + i·g, h′ = o·tanh c′. Shapes: input (B, I), h and c (B, H),
w_ih (G, I), w_hh (G, H), G = H, 3H or 4H (PyTorch's functional cells take no unbatched
input either).

    import gradkit as gk
    h = gk.rnn_tanh_cell(gk.randn(2, 3), gk.zeros(2, 4), gk.randn(4, 3), gk.randn(4, 4))
"""

from gradkit.errors import ShapeError
from gradkit.ops.linear import linear
from gradkit.ops.recurrent import GRURecurrence, LSTMRecurrence, RNNRecurrence


def _step(op, input, states, w_ih, b_ih, run):
    if input.ndim != 2 or input.shape[1] != w_ih.shape[1]:
        raise ShapeError(f"{op}: expected input (B, {w_ih.shape[1]}) to match w_ih "
                         f"{tuple(w_ih.shape)}, got {tuple(input.shape)}")
    return run(linear(input, w_ih, b_ih).unsqueeze(0), *states)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h′ = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)."""
    return _step("rnn_tanh_cell", input, [hx], w_ih, b_ih, lambda gx, h: (RNNRecurrence.apply(
        gx, h, w_hh, b_hh, reverse=False, nonlinearity="tanh")[0],))[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h′ = relu(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)."""
    return _step("rnn_relu_cell", input, [hx], w_ih, b_ih, lambda gx, h: (RNNRecurrence.apply(
        gx, h, w_hh, b_hh, reverse=False, nonlinearity="relu")[0],))[0]


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (PyTorch's gate order r, z, n)."""
    return _step("gru_cell", input, [hx], w_ih, b_ih, lambda gx, h: (GRURecurrence.apply(
        gx, h, w_hh, b_hh, reverse=False)[0],))[0]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step; hx = (h, c); returns (h′, c′) (gate order i, f, g, o)."""
    if len(hx) != 2:
        raise ShapeError(f"lstm_cell: expected hx to be (h, c), got {len(hx)} tensors")

    def run(gx, h, c):
        packed = LSTMRecurrence.apply(gx, h, c, w_hh, b_hh, reverse=False)
        return packed[0], packed[1]

    return _step("lstm_cell", input, list(hx), w_ih, b_ih, run)
