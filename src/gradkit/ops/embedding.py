"""F.embedding (padding_idx, max_norm)."""

__all__ = []
