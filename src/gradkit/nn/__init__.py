"""gradkit.nn: Module and Parameter, the layers, the losses, and the submodules
``functional`` (F), ``init`` and ``utils``, with PyTorch's names.

    from gradkit import nn
    model = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))
    loss = nn.CrossEntropyLoss()(model(x), y)
"""

from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.nn.containers import Identity, ModuleDict, ModuleList, Sequential
from gradkit.nn import functional, init, utils
from gradkit.nn.activation import (CELU, ELU, GELU, GLU, SELU, Flatten, Hardsigmoid, Hardswish,
                                   Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Maxout, Mish,
                                   PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin, Softplus,
                                   Softsign, Tanh, Threshold)
from gradkit.nn.conv import Conv1d, Conv2d
from gradkit.nn.dropout import Dropout
from gradkit.nn.lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyConv1d, LazyConv2d,
                             LazyLinear, UninitializedBuffer, UninitializedParameter)
from gradkit.nn.linear import DropConnect, Linear
from gradkit.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss,
                             MSELoss, MultiClassHingeLoss, MultiLabelHingeLoss, MultiMarginLoss,
                             NLLLoss, SmoothL1Loss)
from gradkit.nn.normalization import BatchNorm1d, BatchNorm2d
from gradkit.nn.pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from gradkit.nn.rnn import RNN, GRU, LSTM, RNNCell, GRUCell, LSTMCell

__all__ = [
    "Module", "Parameter", "Identity", "ModuleDict", "ModuleList", "Sequential", "functional",
    "init", "utils", "ELU", "GELU", "Flatten", "LeakyReLU", "LogSoftmax", "Maxout", "ReLU",
    "Sigmoid", "Softmax", "Softplus", "Tanh", "Conv1d", "Conv2d", "Dropout", "DropConnect",
    "Linear", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss",
    "MSELoss", "MultiClassHingeLoss", "MultiLabelHingeLoss", "MultiMarginLoss", "NLLLoss",
    "SmoothL1Loss", "BatchNorm1d", "BatchNorm2d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d",
    "MaxPool1d", "MaxPool2d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyConv1d", "LazyConv2d",
    "LazyLinear", "UninitializedBuffer", "UninitializedParameter", "RNN", "GRU", "LSTM",
    "RNNCell", "GRUCell", "LSTMCell", "CELU", "GLU", "SELU", "Hardsigmoid", "Hardswish",
    "Hardtanh", "LogSigmoid", "Mish", "PReLU", "ReLU6", "SiLU", "Softmin", "Softsign",
    "Threshold",
]
