"""F.conv_transpose1d and F.conv_transpose2d."""

__all__ = []
