"""F.unfold (im2col) and F.fold (col2im)."""

__all__ = []
