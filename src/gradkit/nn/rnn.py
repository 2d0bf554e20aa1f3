"""Recurrent layers with PyTorch's names, shapes, parameter names and gate order, so a PyTorch
state_dict loads unchanged and gives the same outputs: RNN, GRU, LSTM and their cells.

    lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)
    output, (h_n, c_n) = lstm(x)        # x (N, L, 10) -> output (N, L, 40); h_n, c_n (4, N, 20)
    gru = nn.GRU(10, 20); output, h_n = gru(x, h_0)

Shapes (D = 2 if bidirectional else 1, H = hidden_size): input (L, N, H_in), (N, L, H_in) with
``batch_first``, or unbatched (L, H_in); h_0, c_0 and h_n, c_n are (D·num_layers, N, H)
(unbatched: (D·num_layers, H); ``batch_first`` never applies to them), row k = layer·D +
direction; output (L, N, D·H) (batch_first: (N, L, D·H)) holds the last layer's hidden state
at every step, the forward direction's H features first. A missing h_0 / c_0 is zeros.

Parameters of layer k, direction suffix "" or "_reverse": weight_ih_l{k} (G, H_in for k = 0,
else D·H), weight_hh_l{k} (G, H), bias_ih_l{k} and bias_hh_l{k} (G,), with G = H (RNN),
3H (GRU: r, z, n rows) or 4H (LSTM: i, f, g, o rows); every one drawn from U(−1/√H, 1/√H), as
PyTorch does. The formulas are in gradkit/ops/recurrent.py.

How a layer runs: gx = x W_ihᵀ + b_ih for all steps as one GEMM (ops.linear), then one
Function for the recurrence over time with its hand-written backpropagation through time;
while training, ``dropout`` zeroes outputs of every layer but the last. Not supported:
PackedSequence input and LSTM's ``proj_size`` (NotImplementedError).
"""

import math
import numbers
import warnings

import numpy as np

from gradkit.nn import init
from gradkit.nn._input import expect_tensor
from gradkit.nn.dropout import dropout as _dropout
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.ops.linear import linear
from gradkit.ops.recurrent import GRURecurrence, LSTMRecurrence, RNNRecurrence
from gradkit.ops.shape import cat, stack


class RecurrentInputError(ValueError, RuntimeError):
    """A wrong input or state shape: a ValueError, and a RuntimeError as PyTorch raises, so
    code written for PyTorch that catches RuntimeError keeps working."""


_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


def _run(mode, gx, state, w_hh, b_hh, reverse):
    """One layer in one direction: (outputs (T, B, H), final states (h_n,) or (h_n, c_n))."""
    T = gx.shape[0]
    last = 0 if reverse else T - 1
    if mode == "LSTM":
        packed = LSTMRecurrence.apply(gx, state[0], state[1], w_hh, b_hh, reverse=reverse)
        return packed[:T], (packed[last], packed[T])
    if mode == "GRU":
        out = GRURecurrence.apply(gx, state[0], w_hh, b_hh, reverse=reverse)
    else:
        out = RNNRecurrence.apply(gx, state[0], w_hh, b_hh, reverse=reverse,
                                  nonlinearity="relu" if mode == "RNN_RELU" else "tanh")
    return out, (out[last],)


def _check_sizes(input_size, hidden_size):
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if hidden_size <= 0:
        raise ValueError(f"hidden_size must be greater than zero, got {hidden_size}")


def _new_param(shape, dtype):
    return Parameter(np.empty(shape, np.float32 if dtype is None else np.dtype(dtype)))


