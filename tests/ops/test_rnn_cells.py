"""ops/rnn_cells.py (torch.rnn_tanh_cell, rnn_relu_cell, gru_cell, lstm_cell) against PyTorch:
values and every input's gradient, with and without biases."""

import numpy as np
import pytest
import torch

import gradkit as gk
from tests.oracle import check

GATES = {"rnn_tanh_cell": 1, "rnn_relu_cell": 1, "gru_cell": 3, "lstm_cell": 4}


@pytest.mark.parametrize("name", sorted(GATES))
@pytest.mark.parametrize("batch", [(2,), (1,)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cells(name, batch, bias, dtype):
    g = GATES[name] * 4
    shapes = [batch + (3,), batch + (4,), (g, 3), (g, 4)] + ([(g,), (g,)] if bias else [])
    if name == "lstm_cell":
        shapes.insert(2, batch + (4,))

    def run(lib):
        def f(x, h, *rest):
            if name == "lstm_cell":
                c, rest = rest[0], rest[1:]
                return lib.cat([t.reshape(-1) for t in getattr(lib, name)(x, (h, c), *rest)])
            return getattr(lib, name)(x, h, *rest)
        return f

    check(shapes, run(torch), run(gk), dtype=dtype)


def test_cell_errors():
    with pytest.raises(RuntimeError):
        gk.rnn_tanh_cell(gk.ones(2, 5), gk.ones(2, 4), gk.ones(4, 3), gk.ones(4, 4))
    with pytest.raises(RuntimeError):
        gk.rnn_tanh_cell(gk.ones(3), gk.ones(4), gk.ones(4, 3), gk.ones(4, 4))
    with pytest.raises(RuntimeError):
        gk.lstm_cell(gk.ones(2, 3), (gk.ones(2, 4),), gk.ones(16, 3), gk.ones(16, 4))
