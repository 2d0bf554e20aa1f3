"""Resampling layers over gradkit.ops.upsample, with PyTorch's names, arguments and reprs:
Upsample (F.interpolate with fixed options), UpsamplingNearest2d, UpsamplingBilinear2d
(bilinear with align_corners=True, as in PyTorch), PixelShuffle and PixelUnshuffle.

    up = nn.Upsample(scale_factor=2, mode="bilinear")
    up(gk.randn(1, 3, 16, 16)).shape                   # (1, 3, 32, 32)
    nn.PixelShuffle(2)(gk.randn(1, 12, 8, 8)).shape    # (1, 3, 16, 16)

The layers have no parameters; the index rules and the backward live in ops/upsample.py.
"""

from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.ops.upsample import interpolate, pixel_shuffle, pixel_unshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle", "Upsample", "UpsamplingBilinear2d",
           "UpsamplingNearest2d"]


class Upsample(Module):
    """Resamples input (N, C, *spatial) to ``size`` or by ``scale_factor`` with ``mode``
    (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area); see F.interpolate."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        expect_tensor(f"{self.name}({self.extra_repr()})", input)
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of input (N, C, H, W)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of input (N, C, H, W) with align_corners=True."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """(*, C·r², H, W) → (*, C, H·r, W·r) with r = ``upscale_factor``."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        expect_tensor(f"PixelShuffle({self.extra_repr()})", input)
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) → (*, C·r², H, W) with r = ``downscale_factor``."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        expect_tensor(f"PixelUnshuffle({self.extra_repr()})", input)
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
