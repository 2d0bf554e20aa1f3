"""nn.Upsample and nn.PixelShuffle."""

__all__ = []
