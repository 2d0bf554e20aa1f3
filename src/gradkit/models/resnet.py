"""Residual networks (He et al. 2016): the CIFAR ResNet-20/32/56 and a ResNet-18 for small
images, with optional stochastic depth (Huang et al. 2016).

A basic block computes  y = relu(shortcut(x) + F(x)),  F = conv3 → BN → relu → conv3 → BN.
The shortcut is the identity when shapes match; when a stage halves the size and widens:

- option A (CIFAR ResNets): take every second pixel and append zero channels, no parameters;
- option B (ResNet-18): a 1×1 convolution with stride 2 followed by BatchNorm.

Stochastic depth, in the paper's form: block l of L survives with probability
p_l = 1 − (l/L)·p_drop (linear decay from ~1 at the input to 1 − p_drop at the last block).
In training, once per forward pass (for the whole batch) the block keeps its branch with
probability p_l, and otherwise skips it entirely: y = relu(shortcut(x)) (no computation, no
BatchNorm statistics update). In evaluation every branch is used, scaled by its survival
probability: y = relu(shortcut(x) + p_l·F(x)), which is deterministic.
"""

from gradkit import nn, random
from gradkit.models._base import Model, output_layer, check_count, check_probability
from gradkit.nn import functional as F
from gradkit.ops.shape import pad


class ZeroPadShortcut(nn.Module):
    """Option-A shortcut: x (N, C_in, H, W) -> (N, C_out, ⌈H/s⌉, ⌈W/s⌉): every s-th pixel,
    then C_out − C_in zero channels appended after the C_in existing ones. No parameters."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.in_planes, self.planes, self.stride = in_planes, planes, stride

    def forward(self, x):
        s = self.stride
        if s != 1:
            x = x[:, :, ::s, ::s]
        return pad(x, (0, 0, 0, 0, 0, self.planes - self.in_planes))

    def extra_repr(self):
        return f"{self.in_planes}→{self.planes}, stride={self.stride}"


class BasicBlock(nn.Module):
    """y = relu(shortcut(x) + F(x)) with F = conv3(stride) → BN → relu → conv3 → BN.

    ``shortcut`` 'A' (zero padding) or 'B' (1×1 conv + BN) where the shape changes, the
    identity otherwise. ``survival`` < 1 turns on stochastic depth (see the module docs)."""

    def __init__(self, in_planes, planes, stride=1, shortcut="B", survival=1.0):
        super().__init__()
        self.survival = survival
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride == 1 and in_planes == planes:
            self.shortcut = nn.Identity()
        elif shortcut == "A":
            self.shortcut = ZeroPadShortcut(in_planes, planes, stride)
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride,
                                                    bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = self.shortcut(x)
        if (self.training and self.survival < 1.0
                and random.default_generator.random() >= self.survival):
            return F.relu(identity)
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if not self.training and self.survival < 1.0:
            out = out * self.survival
        return F.relu(out + identity)

    def extra_repr(self):
        return f"survival={self.survival:.4g}" if self.survival < 1.0 else ""


class ResNet(Model):
    """stem conv3(C→w₀) → BN → relu, then one stage of basic blocks per width (the first
    block of every stage after the first halves the size), global average pooling and a
    fully connected layer to the logits. Stages are ``layer1``, ``layer2``, ... (PyTorch's
    names), so state_dict keys read ``layer2.0.conv1.weight``."""

    def __init__(self, arch, blocks, widths, shortcut, num_classes=10, in_channels=3,
                 stochastic_depth=0.0):
        super().__init__()
        check_count(num_classes, "num_classes", arch)
        check_count(in_channels, "in_channels", arch)
        p_drop = check_probability(stochastic_depth, "stochastic_depth", arch)
        self.arch, self.in_channels, self.num_classes = arch, in_channels, num_classes
        self.stochastic_depth = p_drop
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        total, index, planes_in = sum(blocks), 0, widths[0]
        for stage, (n, planes) in enumerate(zip(blocks, widths)):
            layer = nn.Sequential()
            for i in range(n):
                index += 1
                stride = 2 if stage > 0 and i == 0 else 1
                layer.append(BasicBlock(planes_in, planes, stride, shortcut,
                                        survival=1.0 - index / total * p_drop))
                planes_in = planes
            setattr(self, f"layer{stage + 1}", layer)
        self.num_stages = len(blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = output_layer(planes_in, num_classes)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self.arch}({self.in_channels}→{self.num_classes}): expected "
                             f"input (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        x = F.relu(self.bn1(self.conv1(x)))
        for stage in range(1, self.num_stages + 1):
            x = getattr(self, f"layer{stage}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def _cifar_resnet(depth, num_classes, stochastic_depth, in_channels):
    n = (depth - 2) // 6
    return ResNet(f"resnet{depth}", (n, n, n), (16, 32, 64), "A", num_classes, in_channels,
                  stochastic_depth)


def resnet20(num_classes=10, stochastic_depth=0.0, in_channels=3):
    """CIFAR ResNet-20 (He et al. 2016, §4.2): 3×3 stem with 16 channels, three stages of 3
    basic blocks with 16, 32, 64 channels on 32², 16², 8² maps, option-A shortcuts, global
    average pooling, fc. 6·3 + 2 = 20 layers, 0.27M parameters (269,722 for 10 classes).
    ``stochastic_depth`` is the drop probability of the last block (Huang et al. use 0.5)."""
    return _cifar_resnet(20, num_classes, stochastic_depth, in_channels)


def resnet32(num_classes=10, stochastic_depth=0.0, in_channels=3):
    """CIFAR ResNet-32: as resnet20 with 5 blocks per stage; 0.46M parameters."""
    return _cifar_resnet(32, num_classes, stochastic_depth, in_channels)


def resnet56(num_classes=10, stochastic_depth=0.0, in_channels=3):
    """CIFAR ResNet-56: as resnet20 with 9 blocks per stage; 0.85M parameters."""
    return _cifar_resnet(56, num_classes, stochastic_depth, in_channels)


def resnet18(num_classes=10, stochastic_depth=0.0, in_channels=3):
    """ResNet-18 (He et al. 2016, ImageNet layout: four stages of 2 basic blocks with 64, 128,
    256, 512 channels, option-B 1×1 convolution shortcuts) adapted to small images: the 7×7
    stride-2 stem and its max pool are replaced by one 3×3 stride-1 convolution, so a 32×32
    input reaches the last stage at 4×4. 11.2M parameters for 10 classes."""
    return ResNet("resnet18", (2, 2, 2, 2), (64, 128, 256, 512), "B", num_classes,
                  in_channels, stochastic_depth)
