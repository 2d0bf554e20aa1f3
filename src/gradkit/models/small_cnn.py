"""Small AlexNet- and VGG-style networks for 32×32 images (CIFAR-10 sized), with BatchNorm
after every convolution (the convolutions then have no bias) and dropout in the classifier."""

from gradkit import nn
from gradkit.models._base import Model, output_layer, check_count, check_probability


class SmallCNN(Model):
    """x (N, C, 32, 32) -> ``features`` -> ``classifier`` -> logits (N, num_classes)."""

    def __init__(self, arch, in_channels, num_classes, features, classifier):
        super().__init__()
        self.arch, self.in_channels, self.num_classes = arch, in_channels, num_classes
        self.features, self.classifier = features, classifier

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != (32, 32):
            c = self.in_channels
            raise ValueError(f"{self.arch}({c}→{self.num_classes}): expected input "
                             f"(N, {c}, 32, 32), got {tuple(x.shape)}")
        return self.classifier(self.features(x))


def _conv_bn_relu(c_in, c_out, kernel_size):
    return [nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(c_out), nn.ReLU()]


def _check(where, in_channels, num_classes, dropout):
    check_count(in_channels, "in_channels", where)
    check_count(num_classes, "num_classes", where)
    return check_probability(dropout, "dropout", where, upper_open=True)


def alexnet_small(in_channels=3, num_classes=10, dropout=0.5):
    """AlexNet's shape (Krizhevsky et al. 2012) scaled to 32×32: five convolutions, the first
    two 5×5, overlapping 3×3 max pooling at stride 2, and three fully connected layers with
    dropout:

        conv5(C→64) pool → conv5(64→128) pool → conv3(128→192) → conv3(192→192)
        → conv3(192→128) pool                                     32² → 16² → 8² → 128×4×4
        → dropout → fc(2048→512) → relu → dropout → fc(512→256) → relu → fc(256→num_classes)

    each convolution followed by BatchNorm and ReLU. 2.2M parameters for C = 3 and 10 classes."""
    dropout = _check("alexnet_small", in_channels, num_classes, dropout)

    def pool():
        return nn.MaxPool2d(3, stride=2, padding=1)

    features = nn.Sequential(
        *_conv_bn_relu(in_channels, 64, 5), pool(),
        *_conv_bn_relu(64, 128, 5), pool(),
        *_conv_bn_relu(128, 192, 3), *_conv_bn_relu(192, 192, 3), *_conv_bn_relu(192, 128, 3),
        pool())
    classifier = nn.Sequential(
        nn.Flatten(), nn.Dropout(dropout), nn.Linear(128 * 4 * 4, 512), nn.ReLU(),
        nn.Dropout(dropout), nn.Linear(512, 256), nn.ReLU(), output_layer(256, num_classes))
    return SmallCNN("alexnet_small", in_channels, num_classes, features, classifier)


def vgg_small(in_channels=3, num_classes=10, widths=(32, 64, 128), dropout=0.5):
    """VGG's shape (Simonyan & Zisserman 2015) scaled to 32×32: stages of two 3×3
    convolutions (each with BatchNorm and ReLU) and a 2×2 max pool, one stage per width in
    ``widths``, then two fully connected layers with dropout:

        [conv3 → conv3 → pool2] × len(widths)                    32² → widths[-1]×(32/2^k)²
        → dropout → fc(→256) → relu → dropout → fc(256→num_classes)

    0.81M parameters with the default widths (32, 64, 128), C = 3 and 10 classes."""
    dropout = _check("vgg_small", in_channels, num_classes, dropout)
    widths = tuple(widths)
    if not 1 <= len(widths) <= 5:
        raise ValueError(f"vgg_small: widths must hold 1 to 5 stage widths (32×32 input "
                         f"halved per stage), got {widths!r}")
    layers, c_in = [], in_channels
    for width in widths:
        check_count(width, "every stage width", "vgg_small")
        layers += _conv_bn_relu(c_in, width, 3) + _conv_bn_relu(width, width, 3)
        layers.append(nn.MaxPool2d(2))
        c_in = width
    side = 32 >> len(widths)
    classifier = nn.Sequential(
        nn.Flatten(), nn.Dropout(dropout), nn.Linear(c_in * side * side, 256), nn.ReLU(),
        nn.Dropout(dropout), output_layer(256, num_classes))
    return SmallCNN("vgg_small", in_channels, num_classes, nn.Sequential(*layers), classifier)
