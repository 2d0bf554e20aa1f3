"""F.embedding: a lookup of rows of a weight matrix by integer index (PyTorch's semantics).

    out[..., :] = W[i[...], :]              i: int64 or int32 of any shape, W: (V, D)
    dW[v] = Σ_{positions p with i_p = v} g_p   (duplicates accumulate; the gradient of a gather
                                              is a scatter-add)

Options, as PyTorch: ``padding_idx`` (its row gets no gradient), ``scale_grad_by_freq``
(each row's gradient divided by how often its index occurs in this batch), ``max_norm``
(before the lookup, each looked-up row whose ``norm_type``-norm exceeds max_norm is scaled in
place by max_norm/(norm + 1e-7), outside the graph, as torch.embedding_renorm_).
Only dense gradients: ``sparse=True`` raises NotImplementedError.
"""

import numpy as np

from gradkit.autograd import engine
from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError

__all__ = ["embedding"]


class Embedding(Function):
    """out = W[i];  dW = scatter-add of g into the rows i (÷ count(i) with scale_grad_by_freq;
    the padding_idx row stays 0);  no gradient for the indices."""

    def forward(self, indices, weight, padding_idx, scale_grad_by_freq):
        self.indices, self.weight_shape = indices.reshape(-1), weight.shape
        self.padding_idx, self.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight[indices]

    def backward(self, g):
        rows, (num, dim) = self.indices, self.weight_shape
        g = g.reshape(rows.size, dim)
        if self.scale_grad_by_freq:
            counts = np.bincount(rows, minlength=num)
            g = g / counts[rows].astype(g.dtype)[:, None]
        grad = np.zeros((num, dim), g.dtype)
        np.add.at(grad, rows, g)
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return None, grad


def _renorm(weight, rows, max_norm, norm_type):
    """Scale, in place, the given rows of ``weight`` whose norm exceeds ``max_norm``."""
    data = weight._data
    rows = np.unique(rows)
    norms = np.linalg.norm(data[rows], ord=norm_type, axis=1)
    big = rows[norms > max_norm]
    if big.size:
        scale = max_norm / (norms[norms > max_norm] + 1e-7)
        data[big] *= scale.astype(data.dtype)[:, None]
        engine.note_change(weight._vc)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (V, D) looked up by the integer tensor ``input`` (*): (*, D)."""
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; use "
                                  "sparse=False")
    if input.dtype not in (np.int64, np.int32):
        raise ArgumentError("embedding: expected indices of dtype int64 or int32, got "
                            f"{input.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: expected weight (num_embeddings, embedding_dim), got "
                         f"{tuple(weight.shape)}")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ArgumentError(f"embedding: padding_idx must be within num_embeddings ({num}),"
                                f" got {padding_idx}")
        padding_idx %= num
    indices = input._data
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"embedding: index {bad} is out of range for num_embeddings={num}")
    if max_norm is not None:
        _renorm(weight, indices.reshape(-1), max_norm, norm_type)
    return Embedding.apply(input, weight, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)
