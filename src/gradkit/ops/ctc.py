"""F.ctc_loss: connectionist temporal classification (Graves et al. 2006), PyTorch's semantics.

For sample n with T_n frames of log-probabilities lp (T, N, C) and a target y of S_n labels,
the extended target l' = (b, y_1, b, y_2, …, y_S, b) (b: the blank) has L = 2·S_n + 1 states.
In log space, with ⊕ = logsumexp and α, β each including the frame's emission:

    α_0(0) = lp_0(b),  α_0(1) = lp_0(y_1)
    α_t(s) = lp_t(l'_s) + [α_{t−1}(s) ⊕ α_{t−1}(s−1) ⊕ α_{t−1}(s−2)·skip(s)]
    β_{T−1}(L−1) = lp_{T−1}(b),  β_{T−1}(L−2) = lp_{T−1}(y_S)
    β_t(s) = lp_t(l'_s) + [β_{t+1}(s) ⊕ β_{t+1}(s+1) ⊕ β_{t+1}(s+2)·skip(s+2)]
    loss_n = −(α_{T−1}(L−1) ⊕ α_{T−1}(L−2))

skip(s) allows the jump over a blank only between different labels (l'_s ≠ b, l'_s ≠ l'_{s−2}).
The recursions loop over time only, vectorised over the batch and the states. The gradient is
PyTorch's: ∂/∂lp_t(c) = e^(lp_t(c)) − γ_t(c), γ_t(c) = Σ_{s: l'_s = c} e^(α_t(s) + β_t(s) −
lp_t(c) + loss_n) (the posterior of label c at frame t), 0 for t ≥ T_n. It is the gradient
with respect to the logits under a log_softmax (which is how log_probs are made), not the
partial derivative with respect to log_probs taken as free inputs (that is −γ).

An impossible alignment (T_n too short for the target and its repeats) has loss inf and nan
gradients; ``zero_infinity=True`` makes both 0. 'mean' divides each loss by its target length
(at least 1) and averages over the batch; 'sum' adds; 'none' returns (N,) (or () unbatched).
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ArgumentError, ShapeError
from gradkit.ops.loss import check_input
from gradkit.tensor import Tensor

__all__ = ["ctc_loss"]


def _logsumexp(*terms):
    """Elementwise a ⊕ b ⊕ … for arrays that may hold −inf (all −inf gives −inf)."""
    top = np.maximum.reduce(terms)
    safe = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return safe + np.log(sum(np.exp(t - safe) for t in terms))


def _shift(a, k, fill):
    """a moved k states right (k > 0) or left (k < 0) along the last axis, padded with fill."""
    out = np.full_like(a, fill)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def _alpha(emit, skip, valid, frames):
    """α for every frame: (T, N, L); frames past T_n keep their last value."""
    t_max = emit.shape[0]
    alpha = np.full(emit.shape, -np.inf, emit.dtype)
    first = np.where(np.arange(emit.shape[2]) < 2, emit[0], -np.inf)
    alpha[0] = np.where(valid & (frames > 0)[:, None], first, -np.inf)
    for t in range(1, t_max):
        prev = alpha[t - 1]
        step = emit[t] + _logsumexp(prev, _shift(prev, 1, -np.inf),
                                    np.where(skip, _shift(prev, 2, -np.inf), -np.inf))
        alpha[t] = np.where((t < frames)[:, None], np.where(valid, step, -np.inf), prev)
    return alpha


def _beta(emit, skip, valid, frames, states):
    """β for every frame: (T, N, L), −inf for frames past T_n."""
    t_max, n, width = emit.shape
    beta = np.full(emit.shape, -np.inf, emit.dtype)
    s = np.arange(width)
    last = valid & (s >= (states - 2)[:, None])  # the two states a path may end in
    skip_next = _shift(skip, -2, False)
    nxt = np.full((n, width), -np.inf, emit.dtype)
    for t in range(t_max - 1, -1, -1):
        step = emit[t] + _logsumexp(nxt, _shift(nxt, -1, -np.inf),
                                    np.where(skip_next, _shift(nxt, -2, -np.inf), -np.inf))
        start = np.where(last, emit[t], -np.inf)
        here = np.where((t == frames - 1)[:, None], start,
                        np.where((t < frames - 1)[:, None] & valid, step, -np.inf))
        beta[t] = nxt = here
    return beta


class CTCLoss(Function):
    """loss_n = −log Σ_paths Π_t p_t(path_t) by the α recursion (module docstring);
    dlp_t(c) = coef_n·(e^(lp_t(c)) − γ_t(c)) for t < T_n, 0 beyond (PyTorch's gradient)."""

    def forward(self, lp, labels, valid, skip, frames, lengths, reduction, zero_infinity):
        n = lp.shape[1]
        emit = lp[:, np.arange(n)[:, None], labels]  # (T, N, L): lp_t(l'_s)
        alpha = _alpha(emit, skip, valid, frames)
        states = 2 * lengths + 1
        rows = np.arange(n)
        end = alpha[np.maximum(frames - 1, 0), rows]  # (N, L) at each sample's last frame
        tail = np.take_along_axis(end, np.stack([states - 1, np.maximum(states - 2, 0)], 1), 1)
        tail[:, 1] = np.where(lengths > 0, tail[:, 1], -np.inf)
        nll = -_logsumexp(tail[:, 0], tail[:, 1])
        nll = np.where(frames > 0, nll, np.where(lengths > 0, np.inf, 0)).astype(lp.dtype)
        self.infinite = np.isinf(nll) if zero_infinity else None
        if zero_infinity:
            nll = np.where(self.infinite, 0, nll).astype(lp.dtype)
        self.lp, self.emit, self.labels, self.valid, self.skip = lp, emit, labels, valid, skip
        self.frames, self.lengths, self.alpha, self.nll = frames, lengths, alpha, nll
        self.reduction = reduction
        if reduction == "none":
            return nll
        if reduction == "sum":
            return np.asarray(nll.sum(), lp.dtype)
        return np.asarray((nll / np.maximum(lengths, 1)).mean(), lp.dtype)

    def backward(self, g):
        lp, labels, frames, nll = self.lp, self.labels, self.frames, self.nll
        t_max, n, c = lp.shape
        beta = _beta(self.emit, self.skip, self.valid, frames, 2 * self.lengths + 1)
        ab = self.alpha + beta
        top = ab.max(axis=2, keepdims=True)
        top = np.where(np.isfinite(top), top, 0)
        posterior = np.zeros(lp.shape, lp.dtype)  # Σ_{s: l'_s = c} e^(α + β − top)
        t_idx, n_idx, _ = np.indices(ab.shape, sparse=True)
        np.add.at(posterior, (t_idx, n_idx, labels[None]), np.exp(ab - top))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_post = np.log(posterior) + top
            grad = np.exp(lp) - np.exp(log_post - lp + nll[None, :, None])
        coef = np.broadcast_to(np.asarray(g, lp.dtype), (n,))
        if self.reduction == "mean":
            coef = coef / (np.maximum(self.lengths, 1) * n)
        if self.infinite is not None:
            coef = np.where(self.infinite, 0, coef)
        grad *= coef[None, :, None].astype(lp.dtype)
        grad[np.arange(t_max)[:, None] >= frames[None, :]] = 0
        if self.infinite is not None:
            grad[:, self.infinite] = 0
        return grad, None, None, None, None, None


def _ints(value, name, op):
    array = value._data if isinstance(value, Tensor) else np.asarray(value)
    if array.size and array.dtype.kind not in "iub":
        raise TypeError(f"{op}: {name} must hold integers, got dtype {array.dtype}")
    return array.astype(np.intp).reshape(-1)


def _padded_targets(targets, lengths, n, op):
    """(N, S_max) labels from padded (N, S) targets or concatenated 1-D ones."""
    y = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
    y = y.astype(np.intp)
    width = int(lengths.max(initial=0))
    if y.ndim == 2:
        if y.shape[0] != n or y.shape[1] < width:
            raise ShapeError(f"{op}: padded targets must be (N, S) with N = {n} and S at least "
                             f"the longest target length {width}, got {y.shape}")
        return y[:, :width]
    if y.ndim != 1 or y.size != lengths.sum():
        raise ShapeError(f"{op}: concatenated targets must be 1-D with sum(target_lengths) = "
                         f"{int(lengths.sum())} labels, got {y.shape}")
    out = np.zeros((n, width), np.intp)
    out[np.arange(width) < lengths[:, None]] = y
    return out


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss of ``log_probs`` (T, N, C) (log_softmax output; or (T, C) for one sequence)
    against ``targets``: padded (N, S) or concatenated (sum(target_lengths),) class indices
    (not ``blank``); ``input_lengths`` and ``target_lengths`` (N,) give each sample's frames
    and labels. Labels outside [0, C) raise an IndexError (PyTorch does not check them)."""
    op = "ctc_loss"
    if reduction not in ("mean", "sum", "none"):
        raise ArgumentError(f"{op}: reduction must be 'mean', 'sum' or 'none', got "
                            f"{reduction!r}")
    check_input(log_probs, op)
    unbatched = log_probs.ndim == 2
    if log_probs.ndim not in (2, 3) or log_probs._data.size == 0:
        raise ShapeError(f"{op}: expected non-empty log_probs (T, N, C) or (T, C), got "
                         f"{tuple(log_probs.shape)}")
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    t_max, n, c = lp.shape
    if not 0 <= blank < c:
        raise ArgumentError(f"{op}: blank must be in the label range [0, {c}), got {blank}")
    frames = _ints(input_lengths, "input_lengths", op)
    lengths = _ints(target_lengths, "target_lengths", op)
    for name, values in (("input_lengths", frames), ("target_lengths", lengths)):
        if values.shape != (n,):
            raise ShapeError(f"{op}: {name} must have one entry per sample ({n}), got "
                             f"{values.shape[0]}")
        if (values < 0).any():
            raise ArgumentError(f"{op}: {name} must be non-negative, got {values.tolist()}")
    if (frames > t_max).any():
        raise ArgumentError(f"{op}: input_lengths must be at most T = {t_max}, got "
                            f"{frames.tolist()}")
    y = _padded_targets(targets.reshape(1, -1) if unbatched and isinstance(targets, Tensor)
                        else targets, lengths, n, op)
    s = np.arange(2 * y.shape[1] + 1)
    valid = s < (2 * lengths + 1)[:, None]
    inside = np.where(np.arange(y.shape[1]) < lengths[:, None], y, blank)
    if inside.size and (inside.min() < 0 or inside.max() >= c):
        bad = inside[(inside < 0) | (inside >= c)][0]
        raise IndexError(f"{op}: target label {int(bad)} is out of range for {c} classes")
    labels = np.full((n, s.size), blank, np.intp)
    labels[:, 1::2] = inside
    skip = (s % 2 == 1) & (s >= 2) & (labels != _shift(labels, 2, -1))
    out = CTCLoss.apply(lp, labels, valid, skip, frames, lengths, reduction=reduction,
                        zero_infinity=bool(zero_infinity))
    return out.reshape(()) if unbatched and reduction == "none" else out
