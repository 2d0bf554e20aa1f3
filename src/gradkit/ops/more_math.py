"""Elementwise math beyond ops/elementwise.py (torch.* names)."""

__all__ = []