def _uniform_init(module):
    """PyTorch's default: every parameter ~ U(−1/√H, 1/√H)."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _states(mode, hx, label):
    """hx as a tuple of state tensors: (h,) or (h, c) for LSTM; None for zeros."""
    if hx is None:
        return (None, None) if mode == "LSTM" else (None,)
    if mode != "LSTM":
        expect_tensor(f"{label} hx", hx)
        return (hx,)
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"{label}: hx must be a tuple (h_0, c_0) of two tensors, got "
                        f"{type(hx).__name__}")
    for t in hx:
        expect_tensor(f"{label} hx", t)
    return tuple(hx)


def _check_state_shapes(label, states, expected, batched):
    names = ("h_0", "c_0")
    for name, t in zip(names, states):
        if t is None:
            continue
        if t.ndim != len(expected):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RecurrentInputError(
                f"{label}: for {kind} input, {name} should be {len(expected)}-D {expected}, got "
                f"{t.ndim}-D {tuple(t.shape)}")
        if tuple(t.shape) != expected:
            raise RecurrentInputError(f"{label}: expected {name} of shape {expected} (layers·"
                                      f"directions, batch, hidden), got {tuple(t.shape)}")


def _check_dtype(label, tensors, weight):
    for t in tensors:
        if t is not None and t.dtype != weight.dtype:
            raise TypeError(f"{label}: dtype mismatch, input/state {t.dtype} and weights "
                            f"{weight.dtype}; convert the model with .double()/.float() or "
                            "the input to match")


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrence shared by RNN, GRU and LSTM."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__()
        _check_sizes(input_size, hidden_size)
        if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or (
                num_layers <= 0):
            raise ValueError(f"num_layers must be an integer greater than zero, got {num_layers}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not (
                0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        directions = 2 if bidirectional else 1
        gates = _GATES[mode] * hidden_size
        self._all_weights = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {f"weight_ih{suffix}": (gates, layer_in),
                          f"weight_hh{suffix}": (gates, hidden_size)}
                if bias:
                    shapes.update({f"bias_ih{suffix}": (gates,), f"bias_hh{suffix}": (gates,)})
                for name, shape in shapes.items():
                    setattr(self, name, _new_param(shape, dtype))
                self._all_weights.append(list(shapes))
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self)

    def flatten_parameters(self):
        """A no-op kept for PyTorch code: gradkit's weights need no contiguous repacking."""

    @property
    def all_weights(self):
        """The parameters of each layer and direction, [[w_ih, w_hh, b_ih, b_hh], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _label(self):
        return f"{type(self).__name__}({self.input_size}→{self.hidden_size})"

    def _prepare(self, input, hx):
        """Time-major input (T, B, I), the state tuple, and whether the input was batched."""
        label = self._label
        expect_tensor(label, input)
        if input.ndim not in (2, 3):
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise RecurrentInputError(
                f"{label}: expected input {layout} or unbatched (L, H_in) with H_in = "
                f"{self.input_size}, got a {input.ndim}-D tensor of shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise RecurrentInputError(f"{label}: input.size(-1) must be equal to input_size. "
                                      f"Expected {self.input_size}, got {input.shape[-1]}")
        batched = input.ndim == 3
        x = input.transpose(0, 1) if batched and self.batch_first else input
        if not batched:
            x = x.unsqueeze(1)
        if x.shape[0] == 0:
            raise RecurrentInputError(f"{label}: expected sequence length to be larger than 0, "
                                      f"got input of shape {tuple(input.shape)}")
        states = _states(self.mode, hx, label)
        rows = self.num_layers * (2 if self.bidirectional else 1)
        expected = (rows, x.shape[1], self.hidden_size) if batched else (rows, self.hidden_size)
        _check_state_shapes(label, states, expected, batched)
        _check_dtype(label, (input,) + states, self.weight_ih_l0)
        if not batched:
            states = tuple(None if s is None else s.unsqueeze(1) for s in states)
        return x, states, batched

    def forward(self, input, hx=None):
        x, states, batched = self._prepare(input, hx)
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                params = [getattr(self, name) for name in self._all_weights[k]]
                w_ih, w_hh, b_ih, b_hh = params if self.bias else params + [None, None]
                state = tuple(None if s is None else s[k] for s in states)
                out, final = _run(self.mode, linear(x, w_ih, b_ih), state, w_hh, b_hh,
                                  reverse=direction == 1)
                outs.append(out)
                finals.append(final)
            x = outs[0] if directions == 1 else cat(outs, dim=2)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        if not batched:
            x = x.squeeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        last = tuple(stack([f[j] for f in finals]) for j in range(len(finals[0])))
        if not batched:
            last = tuple(t.squeeze(1) for t in last)
        return x, (last if self.mode == "LSTM" else last[0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: hₜ = φ(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh), φ = tanh or relu
    (``nonlinearity``). forward(input, h_0=None) -> (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)


class GRU(RNNBase):
    """GRU: r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
    forward(input, h_0=None) -> (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)


class LSTM(RNNBase):
    """LSTM: i, f, o = σ(W_i· x + b_i· + W_h· h + b_h·), g = tanh(...), c' = f ⊙ c + i ⊙ g,
    h' = o ⊙ tanh(c'). forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        if proj_size != 0:
            raise NotImplementedError("LSTM(proj_size=...): projections are not implemented in "
                                      "gradkit; use proj_size=0 and a Linear layer on h")
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device, dtype)


class RNNCellBase(Module):
    """One step of a recurrence: weight_ih (G, input_size), weight_hh (G, hidden_size),
    bias_ih, bias_hh (G,) or None, input (N, input_size) or unbatched (input_size,)."""

    def __init__(self, mode, input_size, hidden_size, bias, device=None, dtype=None):
        super().__init__()
        _check_sizes(input_size, hidden_size)
        self.mode, self.input_size, self.hidden_size, self.bias = (mode, input_size,
                                                                   hidden_size, bias)
        gates = _GATES[mode] * hidden_size
        self.weight_ih = _new_param((gates, input_size), dtype)
        self.weight_hh = _new_param((gates, hidden_size), dtype)
        for name in ("bias_ih", "bias_hh"):
            self.register_parameter(name, _new_param((gates,), dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self)

    def _step(self, input, hx):
        label = f"{type(self).__name__}({self.input_size}→{self.hidden_size})"
        expect_tensor(label, input)
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise RecurrentInputError(
                f"{label}: expected input (N, {self.input_size}) or unbatched "
                f"({self.input_size},), got {tuple(input.shape)}")
        batched = input.ndim == 2
        states = _states(self.mode, hx, label)
        expected = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        _check_state_shapes(label, states, expected, batched)
        _check_dtype(label, (input,) + states, self.weight_ih)
        x = input if batched else input.unsqueeze(0)
        states = tuple(s if s is None or batched else s.unsqueeze(0) for s in states)
        gx = linear(x, self.weight_ih, self.bias_ih).unsqueeze(0)
        _, final = _run(self.mode, gx, states, self.weight_hh, self.bias_hh, reverse=False)
        return final if batched else tuple(t.squeeze(0) for t in final)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


class RNNCell(RNNCellBase):
    """h' = φ(W_ih x + b_ih + W_hh h + b_hh), φ = tanh or relu. forward(input, h=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx)[0]


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n as in GRU). forward(input, h=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o as in LSTM). forward(input, (h, c)=None) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx)
