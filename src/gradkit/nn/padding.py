"""The padding layers: ZeroPad2d, ConstantPad, ReflectionPad, ReplicationPad."""

__all__ = []
