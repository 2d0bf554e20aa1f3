"""Margin losses: cosine_embedding_loss, margin_ranking_loss, triplet_margin_loss."""

__all__ = []
