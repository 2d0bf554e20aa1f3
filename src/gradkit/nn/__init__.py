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
from gradkit.nn.lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyConv1d, LazyConv2d,
                             LazyLinear, UninitializedBuffer, UninitializedParameter)
from gradkit.nn.rnn import RNN, GRU, LSTM, RNNCell, GRUCell, LSTMCell
# The layer modules below each name their layers in __all__.
from gradkit.nn import (attention, conv, distance, dropout, fold, linear, loss, misc_layers,
                        normalization, padding, pooling, sparse, transformer, upsampling)
from gradkit.nn.attention import *  # noqa: F401,F403
from gradkit.nn.conv import *  # noqa: F401,F403
from gradkit.nn.distance import *  # noqa: F401,F403
from gradkit.nn.dropout import *  # noqa: F401,F403
from gradkit.nn.fold import *  # noqa: F401,F403
from gradkit.nn.linear import *  # noqa: F401,F403
from gradkit.nn.loss import *  # noqa: F401,F403
from gradkit.nn.misc_layers import *  # noqa: F401,F403
from gradkit.nn.normalization import *  # noqa: F401,F403
from gradkit.nn.padding import *  # noqa: F401,F403
from gradkit.nn.pooling import *  # noqa: F401,F403
from gradkit.nn.sparse import *  # noqa: F401,F403
from gradkit.nn.transformer import *  # noqa: F401,F403
from gradkit.nn.upsampling import *  # noqa: F401,F403

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
_LAYER_MODULES = (attention, conv, distance, dropout, fold, linear, loss, misc_layers,
                  normalization, padding, pooling, sparse, transformer, upsampling)
__all__ += sorted({name for m in _LAYER_MODULES for name in m.__all__} - set(__all__))


def __getattr__(name):
    """``nn.SyncBatchNorm`` is gradkit.distributed's (imported on first use: the distributed
    package builds on nn, so nn cannot import it while it loads)."""
    if name == "SyncBatchNorm":
        from gradkit.distributed import SyncBatchNorm
        return SyncBatchNorm
    raise AttributeError(f"module 'gradkit.nn' has no attribute {name!r}")
