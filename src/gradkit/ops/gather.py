"""Gather and scatter: gather, scatter, scatter_add, scatter_reduce, index_select, index_add, masked_fill, masked_select, masked_scatter, nonzero, take_along_dim."""

__all__ = []
