"""F.interpolate, F.pixel_shuffle, F.pixel_unshuffle."""

__all__ = []
