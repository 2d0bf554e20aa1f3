"""Layout ops: flip, roll, repeat_interleave, tile, unflatten, narrow, movedim, broadcast_to, meshgrid."""

__all__ = []
