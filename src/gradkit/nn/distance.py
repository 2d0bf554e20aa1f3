"""nn.CosineSimilarity and nn.PairwiseDistance."""

__all__ = []
