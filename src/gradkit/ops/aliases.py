"""torch.* names that are other names of gradkit ops, or F's functions under torch's name."""

__all__ = []
