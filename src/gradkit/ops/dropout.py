"""Dropout variants: dropout1d, dropout2d, alpha_dropout, feature_alpha_dropout."""

__all__ = []
