"""nn.Unfold and nn.Fold: the layers of F.unfold (im2col) and F.fold (col2im).

Each holds its options and calls gradkit.ops.fold, where the block geometry, the formulas and
the backward live (the gradient of one is the other). No parameters.

    unfold = nn.Unfold(kernel_size=2, stride=2)
    cols = unfold(gk.randn(8, 3, 32, 32))                          # (8, 12, 256)
    nn.Fold(output_size=32, kernel_size=2, stride=2)(cols).shape   # (8, 3, 32, 32)
"""

from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.ops.fold import fold, unfold

__all__ = ["Fold", "Unfold"]


class Unfold(Module):
    """Sliding blocks as columns: (N, C, H, W) → (N, C·∏kernel_size, L), or unbatched
    (C, H, W) → (C·∏kernel_size, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        expect_tensor(f"Unfold({self.extra_repr()})", input)
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns back into images, overlaps summed: (N, C·∏kernel_size, L) → (N, C,
    *output_size), or unbatched (C·∏kernel_size, L) → (C, *output_size)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        expect_tensor(f"Fold({self.extra_repr()})", input)
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
