"""F.max_pool3d and F.avg_pool3d."""

__all__ = []
