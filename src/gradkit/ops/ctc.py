"""F.ctc_loss (connectionist temporal classification)."""

__all__ = []
