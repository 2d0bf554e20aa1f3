"""Normalization over features: layer_norm, group_norm, instance_norm, local_response_norm."""

__all__ = []
