"""nn.Unfold and nn.Fold."""

__all__ = []
