"""Random sampling ops (torch.* names)."""

__all__ = []
