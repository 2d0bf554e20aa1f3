"""The small 1-D CNN of the MNIST-1D paper (Greydanus 2020) for its 40-sample signals."""

from gradkit import nn
from gradkit.models._base import Model, output_layer, check_count
from gradkit.nn import functional as F


class MNIST1DCNN(Model):
    """x (N, L) or (N, C, L) ->

        conv1d k5 s2 p1 (C→ch) → relu → conv1d k3 s2 p1 (ch→ch) → relu
        → conv1d k3 s2 p1 (ch→ch) → relu → flatten → fc(ch·L₃→num_classes)

    with L₁ = ⌊(L − 3)/2⌋ + 1, L₂ = ⌊(L₁ − 1)/2⌋ + 1, L₃ = ⌊(L₂ − 1)/2⌋ + 1; for L = 40:
    19, 10, 5, and 5,210 parameters with ch = 25, C = 1 and 10 classes (the paper's model)."""

    arch = "mnist1d_cnn"

    def __init__(self, in_channels=1, num_classes=10, channels=25, length=40):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("num_classes", num_classes),
                            ("channels", channels)):
            check_count(value, name, "mnist1d_cnn")
        check_count(length, "length", "mnist1d_cnn", minimum=3)
        self.in_channels, self.num_classes, self.length = in_channels, num_classes, length
        self.conv1 = nn.Conv1d(in_channels, channels, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        out = (length - 3) // 2 + 1
        for _ in range(2):
            out = (out - 1) // 2 + 1
        self.fc = output_layer(channels * out, num_classes)

    def forward(self, x):
        c, n = self.in_channels, self.length
        if x.ndim == 2 and c == 1 and x.shape[1] == n:
            x = x.unsqueeze(1)
        if x.ndim != 3 or tuple(x.shape[1:]) != (c, n):
            flat = f"(N, {n}) or " if c == 1 else ""
            raise ValueError(f"mnist1d_cnn({c}→{self.num_classes}): expected input "
                             f"{flat}(N, {c}, {n}), got {tuple(x.shape)}")
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        return self.fc(x.flatten(1))


def mnist1d_cnn(in_channels=1, num_classes=10, channels=25, length=40):
    """The MNIST-1D paper's CNN for signals of ``length`` samples (see MNIST1DCNN)."""
    return MNIST1DCNN(in_channels, num_classes, channels, length)
