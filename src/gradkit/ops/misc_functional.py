"""F functions without a room of their own: the shrinks, rrelu, rms_norm, gumbel_softmax, lp_pool."""

__all__ = []
