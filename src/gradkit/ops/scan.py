"""Cumulative ops along a dim: cumsum, cumprod, cummax, cummin, logcumsumexp."""

__all__ = []
