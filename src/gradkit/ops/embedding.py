"""F.embedding: a lookup of rows of a weight matrix by integer index (PyTorch's semantics).

    out[..., :] = W[i[...], :]              i: int64 or int32 of any shape, W: (V, D)
    dW[v] = Σ_{positions p with i_p = v} g_p   (duplicates accumulate; the gradient of a gather
                                              is a scatter-add)

Options, as PyTorch: ``padding_idx`` (its row gets no gradient), ``scale_grad_by_freq``
(each row's gradient divided by how often its index occurs in this batch), ``max_norm``
(before the lookup, each looked-up row whose ``norm_type``-norm exceeds max_norm is scaled in
place by max_norm/(norm + 1e-7), outside the graph, as torch.embedding_renorm_).
Only dense gradients: ``sparse=True`` raises NotImplementedError.

F.embedding_bag reduces the rows of each bag without building the (*, D) lookup: bag b holds
the positions p with bag(p) = b (the rows of a 2-d input, or offsets[b] ≤ p < offsets[b + 1]
of a 1-d one), less those whose index is padding_idx; with r_p = W[i_p]:

    sum   out[b] = Σ_p w_p·r_p                 dW[i_p] += w_p·g[b],  dw_p = ⟨g[b], r_p⟩
    mean  out[b] = Σ_p r_p / n_b               dW[i_p] += g[b] / n_b
    max   out[b, d] = max_p r_p[d]             dW[i_q, d] += g[b, d], q the first argmax

(w_p the per_sample_weights, mode 'sum' only; n_b the bag's size). An empty bag gives 0 and
passes no gradient; scale_grad_by_freq divides dW[v] by the count of v in the bags, as
F.embedding does. Here gradkit differs from PyTorch 2.13's CPU embedding_bag on purpose: with
repeated indices that one divides rows by counts that belong to other indices (indices
[1, 2, 4, 5, 4, 3, 2, 9, 0, 0, 4]: row 1 halved, row 2 not); without repeats both agree.
"""

import numpy as np

from gradkit.autograd import engine
from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError

__all__ = ["embedding", "embedding_bag"]


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


