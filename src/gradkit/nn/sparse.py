"""nn.Embedding: a learned table of ``num_embeddings`` vectors of size ``embedding_dim``,
looked up by integer index (the math and the options are in gradkit/ops/embedding.py).

Init as PyTorch: W ~ N(0, 1), with the ``padding_idx`` row set to 0; ``from_pretrained``
takes the given table as is (its padding row is left as given, as in PyTorch).

    emb = nn.Embedding(10, 3, padding_idx=0)
    emb(gk.tensor([[1, 2], [0, 9]])).shape   # (2, 2, 3)
"""

import numpy as np

from gradkit.devices import check_device
from gradkit.errors import ArgumentError, ShapeError
from gradkit.nn import init
from gradkit.nn._input import expect_tensor
from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.ops.embedding import embedding

__all__ = ["Embedding"]


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
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentError(f"Embedding({num_embeddings}, {embedding_dim}): padding_idx "
                                    f"must be within num_embeddings, got {padding_idx}")
            padding_idx %= num_embeddings
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
