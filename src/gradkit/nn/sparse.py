"""nn.Embedding."""

__all__ = []
