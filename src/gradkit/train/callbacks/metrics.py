"""MetricsLogger: the run's metrics as JSON lines (``metrics.jsonl``), one object a line.

    {"kind": "step", "epoch": 1, "step": 10, "loss": 0.52, "accuracy": 0.84, "lr": 0.1,
     "time": 1.93}
    {"kind": "epoch", "epoch": 1, "step": 40, "train_loss": 0.61, "train_accuracy": 0.8,
     "val_loss": 0.44, "val_accuracy": 0.87, "lr": 0.1, "time": 7.2}

``epoch`` is 1-based, ``step`` counts optimizer steps, ``time`` is seconds of training.
val_* are absent without a val_loader, accuracies when they do not apply; values other
callbacks report (``grad_norm``, ``ema_val_accuracy``) follow ``time``. A non-finite value
is written as ``null`` (NaN is not JSON). When a resumed run starts, the lines written after
the checkpoint by the interrupted run (step > the resumed step, or torn by a crash) are
dropped, so the file reads as one uninterrupted run.
"""

import json
import math
from pathlib import Path

from gradkit.train.callbacks.base import PRIORITY_READER, Callback

_STEP_KEYS = ("loss", "accuracy", "lr")
_EPOCH_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr")


def _clean(value):
    return value if not isinstance(value, float) or math.isfinite(value) else None


def _line(kind, epoch, step, record, keys, elapsed):
    line = {"kind": kind, "epoch": epoch, "step": step}
    line.update((k, record[k]) for k in keys if k in record)
    line["time"] = elapsed
    line.update((k, v) for k, v in record.items() if k not in line)
    return json.dumps({k: _clean(v) for k, v in line.items()})


def _step_of(line):
    """The step a line was written at; a torn line (a crash mid-write) counts as after all."""
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return math.inf


class MetricsLogger(Callback):
    """Append a line per ``every_n_steps`` steps and one per epoch to ``path`` (default
    ``out_dir/metrics.jsonl``)."""

    priority = PRIORITY_READER
    main_rank_only = True  # writes or prints: rank 0 alone runs it on N ranks

    def __init__(self, path=None, every_n_steps=1):
        if not isinstance(every_n_steps, int) or every_n_steps < 1:
            raise ValueError(f"MetricsLogger: every_n_steps must be a positive int, got "
                             f"{every_n_steps!r}")
        self.path = Path(path) if path is not None else None
        self.every_n_steps = every_n_steps
        self._file = None

    def on_fit_start(self, trainer):
        path = self.path
        if path is None:
            if trainer.out_dir is None:
                raise ValueError("MetricsLogger: no file to write; pass path or give the "
                                 "Trainer an out_dir")
            path = trainer.out_dir / "metrics.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        step = trainer.state.step
        if step > 0 and path.exists():
            kept = [ln for ln in path.read_text().splitlines() if _step_of(ln) <= step]
            path.write_text("".join(ln + "\n" for ln in kept))
            self._file = open(path, "a", buffering=1, encoding="utf-8")
        else:
            self._file = open(path, "w", buffering=1, encoding="utf-8")

    def on_batch_end(self, trainer):
        s = trainer.state
        if s.step % self.every_n_steps == 0:
            self._file.write(_line("step", s.epoch, s.step, s.record, _STEP_KEYS, s.elapsed)
                             + "\n")

    def on_epoch_end(self, trainer):
        s = trainer.state
        record = {k: v for k, v in s.epoch_record.items() if k not in ("epoch", "step", "time")}
        self._file.write(_line("epoch", s.epoch, s.step, record, _EPOCH_KEYS,
                               s.epoch_record.get("time", s.elapsed)) + "\n")

    def on_fit_end(self, trainer):
        self._close()

    def on_exception(self, trainer, exception):
        self._close()

    def _close(self):
        if self._file is not None:
            self._file.close()
            self._file = None
