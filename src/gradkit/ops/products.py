"""Products: einsum, tensordot, outer, bmm, baddbmm, addmm, cross, cdist."""

__all__ = []
