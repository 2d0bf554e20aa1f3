"""LeNet-5 (LeCun et al. 1998) for 28×28 (MNIST) and 32×32 images."""

from gradkit import nn
from gradkit.models._base import Model, output_layer, check_count, make_activation
from gradkit.ops.shape import pad

_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(Model):
    """LeNet-5 on (N, C, 32, 32) input, or (N, C, 28, 28) zero-padded by 2 on each side
    first (as is usual for MNIST: the same as padding=2 in the first convolution):

        features:   conv5(C→6) → act → pool2 → conv5(6→16) → act → pool2      32² → 16×5×5
        classifier: flatten → fc(400→120) → act → fc(120→84) → act → fc(84→num_classes)

    61,706 parameters for C = 1 and 10 classes. The original uses tanh (scaled), average
    pooling with learned coefficients, a partially connected second convolution and RBF
    outputs; this is the usual modern reading, full connections and plain pooling."""

    arch = "lenet5"

    def __init__(self, in_channels=1, num_classes=10, activation="relu", pool="max"):
        super().__init__()
        check_count(in_channels, "in_channels", "lenet5")
        check_count(num_classes, "num_classes", "lenet5")
        if pool not in _POOLS:
            raise ValueError(f"lenet5: unknown pool {pool!r}; choose one of "
                             f"{', '.join(_POOLS)}")
        self.in_channels, self.num_classes = in_channels, num_classes

        def act():
            return make_activation(activation, "lenet5")

        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), act(), _POOLS[pool](2),
            nn.Conv2d(6, 16, 5), act(), _POOLS[pool](2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), act(), nn.Linear(120, 84), act(),
            output_layer(84, num_classes))

    def forward(self, x):
        size = tuple(x.shape[-2:])
        if x.ndim != 4 or x.shape[1] != self.in_channels or size not in ((28, 28), (32, 32)):
            c = self.in_channels
            raise ValueError(f"lenet5({c}→{self.num_classes}): expected input (N, {c}, 28, 28) "
                             f"or (N, {c}, 32, 32), got {tuple(x.shape)}")
        if size == (28, 28):
            x = pad(x, (2, 2, 2, 2))
        return self.classifier(self.features(x))


def lenet5(in_channels=1, num_classes=10, activation="relu", pool="max"):
    """LeNet-5 for 28×28 or 32×32 images with ``in_channels`` channels; ``activation``
    ('relu', 'tanh', ...) and ``pool`` ('max' or 'avg'; LeCun's was average pooling with tanh).
    See LeNet5."""
    return LeNet5(in_channels, num_classes, activation, pool)
