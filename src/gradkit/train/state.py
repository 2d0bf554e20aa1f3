"""TrainerState, where training is, and batch_accuracy, the accuracy the Trainer reports."""

from dataclasses import dataclass, field

import numpy as np

from gradkit.tensor import Tensor


@dataclass
class TrainerState:
    """Where training is. ``epoch``: the epoch in progress (1-based), or the last one done;
    ``step``: optimizer steps done; ``batch_idx``: batches done in the current epoch (0 once
    the epoch has ended); ``record``: this step's metrics; ``epoch_record``: this epoch's;
    ``history``: every finished epoch's record; ``batch``, ``output``, ``loss``: the current
    step's (x, y), model output and loss Tensor; ``elapsed``: seconds of training so far."""

    epoch: int = 0
    step: int = 0
    batch_idx: int = 0
    record: dict = field(default_factory=dict)
    epoch_record: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    totals: dict = field(default_factory=dict)
    batch: tuple = None
    output: Tensor = None
    loss: Tensor = None
    elapsed: float = 0.0
    in_batch: bool = False

    @property
    def metrics(self):
        """The record being filled now: the step's during a step, else the epoch's."""
        return self.record if self.in_batch else self.epoch_record


def batch_accuracy(output, target):
    """(correct, counted) for scores (N, C, ...) and class indices (N, ...) or soft targets
    (class probabilities of the output's shape: non-negative, summing to 1 over dim 1; the
    argmax class counts); None when accuracy does not apply (regression, a single output)."""
    if output.ndim < 2 or output.shape[1] < 2:
        return None
    pred = output.argmax(axis=1)
    if target.dtype.kind in "iu" and target.shape == pred.shape:
        labels = target
    elif (target.dtype.kind == "f" and target.shape == output.shape and target.min() >= 0
          and np.allclose(target.sum(axis=1), 1.0, atol=1e-3)):
        labels = target.argmax(axis=1)
    else:
        return None
    return int(np.count_nonzero(pred == labels)), pred.size
