"""nn.CosineSimilarity and nn.PairwiseDistance: the layer forms of F.cosine_similarity and
F.pairwise_distance (the math and PyTorch's ε conventions are in gradkit/ops/distance.py).

    cos = nn.CosineSimilarity(dim=1)
    cos(gk.randn(4, 8), gk.randn(4, 8)).shape    # (4,)
"""

from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.ops.distance import cosine_similarity, pairwise_distance

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Σ x1·x2 / (max(‖x1‖, ε)·max(‖x2‖, ε)) along ``dim``."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        expect_tensor("CosineSimilarity", x1)
        expect_tensor("CosineSimilarity", x2)
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x1 − x2 + ε‖_p along the last dim."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        expect_tensor("PairwiseDistance", x1)
        expect_tensor("PairwiseDistance", x2)
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
