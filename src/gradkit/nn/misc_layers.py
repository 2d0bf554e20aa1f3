"""Layers without a room of their own: the shrinks, RReLU, Softmax2d, Unflatten, LPPool, RMSNorm."""

__all__ = []
