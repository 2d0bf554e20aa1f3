"""Checkpoint: keep the best k checkpoints by a monitored metric, plus ``last``.

    Checkpoint(monitor="val_accuracy", save_top_k=3)   # checkpoints/epoch012-val_accuracy0.9812
                                                       # .safetensors (3 best) + last.safetensors

At each trigger (default: every epoch) the trainer's whole state is written (see
``Trainer.save_checkpoint``): under the metric's name when the value is among the best
``save_top_k`` so far (the file that falls out of the top k is deleted), and always as
``last.safetensors`` when ``save_last``. ``mode`` "max" keeps the highest values, "min" the
lowest; by default it is "max" for a metric named like an accuracy and "min" otherwise.
A non-finite value is never among the best. ``monitor`` may be a list of names: the first one
the record has is used (the Trainer's default, ["val_accuracy", "val_loss"], works for
classifiers and regressors alike). ``monitor=None`` keeps the ``save_top_k`` most recent
(``epoch012.safetensors``). ``save_top_k=-1`` keeps all, 0 none (only ``last``). With an
iteration trigger the step is in the name too (``epoch003-step000500-loss0.1234``).
``every_n_steps=N`` also writes ``last`` after every N-th optimizer step (a run killed in a
long epoch then loses at most N steps; the resume continues mid-epoch, bit-identically).
"""

import math
from pathlib import Path

from gradkit.train.callbacks.base import PRIORITY_READER, Callback, make_trigger, monitored


def infer_mode(monitor, mode, who):
    """'max' or 'min': ``mode`` when given, else from the metric's name."""
    if mode is None:
        return "max" if monitor and "acc" in monitor else "min"
    if mode not in ("max", "min"):
        raise ValueError(f"{who}: mode must be 'max' or 'min', got {mode!r}")
    return mode


class Checkpoint(Callback):
    """Save training checkpoints; the best ``save_top_k`` by ``monitor`` and ``last``.

    ``dirpath`` defaults to the trainer's ``out_dir/checkpoints``. After fit,
    ``best_model_path`` and ``best_model_score`` name the best file and its value."""

    priority = PRIORITY_READER
    main_rank_only = True  # writes or prints: rank 0 alone runs it on N ranks

    def __init__(self, dirpath=None, monitor=None, mode=None, save_top_k=1, save_last=True,
                 trigger=(1, "epoch"), every_n_steps=None):
        if not isinstance(save_top_k, int) or save_top_k < -1:
            raise ValueError(f"Checkpoint: save_top_k must be an int >= -1, got {save_top_k!r}")
        if every_n_steps is not None and (not isinstance(every_n_steps, int) or
                                          isinstance(every_n_steps, bool) or every_n_steps < 1):
            raise ValueError(f"Checkpoint: every_n_steps must be an int >= 1 or None, got "
                             f"{every_n_steps!r}")
        self.dirpath = Path(dirpath) if dirpath is not None else None
        self.candidates = [monitor] if isinstance(monitor, str) else list(monitor or [])
        self.monitor = self.candidates[0] if len(self.candidates) == 1 else None
        self._mode = mode
        self.mode = infer_mode(self.monitor, mode, "Checkpoint")
        self.save_top_k = save_top_k
        self.save_last = save_last
        self.every_n_steps = every_n_steps
        self._base = make_trigger(trigger)
        self.trigger = trigger if every_n_steps is None else self._fires
        self.best = []  # [score, file name], best first
        self._dir = self.dirpath

    def directory(self, trainer):
        if self.dirpath is not None:
            return self.dirpath
        if trainer.out_dir is None:
            raise ValueError("Checkpoint: no folder to write to; pass dirpath or give the "
                             "Trainer an out_dir")
        return trainer.out_dir / "checkpoints"

    @property
    def best_model_path(self):
        return self._dir / self.best[0][1] if self.best else None

    @property
    def best_model_score(self):
        return self.best[0][0] if self.best else None

    def on_fit_start(self, trainer):
        self._dir = self.directory(trainer)

    def _fires(self, trainer, event):
        """The trigger given, or (with every_n_steps) the end of every N-th step."""
        return self._base_fires(trainer, event) or (
            event == "batch_end" and trainer.state.step % self.every_n_steps == 0)

    def _base_fires(self, trainer, event):
        return self._base is None or self._base(trainer, event)

    def on_batch_end(self, trainer):
        if self._base_fires(trainer, "batch_end"):
            self._save(trainer, with_step=True)
        elif self.save_last:
            trainer.save_checkpoint(self.directory(trainer) / "last.safetensors")

    def on_epoch_end(self, trainer):
        self._save(trainer, with_step=False)

    def _save(self, trainer, with_step):
        s = trainer.state
        name = f"epoch{s.epoch:03d}" + (f"-step{s.step:06d}" if with_step else "")
        if self.monitor is None and self.candidates:
            metrics = trainer.state.metrics
            self.monitor = next((m for m in self.candidates if m in metrics), self.candidates[0])
            self.mode = infer_mode(self.monitor, self._mode, "Checkpoint")
        if self.monitor is None:
            score = float(s.step)
            better = True
        else:
            score = monitored(trainer, self.monitor, "Checkpoint")
            name += f"-{self.monitor}{score:.4f}"
            better = math.isfinite(score)
        name += ".safetensors"
        if self.save_top_k != 0 and better and self._ranks(score, name):
            dropped = self._insert(score, name)
            trainer.save_checkpoint(self._dir / name)
            for old in dropped:
                (self._dir / old).unlink(missing_ok=True)
        if self.save_last:
            trainer.save_checkpoint(self._dir / "last.safetensors")

    def _better(self, a, b):
        return a > b if self.mode == "max" or self.monitor is None else a < b

    def _ranks(self, score, name):
        kept = [entry for entry in self.best if entry[1] != name]
        return (self.save_top_k < 0 or len(kept) < self.save_top_k
                or self._better(score, kept[-1][0]))

    def _insert(self, score, name):
        """Add (score, name) in rank order (after equal scores); return the files dropped."""
        self.best = [entry for entry in self.best if entry[1] != name]
        at = next((i for i, (s, _) in enumerate(self.best) if self._better(score, s)),
                  len(self.best))
        self.best.insert(at, [score, name])
        if self.save_top_k < 0:
            return []
        dropped = [n for _, n in self.best[self.save_top_k:]]
        del self.best[self.save_top_k:]
        return dropped

    def state_dict(self):
        return {"best": [list(entry) for entry in self.best]}

    def load_state_dict(self, state_dict):
        self.best = [list(entry) for entry in state_dict.get("best", [])]
