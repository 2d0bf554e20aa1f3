"""Fully connected networks: ``mlp`` (Linear layers with an activation, optional dropout,
BatchNorm and DropConnect) and ``maxout_mlp`` (Maxout units, Goodfellow et al. 2013).

Both flatten their input, so (N, 784) vectors and (N, 1, 28, 28) images work alike.
``hidden=()`` gives a linear classifier (softmax regression with a cross-entropy loss).
"""

import numbers

from gradkit import nn
from gradkit.models._base import Model, output_layer, check_count, check_probability, make_activation


class MLP(Model):
    """x (N, *) flattened to (N, in_features) -> ``layers`` -> logits (N, num_classes)."""

    def __init__(self, in_features, layers, arch):
        super().__init__()
        self.in_features, self.arch = in_features, arch
        self.layers = layers

    def forward(self, x):
        shape = tuple(x.shape)
        if x.ndim >= 3:
            x = x.flatten(1)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"{self.arch}({self.in_features}→…): expected input "
                             f"(N, {self.in_features}) or (N, …) with {self.in_features} "
                             f"features per sample, got {shape}")
        return self.layers(x)


def _widths(hidden, where):
    widths = (hidden,) if isinstance(hidden, numbers.Integral) else tuple(hidden)
    for width in widths:
        check_count(width, "every hidden width", where)
    return widths


def mlp(in_features, hidden=(100,), num_classes=10, activation="relu", dropout=0.0,
        batchnorm=False, dropconnect=0.0):
    """Multilayer perceptron: per hidden width h,

        Linear(·→h) [or DropConnect(·→h, p=dropconnect)] → [BatchNorm1d(h)] → activation
        → [Dropout(dropout)]

    then Linear(·→num_classes) for the logits. ``hidden`` is a width or a sequence of widths
    (``()``: a linear classifier). With ``batchnorm`` the hidden Linear layers have no bias
    (BatchNorm's shift replaces it). ``dropconnect`` drops weights of the hidden layers
    (Wan et al. 2013, inverted scaling, see nn.DropConnect); ``dropout`` drops hidden units.
    Regularizers need at least one hidden layer. Init: He normal weights, zero biases."""
    where = "mlp"
    check_count(in_features, "in_features", where)
    check_count(num_classes, "num_classes", where)
    widths = _widths(hidden, where)
    dropout = check_probability(dropout, "dropout", where, upper_open=True)
    dropconnect = check_probability(dropconnect, "dropconnect", where, upper_open=True)
    if not widths and (dropout or dropconnect or batchnorm):
        raise ValueError("mlp: dropout, dropconnect and batchnorm act on hidden layers; "
                         "hidden=() has none")
    layers, width_in = nn.Sequential(), in_features
    for width in widths:
        if dropconnect:
            layers.append(nn.DropConnect(width_in, width, bias=not batchnorm, p=dropconnect))
        else:
            layers.append(nn.Linear(width_in, width, bias=not batchnorm))
        if batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(make_activation(activation, where))
        if dropout:
            layers.append(nn.Dropout(dropout))
        width_in = width
    layers.append(output_layer(width_in, num_classes))
    return MLP(in_features, layers, "mlp")


def maxout_mlp(in_features, hidden=(100,), num_classes=10, pieces=2, dropout=0.0):
    """Maxout network (Goodfellow et al. 2013): per hidden width h,

        Maxout(·→h, pieces) → [Dropout(dropout)]

    then Linear(·→num_classes). Each unit is the max of ``pieces`` affine functions of its
    input, so the network learns its own activation; a layer has ``pieces`` times the
    parameters of a Linear layer of the same width. (Goodfellow et al.'s MNIST model:
    hidden=(240, 240), pieces=5, dropout=0.5.)"""
    where = "maxout_mlp"
    check_count(in_features, "in_features", where)
    check_count(num_classes, "num_classes", where)
    check_count(pieces, "pieces", where)
    widths = _widths(hidden, where)
    dropout = check_probability(dropout, "dropout", where, upper_open=True)
    if not widths:
        raise ValueError("maxout_mlp: needs at least one hidden layer, got hidden=()")
    layers, width_in = nn.Sequential(), in_features
    for width in widths:
        layers.append(nn.Maxout(width_in, width, pieces=pieces))
        if dropout:
            layers.append(nn.Dropout(dropout))
        width_in = width
    layers.append(output_layer(width_in, num_classes))
    return MLP(in_features, layers, "maxout_mlp")

