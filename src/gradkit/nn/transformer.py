"""nn.TransformerEncoderLayer and nn.TransformerEncoder."""

__all__ = []
