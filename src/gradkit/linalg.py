"""gradkit.linalg (torch.linalg): norm, vector_norm, matrix_norm."""

__all__ = []
