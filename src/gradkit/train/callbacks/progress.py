"""ProgressBar: a per-batch bar inside each epoch, then one summary line per epoch.

On a terminal, a tqdm bar (``pip install tqdm``) is redrawn in place at most ``refresh``
seconds apart with the batch position, the step's loss, accuracy and learning rate, the speed
in samples/s (and batches/s) and the epoch's ETA; at the epoch's end it is cleared and
replaced by the epoch's summary:

    epoch 3/10  40/100 [████▌      ]  loss 0.2345  acc 0.9120  lr 1.00e-02  51200 samples/s
        800.0 it/s  ETA 0:00:00                                   (one line on the terminal)
    epoch 3/10 step 300: train_loss 0.2301 train_accuracy 0.9150 ... (3.1 s, 96.8 it/s, ...)

The summary lines go to ``stream`` (default ``sys.stdout``); the bar goes to ``bar_stream``
(default: ``stream`` when one is given, else ``sys.stderr``, as tqdm does) and is drawn only
when that is a terminal and tqdm is installed. In a log file, CI or a pipe, or without tqdm,
only the summary lines are written, so logs stay readable.
"""

import math
import shutil
import sys
import time

from gradkit.train.callbacks.base import PRIORITY_READER, Callback


def _clock(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _number(key, value):
    if not isinstance(value, float):
        return str(value)
    if key == "lr" or (value != 0 and not 1e-3 <= abs(value) < 1e4):
        return f"{value:.2e}"
    return f"{value:.4f}"


def _tqdm():
    """tqdm's class, or None when it is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def _is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressBar(Callback):
    """Print training progress: summary lines to ``stream``, the bar to ``bar_stream`` (see
    the module docstring)."""

    priority = PRIORITY_READER
    main_rank_only = True  # writes or prints: rank 0 alone runs it on N ranks

    def __init__(self, stream=None, refresh=0.1, bar_stream=None):
        self.stream = stream
        self.bar_stream = bar_stream
        self.refresh = refresh
        self._out = None
        self._bar = None
        self._tqdm = None

    def on_fit_start(self, trainer):
        self._out = self.stream if self.stream is not None else sys.stdout
        bar_out = self.bar_stream or self.stream or sys.stderr
        self._bar_out = bar_out
        self._tqdm = _tqdm() if _is_terminal(bar_out) else None
        try:
            self._per_epoch = len(trainer.train_loader)
        except TypeError:
            self._per_epoch = None

    def on_epoch_start(self, trainer):
        self._start = time.perf_counter()
        self._steps = self._samples = 0
        if self._tqdm is not None:
            self._bar = self._tqdm(
                total=self._per_epoch, initial=trainer.state.batch_idx, file=self._bar_out,
                desc=self._epoch_label(trainer), leave=False, mininterval=self.refresh,
                ncols=shutil.get_terminal_size().columns - 1,  # a wrapped line cannot be redrawn
                bar_format=self._layout(""))

    def _layout(self, stats):
        """tqdm's bar_format: position and bar, then our stats (braces escaped)."""
        where = "{n_fmt}/{total_fmt} [{bar}]" if self._per_epoch else "{n_fmt}"
        return "{desc}  " + where + "  " + stats.replace("{", "{{").replace("}", "}}")

    def on_batch_end(self, trainer):
        s = trainer.state
        self._steps += 1
        self._samples += len(s.batch[0]) if s.batch is not None else 0
        if self._bar is None:
            return
        seconds = max(time.perf_counter() - self._start, 1e-9)
        rate = self._steps / seconds
        r = s.record
        parts = [f"loss {r['loss']:.4f}"]
        if "accuracy" in r:
            parts.append(f"acc {r['accuracy']:.4f}")
        parts += [f"lr {r['lr']:.2e}", f"{self._samples / seconds:.0f} samples/s",
                  f"{rate:.1f} it/s"]
        if self._per_epoch:
            parts.append(f"ETA {_clock((self._per_epoch - s.batch_idx) / rate)}")
        self._bar.bar_format = self._layout("  ".join(parts))
        self._bar.update(1)

    def on_epoch_end(self, trainer):
        self._close_bar()
        s = trainer.state
        seconds = time.perf_counter() - self._start
        skip = ("epoch", "step", "time")
        values = " ".join(f"{k} {_number(k, v)}" for k, v in s.epoch_record.items()
                          if k not in skip)
        speed = (f", {self._steps / seconds:.1f} it/s, {self._samples / seconds:.0f} samples/s"
                 if seconds > 0 else "")
        self._out.write(f"{self._epoch_label(trainer)} step {s.step}: {values} "
                        f"({seconds:.1f} s{speed})\n")
        self._out.flush()

    def on_fit_end(self, trainer):
        self._close_bar()
        if trainer.stop_reason:
            self._out.write(trainer.stop_reason + "\n")
            self._out.flush()

    def on_exception(self, trainer, exception):
        self._close_bar()

    def _epoch_label(self, trainer):
        total = f"/{trainer.max_epochs}" if trainer.max_epochs is not None else ""
        return f"epoch {trainer.state.epoch}{total}"

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
