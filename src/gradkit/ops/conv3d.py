"""F.conv3d."""

__all__ = []
