"""Diagonals and triangles: diag, diagonal, diag_embed, tril, triu, trace."""

__all__ = []
