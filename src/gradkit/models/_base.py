"""What the zoo's models share: the Model base class (architecture name and parameter count),
activation layers looked up by name, and the checks of constructor arguments."""

import numbers

from gradkit import nn

ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
    "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus,
}


class Model(nn.Module):
    """An nn.Module that knows its zoo name (``arch``, e.g. ``"resnet20"``) and its size.

    ``print(model)`` shows the tree with each child's parameter count and the total."""

    arch = "model"

    def num_parameters(self, trainable_only=False):
        """Number of learnable scalars (shared parameters counted once); with
        ``trainable_only``, only those with ``requires_grad``."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


def output_layer(in_features, num_classes):
    """The output layer: a Linear with small weights N(0, 0.01²) and zero bias, so the first
    logits are near 0 and the initial softmax loss is ≈ ln C (the notes' first sanity check;
    He init here would give a loss of 5–6 for 10 classes)."""
    layer = nn.Linear(in_features, num_classes)
    nn.init.normal_(layer.weight, 0.0, 0.01)
    return layer


def make_activation(name, where):
    """A new activation layer for ``name`` ('relu', 'tanh', ...)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {name!r}; choose one of "
                         f"{', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def check_count(value, name, where, minimum=1):
    """``value`` must be an int ≥ minimum (a number of classes, channels, features)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{where}: {name} must be an integer ≥ {minimum}, got {value!r}")


def check_probability(value, name, where, upper_open=False):
    """``value`` must be a number in [0, 1] (or [0, 1) with ``upper_open``); returns it as a
    float."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and 0.0 <= value and (value < 1.0 if upper_open else value <= 1.0))
    if not ok:
        interval = "[0, 1)" if upper_open else "[0, 1]"
        raise ValueError(f"{where}: {name} must be a probability in {interval}, got {value!r}")
    return float(value)
