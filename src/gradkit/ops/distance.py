"""F.cosine_similarity, F.pairwise_distance, F.bilinear."""

__all__ = []
