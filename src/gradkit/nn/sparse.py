"""nn.Embedding: a learned table of ``num_embeddings`` vectors of size ``embedding_dim``,
looked up by integer index, and nn.EmbeddingBag, which sums, averages or maxes the looked-up
vectors of each bag of indices (the math and the options are in gradkit/ops/embedding.py).

Init as PyTorch: W ~ N(0, 1), with the ``padding_idx`` row set to 0; ``from_pretrained``
takes the given table as is (its padding row is left as given, as in PyTorch).

    emb = nn.Embedding(10, 3, padding_idx=0)
    emb(gk.tensor([[1, 2], [0, 9]])).shape   # (2, 2, 3)
    bag = nn.EmbeddingBag(10, 3, mode="sum")
    bag(gk.tensor([1, 2, 4, 5]), gk.tensor([0, 2])).shape   # (2, 3): bags [1, 2], [4, 5]
"""

import numpy as np

from gradkit.devices import check_device
from gradkit.errors import ArgumentError, ShapeError
from gradkit.nn import init
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.ops.embedding import embedding, embedding_bag, padding_index

__all__ = ["Embedding", "EmbeddingBag"]


class Embedding(Module):
    """y[..., :] = W[i[...], :], W: (num_embeddings, embedding_dim); see the module docstring."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported; use "
                                      "sparse=False")
        padding_idx = padding_index(padding_idx, num_embeddings,
                                    f"Embedding({num_embeddings}, {embedding_dim})")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            dtype = np.dtype(np.float32 if dtype is None else dtype)
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(f"Embedding({num_embeddings}, {embedding_dim}): expected "
                                 f"_weight of shape {(num_embeddings, embedding_dim)}, got "
                                 f"{tuple(_weight.shape)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        expect_tensor(f"Embedding({self.num_embeddings}, {self.embedding_dim})", input)
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose table is ``embeddings`` (V, D), shared, not copied; frozen
        (requires_grad=False) unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ShapeError("Embedding.from_pretrained: expected embeddings (num_embeddings, "
                             f"embedding_dim), got {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text


class EmbeddingBag(Module):
    """out[b] = the sum, mean or max of W[i] over the indices i of bag b, W: (num_embeddings,
    embedding_dim); forward(input, offsets=None, per_sample_weights=None), see
    F.embedding_bag. Init as nn.Embedding."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        check_device(type(self).__name__, device)
        label = f"EmbeddingBag({num_embeddings}, {embedding_dim})"
        if sparse:
            raise NotImplementedError(f"{label}: sparse gradients are not supported; use "
                                      "sparse=False")
        if mode not in ("sum", "mean", "max"):
            raise ArgumentError(f"{label}: mode has to be one of sum, mean or max, got "
                                f"{mode!r}")
        padding_idx = padding_index(padding_idx, num_embeddings, label)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx
        if _weight is None:
            dtype = np.dtype(np.float32 if dtype is None else dtype)
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(f"{label}: expected _weight of shape "
                                 f"{(num_embeddings, embedding_dim)}, got "
                                 f"{tuple(_weight.shape)}")
            self.weight = Parameter(_weight)

    reset_parameters = Embedding.reset_parameters

    def forward(self, input, offsets=None, per_sample_weights=None):
        expect_tensor(f"EmbeddingBag({self.num_embeddings}, {self.embedding_dim})", input)
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose table is ``embeddings`` (V, D), shared, not copied; frozen
        unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ShapeError("EmbeddingBag.from_pretrained: expected embeddings "
                             f"(num_embeddings, embedding_dim), got {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings, include_last_offset, padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
