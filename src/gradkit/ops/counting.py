"""Counting, binning, searching and statistics of samples (torch.* names)."""

__all__ = []
