"""NaNGuard: stop at the first non-finite loss or gradient, and say where and what to try.

Checked after backward, before the optimizer step, so the weights are still the last finite
ones. Raises ``NonFiniteError`` naming the step, the first parameter (in
``model.named_parameters()`` order) whose gradient is non-finite (or whose weights already
are), and suggesting a learning rate ten times lower (and, for a run folder,
``gradkit doctor RUN``). Runs at WRITER priority, before
gradient clipping (which would spread a NaN over every gradient).
"""

import math

import numpy as np

from gradkit.train.callbacks.base import PRIORITY_WRITER, Callback


class NonFiniteError(FloatingPointError):
    """A NaN or infinity in the loss or a gradient, found by NaNGuard."""


def _finite(array):
    """True when every entry is finite (one sum: NaN/inf propagate; overflow re-checked)."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = array.sum()
    return bool(np.isfinite(total)) or bool(np.isfinite(array).all())


def _count(array):
    return int(array.size - np.count_nonzero(np.isfinite(array)))


class NaNGuard(Callback):
    """Raise NonFiniteError at the first non-finite loss or gradient."""

    priority = PRIORITY_WRITER

    def on_after_backward(self, trainer):
        loss = float(trainer.state.loss.item())
        named = list(trainer.model.named_parameters())
        bad_grad = next(((n, p) for n, p in named
                         if p.grad is not None and not _finite(p.grad._data)), None)
        if math.isfinite(loss) and bad_grad is None:
            return
        s = trainer.state
        lines = [f"NaNGuard: stopped at epoch {s.epoch}, step {s.step + 1} "
                 f"(batch {s.batch_idx + 1} of the epoch):"]
        lines.append(f"the loss is {loss}" if not math.isfinite(loss) else
                     f"the loss is finite ({loss:.6g}) but a gradient is not")
        bad_weight = next(((n, p) for n, p in named if not _finite(p._data)), None)
        if bad_weight is not None:
            n, p = bad_weight
            lines.append(f"parameter '{n}' {tuple(p.shape)} already holds {_count(p._data)} "
                         "non-finite values")
        if bad_grad is not None:
            n, p = bad_grad
            lines.append(f"first non-finite gradient: parameter '{n}' {tuple(p.shape)} "
                         f"({_count(p.grad._data)} of {p.grad._data.size} entries)")
        if bad_weight is None and named:
            n, p = max(named, key=lambda item: float(np.abs(item[1]._data).max(initial=0)))
            lines.append(f"the weights are finite; the largest |w| is "
                         f"{float(np.abs(p._data).max(initial=0)):.3g} in '{n}'")
        lr = trainer.optimizer.param_groups[0]["lr"]
        lines.append(f"try a lower learning rate (now {lr:g}; e.g. {lr / 10:g}), or clip the "
                     "gradients (GradientClipping)")
        if trainer.out_dir is not None:
            lines.append(f"diagnose it: gradkit doctor {trainer.out_dir}")
        raise NonFiniteError("\n  ".join(lines))