def padding_index(padding_idx, num_embeddings, label):
    """``padding_idx`` in [0, num_embeddings) (a negative one counts from the end), or None;
    ArgumentError naming ``label`` when it is outside ±num_embeddings."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ArgumentError(f"{label}: padding_idx must be within num_embeddings "
                            f"({num_embeddings}), got {padding_idx}")
    return padding_idx % num_embeddings


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
    padding_idx = padding_index(padding_idx, num, "embedding")
    indices = input._data
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"embedding: index {bad} is out of range for num_embeddings={num}")
    if max_norm is not None:
        _renorm(weight, indices.reshape(-1), max_norm, norm_type)
    return Embedding.apply(input, weight, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)


class EmbeddingBag(Function):
    """out[b] = Σ w_p·W[i_p] (sum), Σ W[i_p]/n_b (mean) or max_p W[i_p] (max) over bag b;
    dW scatters g[bag(p)] back (to the first argmax with max), dw_p = ⟨g[bag(p)], W[i_p]⟩."""

    def forward(self, weight, weights, rows, bags, keep, num_bags, mode, scale_grad_by_freq):
        self.keep, self.all_positions = keep, None if weights is None else weights.shape
        rows, bags = rows[keep], bags[keep]
        weights = None if weights is None else weights[keep]
        self.rows, self.bags, self.shape = rows, bags, weight.shape
        self.freq = (np.bincount(rows, minlength=weight.shape[0]) if scale_grad_by_freq
                     else None)
        self.mode, self.weights = mode, weights
        picked = weight[rows]
        self.picked = picked if weights is not None else None
        count = np.bincount(bags, minlength=num_bags)
        out = np.zeros((num_bags, weight.shape[1]), weight.dtype)
        if mode == "max":
            best = np.full_like(out, -np.inf)
            np.maximum.at(best, bags, picked)
            positions = np.where(picked == best[bags], np.arange(rows.size)[:, None], rows.size)
            self.first = np.full(out.shape, rows.size)
            np.minimum.at(self.first, bags, positions)
            return np.where(count[:, None] > 0, best, out)
        np.add.at(out, bags, picked if weights is None else picked * weights[:, None])
        if mode == "mean":
            self.scale = (1 / np.maximum(count, 1)).astype(weight.dtype)
            out *= self.scale[:, None]
        return out

    def backward(self, g):
        rows, bags, (num, dim) = self.rows, self.bags, self.shape
        dw = None
        grad = np.zeros((num, dim), g.dtype)
        if self.mode == "max":
            filled = self.first < rows.size
            bag, column = np.nonzero(filled)
            np.add.at(grad, (rows[self.first[filled]], column), g[bag, column])
            return grad, None
        per_row = g[bags]
        if self.weights is not None and self.needs_input_grad[1]:
            dw = np.zeros(self.all_positions, g.dtype)
            dw[self.keep] = np.einsum("pd,pd->p", per_row, self.picked)
        if self.mode == "mean":
            per_row = per_row * self.scale[bags][:, None]
        elif self.weights is not None:
            per_row = per_row * self.weights[:, None]
        if self.freq is not None:
            per_row = per_row / self.freq[rows].astype(g.dtype)[:, None]
        np.add.at(grad, rows, per_row)
        return grad, dw


def _bags(op, input, offsets, include_last_offset):
    """(indices (M,), the bag of each, number of bags) from a 2-d input or a 1-d one with
    offsets."""
    if input.ndim == 2:
        if offsets is not None:
            raise ArgumentError(f"{op}: if input is 2D, then offsets has to be None, as input "
                                f"is treated as a mini-batch of fixed length sequences")
        B, L = input.shape
        return input._data.reshape(-1), np.repeat(np.arange(B), L), B
    if input.ndim != 1:
        raise ShapeError(f"{op}: input has to be a 1D or 2D Tensor, got {tuple(input.shape)}")
    if offsets is None or offsets.ndim != 1:
        raise ArgumentError(f"{op}: offsets has to be a 1D Tensor, got "
                            f"{None if offsets is None else tuple(offsets.shape)}")
    if offsets.dtype not in (np.int64, np.int32):
        raise ArgumentError(f"{op}: expected offsets of dtype int64 or int32, got "
                            f"{offsets.dtype}")
    starts, M = offsets._data.astype(np.int64), input.shape[0]
    if starts.size and starts[0] != 0:
        raise ArgumentError(f"{op}: offsets[0] has to be 0, i.e., the first sequence in the "
                            f"mini-batch has to start from position 0, got {starts[0]}")
    if np.any(np.diff(starts) < 0) or (starts.size and starts[-1] > M):
        raise ArgumentError(f"{op}: offsets must be non-decreasing and at most the input's "
                            f"length {M}, got {starts.tolist()}")
    num_bags = max(starts.size - 1, 0) if include_last_offset else starts.size
    bags = np.searchsorted(starts, np.arange(M), side="right") - 1
    return input._data, bags, num_bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """The sum, mean or max of the rows of ``weight`` (V, D) over each bag of indices:
    (B, D). input (B, L) is B bags of L; a 1-d input is split at ``offsets`` (B starts, or
    B + 1 bounds with include_last_offset). See the module docstring."""
    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ArgumentError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if sparse:
        raise NotImplementedError(f"{op}: sparse gradients are not supported; use sparse=False")
    if mode == "max" and scale_grad_by_freq:
        raise ArgumentError(f"{op}: max mode does not support scaling the gradient by the "
                            f"frequency")
    if input.dtype not in (np.int64, np.int32):
        raise ArgumentError(f"{op}: expected indices of dtype int64 or int32, got {input.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"{op}: expected weight (num_embeddings, embedding_dim), got "
                         f"{tuple(weight.shape)}")
    if per_sample_weights is not None:
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ShapeError(f"{op}: expected per_sample_weights of the input's shape "
                             f"{tuple(input.shape)}, got {tuple(per_sample_weights.shape)}")
        if mode != "sum":
            raise NotImplementedError(f"{op}: per_sample_weights is only supported for "
                                      f"mode='sum', got mode={mode!r}")
        if per_sample_weights.dtype != weight.dtype:
            raise ArgumentError(f"{op}: expected per_sample_weights of the weight's dtype "
                                f"{weight.dtype}, got {per_sample_weights.dtype}")
    num = weight.shape[0]
    padding_idx = padding_index(padding_idx, num, op)
    rows, bags, num_bags = _bags(op, input, offsets, include_last_offset)
    rows = rows.astype(np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= num):
        bad = rows.min() if rows.min() < 0 else rows.max()
        raise IndexError(f"{op}: index {bad} is out of range for num_embeddings={num}")
    if max_norm is not None:
        _renorm(weight, rows, max_norm, norm_type)
    keep = (bags < num_bags) & (rows != (-1 if padding_idx is None else padding_idx))
    weights = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    return EmbeddingBag.apply(weight, weights, rows=rows, bags=bags, keep=keep,
                              num_bags=num_bags, mode=mode,
                              scale_grad_by_freq=scale_grad_by_freq)
