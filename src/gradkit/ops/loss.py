"""Classification losses on logits or log-probabilities, each one fused op.

cross_entropy (softmax + negative log-likelihood, with class indices or class probabilities
as targets), nll_loss, binary_cross_entropy and binary_cross_entropy_with_logits, with
PyTorch's signatures and semantics. Every loss takes ``reduction``: 'mean' (the default),
'sum' or 'none' (one loss per sample, or per element for the binary losses). Class weights,
``pos_weight`` and the targets of the index-target losses are constants (no gradient).

Shapes: input (N, C) or (N, C, d1, ...) or (C,); class-index target (N,) or (N, d1, ...) or ().
Inputs with extra dims are moved to (N·d1·…, C) rows before the fused op.

Dtypes: the input must be a floating-point Tensor (integer logits are refused with the fix,
``.float()``); a class weight given as a Tensor or an array must have the input's dtype
(PyTorch refuses the mix too, and gradkit never mixes float32 and float64 silently); a list
of weights and the targets are cast to the input's dtype.
"""

import numpy as np

from gradkit.autograd.function import Function
from gradkit.errors import ShapeError
from gradkit.ops.unary import sigmoid_array
from gradkit.tensor import Tensor

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"]


def check_input(input, op):
    """Refuse what no loss takes: a non-Tensor input, or one that is not floating point."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected the input as a Tensor, got {type(input).__name__}; "
                        "wrap it with gk.tensor(...)")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected floating-point scores, got input of dtype "
                        f"{input.dtype}; convert it with input.float()")


def check_target(input, target, op):
    """check_input, then the target as a Tensor of the input's dtype (a number or an array is
    wrapped), broadcastable against the input; ShapeError if it is not."""
    check_input(input, op)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, input.dtype))
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ShapeError(f"{op}: input {tuple(input.shape)} and target {tuple(target.shape)} "
                         "do not broadcast") from None
    return target if target.dtype == input.dtype else target.to(input.dtype)


def class_weight(weight, c, dtype, op):
    """A class weight (C,) as an array of the input's dtype. A Tensor or an array must have
    that dtype already (PyTorch refuses a mix too); a list is converted."""
    if weight is None:
        return None
    typed = isinstance(weight, (Tensor, np.ndarray))
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise ValueError(f"{op}: weight of shape {w.shape} does not fit {c} classes; "
                         f"expected ({c},)")
    if typed and w.dtype != dtype:
        raise TypeError(f"{op}: the class weight has dtype {w.dtype} but the input has "
                        f"{np.dtype(dtype)}; make them match, e.g. weight.to(input.dtype) "
                        "(or convert the model with .float() / .double())")
    return w.astype(dtype, copy=False)


def legacy_reduction(reduction, size_average, reduce, op):
    """Check ``reduction``, honouring PyTorch's deprecated size_average/reduce pair."""
    if size_average is not None or reduce is not None:
        if reduce is False:
            reduction = "none"
        else:
            reduction = "sum" if size_average is False else "mean"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def reduce_loss(loss, reduction, denominator=None):
    """Forward of a reduction: Σ loss / denominator (default: the count), Σ loss, or loss."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            total = total / (loss.size if denominator is None else denominator)
    return np.asarray(total, loss.dtype)


def spread_grad(g, reduction, shape, denominator=None):
    """Backward of reduce_loss: the gradient of each elementwise loss, of the given shape."""
    if reduction == "none":
        return g
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            g = g / (int(np.prod(shape)) if denominator is None else denominator)
    return np.broadcast_to(g, shape)


# ----- softmax cross-entropy and NLL -----

class CrossEntropy(Function):
    """Fused log-softmax + NLL with class indices, class weights w, label smoothing ε and an
    ignored label. For row i with label y (z: (n, C) logits, p = softmax(z), C classes):

        loss_i = (1 − ε)·w_y·(−log p_y) + (ε/C)·Σ_c w_c·(−log p_c)      (0 if y is ignored)
        mean   = Σ_i loss_i / Σ_i w_{y_i}     (over the rows that are not ignored)
        dz_i   = coef_i·((a_i + B)·p_i − a_i·e_y − b)

    with a_i = (1 − ε)·w_y, b_c = (ε/C)·w_c, B = Σ_c b_c and coef_i the gradient reaching
    loss_i (g, g/Σw or g_i). With w = 1 and ε = 0 this is the textbook dz = p − e_y.
    log p = (z − max z) − log Σ e^(z − max z) never overflows, for logits of any size."""

    def forward(self, z, y, weight, valid, reduction, label_smoothing):
        n, c = z.shape
        rows = np.arange(n)
        shifted = z - z.max(axis=1, keepdims=True)
        z_y = shifted[rows, y]
        b = None
        if label_smoothing > 0:
            b = np.full(c, label_smoothing / c, z.dtype) if weight is None else (
                weight * (label_smoothing / c))
            smooth = shifted @ b
        p = np.exp(shifted, out=shifted)
        total = p.sum(axis=1)
        lse = np.log(total)
        p *= (1.0 / total)[:, None]
        w_y = weight[y] if weight is not None else None
        a = (1.0 - label_smoothing) * (1.0 if w_y is None else w_y)
        loss = a * (lse - z_y)
        if b is not None:
            loss += b.sum() * lse - smooth
        if valid is not None:
            loss = np.where(valid, loss, np.zeros((), z.dtype))
        if w_y is not None:
            self.denominator = float(w_y.sum() if valid is None else w_y[valid].sum())
        else:
            self.denominator = n if valid is None else int(valid.sum())
        self.p, self.y, self.rows, self.a, self.b = p, y, rows, a, b
        self.valid, self.reduction = valid, reduction
        return reduce_loss(loss, reduction, self.denominator)

    def backward(self, g):
        p, y, a, b, valid = self.p, self.y, self.a, self.b, self.valid
        coef = g / self.denominator if self.reduction == "mean" else g
        if valid is not None:
            coef = coef * valid
        scale = np.asarray(coef * (a + (0.0 if b is None else b.sum())))
        dz = p * (scale[:, None] if scale.ndim else scale)
        dz[self.rows, y] -= coef * a
        if b is not None:
            dz -= (coef[:, None] if np.ndim(coef) else coef) * b
        return dz, None, None, None


class CrossEntropyProbs(Function):
    """Cross-entropy against class probabilities t (soft labels, e.g. mixup):

        loss_i = −Σ_c w_c·t'_ic·log p_ic,   t' = (1 − ε)·t + ε/C,   mean over the n rows
        dz_i = p_i·Σ_c w_c t'_ic − w ⊙ t'_i,    dt_i = −(1 − ε)·w ⊙ log p_i"""

    def forward(self, z, t, weight, reduction, label_smoothing):
        c = z.shape[1]
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        if label_smoothing > 0:
            t = t * (1.0 - label_smoothing) + label_smoothing / c
        wt = t * weight if weight is not None else t
        self.log_p, self.wt, self.weight = log_p, wt, weight
        self.reduction, self.smoothing = reduction, label_smoothing
        return reduce_loss(-(wt * log_p).sum(axis=1), reduction)

    def backward(self, g):
        need_z, need_t = self.needs_input_grad[:2]
        log_p, wt = self.log_p, self.wt
        coef = spread_grad(g, self.reduction, log_p.shape[:1])[:, None]
        dz = coef * (np.exp(log_p) * wt.sum(axis=1, keepdims=True) - wt) if need_z else None
        dt = None
        if need_t:
            w_log_p = log_p if self.weight is None else log_p * self.weight
            dt = coef * w_log_p * -(1.0 - self.smoothing)
        return dz, dt, None


class NLLLoss(Function):
    """loss_i = −w_y·x_iy for log-probabilities x (0 if y is ignored); mean = Σ loss / Σ w_y.
    dx_iy = −w_y·coef_i, every other dx_ic = 0."""

    def forward(self, x, y, weight, valid, reduction):
        n = x.shape[0]
        w_y = weight[y] if weight is not None else np.ones(n, x.dtype)
        if valid is not None:
            w_y = np.where(valid, w_y, np.zeros((), x.dtype))
        self.shape, self.y, self.w_y, self.reduction = x.shape, y, w_y, reduction
        self.denominator = w_y.sum()
        return reduce_loss(-w_y * x[np.arange(n), y], reduction, self.denominator)

    def backward(self, g):
        coef = spread_grad(g, self.reduction, self.y.shape, self.denominator)
        dx = np.zeros(self.shape, self.w_y.dtype)
        dx[np.arange(len(self.y)), self.y] = -coef * self.w_y
        return dx, None, None, None


def _rows(input, target, op, index_target):
    """(n, C) rows of the input and the matching target rows, and the shape of a per-sample
    ('none') result: (C,) -> (1, C); (N, C, d1, ...) -> (N·d1·…, C) with the class dim last."""
    if input.ndim == 0:
        raise ValueError(f"{op}: expected input (N, C), (N, C, d1, ...) or (C,), got ()")
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    sample_shape = (input.shape[:1] + input.shape[2:]) if input.ndim > 1 else ()
    expected = sample_shape if index_target else input.shape
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} does not fit input "
                         f"{tuple(input.shape)}: expected "
                         + (f"class indices {expected}" if index_target else
                            f"class probabilities {expected}"))
    if input.ndim > 2:
        order = (0,) + tuple(range(2, input.ndim)) + (1,)
        input = input.permute(*order)
        target = target.permute(*order) if not index_target else target
    if input.ndim == 2:
        return input, target, sample_shape
    x = input.reshape(-1, c)
    t = target.reshape(-1) if index_target else target.reshape(-1, c)
    return x, t, sample_shape


def _labels(target, c, ignore_index, op):
    """Class indices as intp (ignored ones replaced by 0) and the mask of the others (None
    when no label is ignored); a label outside [0, c) raises an error that names it."""
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be integers, got dtype {y.dtype}")
    valid = None
    if y.size:
        lo, hi = y.min(), y.max()
        if lo <= ignore_index <= hi and (y == ignore_index).any():
            valid = y != ignore_index
            y = np.where(valid, y, 0)
            lo, hi = y.min(), y.max()
    if y.size and (lo < 0 or hi >= c):
        bad = y[(y < 0) | (y >= c)][0]
        raise IndexError(f"{op}: target label {int(bad)} is out of range for {c} classes "
                         f"(labels must be in [0, {c - 1}], or ignore_index={ignore_index})")
    return y.astype(np.intp, copy=False), valid


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` (N, C) against class indices (N,) or class
    probabilities (N, C) (PyTorch's F.cross_entropy, extra dims (N, C, d1, ...) included).

    ``weight`` (C,) rescales each class; the mean then divides by the summed weights of the
    targets. ``ignore_index`` labels contribute nothing. ``label_smoothing`` ε mixes the target
    with the uniform distribution: (1 − ε)·target + ε/C. Labels out of range raise an
    IndexError that names the label."""
    op = "cross_entropy"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    check_input(input, op)
    index_target = target.dtype.kind in "iub"
    x, t, sample_shape = _rows(input, target, op, index_target)
    c = x.shape[1]
    w = class_weight(weight, c, x.dtype, op)
    if index_target:
        y, valid = _labels(t, c, ignore_index, op)
        out = CrossEntropy.apply(x, y, w, valid, reduction=reduction,
                                 label_smoothing=label_smoothing)
    else:
        if t.dtype != x.dtype:
            raise TypeError(f"{op}: probability targets of dtype {t.dtype} do not match the "
                            f"input's {x.dtype}")
        out = CrossEntropyProbs.apply(x, t, w, reduction=reduction,
                                      label_smoothing=label_smoothing)
    return out.reshape(*sample_shape) if reduction == "none" else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C) (e.g. log_softmax output)
    at class indices ``target`` (N,): −w_y·input[i, y]; mean divides by Σ w_y."""
    op = "nll_loss"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    check_input(input, op)
    x, t, sample_shape = _rows(input, target, op, True)
    y, valid = _labels(t, x.shape[1], ignore_index, op)
    out = NLLLoss.apply(x, y, class_weight(weight, x.shape[1], x.dtype, op), valid,
                        reduction=reduction)
    return out.reshape(*sample_shape) if reduction == "none" else out


# ----- binary (sigmoid) cross-entropy -----

class BinaryCrossEntropy(Function):
    """ℓ = −w·(t·log x + (1 − t)·log(1 − x)) for probabilities x, each log clamped at −100
    (PyTorch's guard against log 0);  dx = w·(x − t)/max(x(1 − x), 1e-12),
    dt = −w·(log x − log(1 − x))."""

    def forward(self, x, t, weight, reduction):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100.0)
            log_1mx = np.maximum(np.log1p(-x), -100.0)
        loss = -(t * log_x + (1.0 - t) * log_1mx)
        if weight is not None:
            loss *= weight
        self.x, self.t, self.w, self.reduction = x, t, weight, reduction
        self.log_x, self.log_1mx = log_x, log_1mx
        return reduce_loss(loss, reduction)

    def backward(self, g):
        need_x, need_t = self.needs_input_grad[:2]
        x, t, w = self.x, self.t, self.w
        g = spread_grad(g, self.reduction, x.shape)
        if w is not None:
            g = g * w
        dx = g * (x - t) / np.maximum(x * (1.0 - x), 1e-12) if need_x else None
        dt = g * (self.log_1mx - self.log_x) if need_t else None
        return dx, dt, None


class BCEWithLogits(Function):
    """Sigmoid + binary cross-entropy on logits x, stable for any |x| (no σ is formed):

        ℓ = w·((1 − t)·x + l·softplus(−x)),   l = 1 + (pos_weight − 1)·t,
        softplus(−x) = max(−x, 0) + log(1 + e^(−|x|))
        dx = w·((1 − t) − l·(1 − σ(x)))      (= w·(σ(x) − t) without pos_weight)
        dt = w·((pos_weight − 1)·softplus(−x) − x)"""

    def forward(self, x, t, weight, pos_weight, reduction):
        sp_neg = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
        lw = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * t
        loss = (1.0 - t) * x + lw * sp_neg
        if weight is not None:
            loss *= weight
        self.x, self.t, self.w, self.pw, self.lw = x, t, weight, pos_weight, lw
        self.sp_neg, self.reduction = sp_neg, reduction
        return reduce_loss(loss, reduction)

    def backward(self, g):
        need_x, need_t = self.needs_input_grad[:2]
        x, t, w, pw = self.x, self.t, self.w, self.pw
        g = spread_grad(g, self.reduction, x.shape)
        if w is not None:
            g = g * w
        dx = dt = None
        if need_x:
            dx = g * ((1.0 - t) - self.lw * sigmoid_array(-x))
        if need_t:
            dt = g * (-x if pw is None else (pw - 1.0) * self.sp_neg - x)
        return dx, dt, None, None


def _same_shape(input, target, op):
    check_input(input, op)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target size {tuple(target.shape)} must be the same as input "
                         f"size {tuple(input.shape)}")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return target


def _broadcast_constant(value, shape, dtype, name, op):
    if value is None:
        return None
    array = value._data if isinstance(value, Tensor) else np.asarray(value)
    try:
        fits = np.broadcast_shapes(array.shape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: {name} of shape {array.shape} does not broadcast to the input "
                         f"shape {tuple(shape)}")
    return array.astype(dtype, copy=False)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """−w·(t·log x + (1 − t)·log(1 − x)) for probabilities x in [0, 1] (multi-label: one
    independent binary problem per element). Prefer binary_cross_entropy_with_logits."""
    op = "binary_cross_entropy"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    target = _same_shape(input, target, op)
    x = input._data
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"{op}: all elements of input should be between 0 and 1 (got values "
                         f"in [{x.min():.4g}, {x.max():.4g}]); use "
                         "binary_cross_entropy_with_logits for logits")
    w = _broadcast_constant(weight, input.shape, input.dtype, "weight", op)
    return BinaryCrossEntropy.apply(input, target, w, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid cross-entropy of logits x against targets t in [0, 1], computed stably.
    ``pos_weight`` (broadcast along the last, class dim) weighs the positive term: > 1 raises
    recall for rare labels; ``weight`` rescales each element."""
    op = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(reduction, size_average, reduce, op)
    target = _same_shape(input, target, op)
    w = _broadcast_constant(weight, input.shape, input.dtype, "weight", op)
    pw = _broadcast_constant(pos_weight, input.shape, input.dtype, "pos_weight", op)
    return BCEWithLogits.apply(input, target, w, pw, reduction=reduction)
