"""What a run report draws, as plain data: report/ renders it and reads no run folder itself
(``gradkit.run_report`` gathers a run folder into these).

    RunData(name="spiral", steps=[...], epochs=[...], config_text="...",
            evaluation=Evaluation(classes=["0", "1"], x=x, y=y, probs=probs))

``steps``/``epochs`` are the records of metrics.jsonl (see train/callbacks/metrics.py);
``results`` is results.json as a dict; ``warnings`` are shown in a box at the top of the
report (divergence, a NaN-guard stop, skipped metrics lines); ``evaluation`` is what the
headline weights do on the test split (``not_evaluated`` says why when it is None).
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Evaluation:
    """A model's class probabilities on the test split.

    ``x``: raw samples (N, *input_shape); ``y``: (N,) true class indices; ``probs``: (N, C);
    ``predict``: raw samples -> probabilities, used to draw the decision regions of 2-D data
    (None: not drawn); ``checkpoint``: which weights, e.g. "checkpoints/last.safetensors"."""

    classes: list
    x: np.ndarray
    y: np.ndarray
    probs: np.ndarray
    predict: object = None
    checkpoint: str = ""

    @property
    def pred(self):
        return self.probs.argmax(axis=1)

    @property
    def accuracy(self):
        return float((self.pred == self.y).mean()) if len(self.y) else float("nan")

    def counts(self):
        """(C, C) confusion counts: rows true class, columns predicted class."""
        n = len(self.classes)
        counts = np.zeros((n, n), np.int64)
        np.add.at(counts, (self.y, self.pred), 1)
        return counts

    def per_class_accuracy(self):
        """{class name: accuracy} for the classes present in ``y``."""
        pred = self.pred
        return {name: float((pred[self.y == c] == c).mean())
                for c, name in enumerate(self.classes) if (self.y == c).any()}

    def mistakes(self, limit):
        """Indices of misclassified samples, most confident mistakes first, at most ``limit``."""
        pred = self.pred
        wrong = np.flatnonzero(pred != self.y)
        order = np.argsort(-self.probs[wrong, pred[wrong]], kind="stable")
        return wrong[order][:limit]


@dataclass
class RunData:
    """Everything a run report shows (see the module docstring)."""

    name: str
    steps: list = field(default_factory=list)
    epochs: list = field(default_factory=list)
    config_text: str = "(no config.yaml)"
    results: dict = None
    warnings: list = field(default_factory=list)
    location: str = ""
    evaluation: Evaluation = None
    not_evaluated: str = None
    model_name: str = None
    parameters: int = None
    first_layer: tuple = None  # (parameter name, weight ndarray, input shape)
    max_misclassified: int = 32
    monitor: dict = None  # monitor.json of `gradkit train --monitor`: findings and figures
