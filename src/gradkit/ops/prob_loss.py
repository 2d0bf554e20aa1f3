"""Losses on distributions: kl_div, poisson_nll_loss, gaussian_nll_loss."""

__all__ = []
