"""Reductions beyond sum and mean: prod, amax/amin, std_mean/var_mean, count_nonzero, any/all."""

__all__ = []
