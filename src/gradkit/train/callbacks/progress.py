"""ProgressBar: epoch, step, loss, accuracy, learning rate, speed and ETA as training runs.

On a terminal one line (cut to the terminal's width) is redrawn in place (carriage return) at
most ``refresh`` seconds apart, then replaced by the epoch's summary:

    epoch 3/10  40/100 [=====>         ] loss 0.2345 acc 0.9120 lr 1.00e-02 812 it/s ETA 0:00:07
    epoch 3/10 step 300: train_loss 0.2301 train_accuracy 0.9150 val_loss ... (3.1 s, 96 it/s)

When the stream is not a terminal (a log file, CI, a pipe) only the summary line of each epoch
is written, so logs stay readable. The default stream is ``sys.stdout`` at fit start.
"""

import math
import shutil
import sys
import time

from gradkit.train.callbacks.base import PRIORITY_READER, Callback

_WIDTH = 20


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


class ProgressBar(Callback):
    """Print training progress to ``stream`` (default ``sys.stdout``)."""

    priority = PRIORITY_READER

    def __init__(self, stream=None, refresh=0.1):
        self.stream = stream
        self.refresh = refresh
        self._out = None
        self._tty = False
        self._drawn = 0

    def on_fit_start(self, trainer):
        self._out = self.stream if self.stream is not None else sys.stdout
        isatty = getattr(self._out, "isatty", None)
        self._tty = bool(isatty and isatty())
        try:
            self._per_epoch = len(trainer.train_loader)
        except TypeError:
            self._per_epoch = None

    def on_epoch_start(self, trainer):
        self._start = time.perf_counter()
        self._steps = 0
        self._last_draw = -math.inf

    def on_batch_end(self, trainer):
        self._steps += 1
        if not self._tty:
            return
        now = time.perf_counter()
        s = trainer.state
        if now - self._last_draw < self.refresh and s.batch_idx != self._per_epoch:
            return
        self._last_draw = now
        rate = self._steps / max(now - self._start, 1e-9)
        total = self._per_epoch
        if total:
            filled = min(_WIDTH, int(_WIDTH * s.batch_idx / total))
            bar = "=" * filled + (">" if filled < _WIDTH else "") + " " * (_WIDTH - filled - 1)
            position = f"{s.batch_idx}/{total} [{bar}]"
            eta = _clock((total - s.batch_idx) / rate) if rate > 0 else "?"
        else:
            position, eta = f"{s.batch_idx}", "?"
        r = s.record
        parts = [self._epoch_label(trainer), position, f"loss {r['loss']:.4f}"]
        if "accuracy" in r:
            parts.append(f"acc {r['accuracy']:.4f}")
        parts += [f"lr {r['lr']:.2e}", f"{rate:.1f} it/s", f"ETA {eta}"]
        width = shutil.get_terminal_size().columns - 1  # a wrapped line cannot be redrawn
        self._draw("  ".join(parts)[:width])

    def on_epoch_end(self, trainer):
        s = trainer.state
        seconds = time.perf_counter() - self._start
        skip = ("epoch", "step", "time")
        values = " ".join(f"{k} {_number(k, v)}" for k, v in s.epoch_record.items()
                          if k not in skip)
        speed = f", {self._steps / seconds:.1f} it/s" if seconds > 0 else ""
        line = f"{self._epoch_label(trainer)} step {s.step}: {values} ({seconds:.1f} s{speed})"
        if self._tty:
            self._draw(line)
            self._out.write("\n")
            self._drawn = 0
        else:
            self._out.write(line + "\n")
        self._out.flush()

    def on_fit_end(self, trainer):
        if trainer.stop_reason:
            self._end_line()
            self._out.write(trainer.stop_reason + "\n")
            self._out.flush()

    def on_exception(self, trainer, exception):
        self._end_line()

    def _epoch_label(self, trainer):
        total = f"/{trainer.max_epochs}" if trainer.max_epochs is not None else ""
        return f"epoch {trainer.state.epoch}{total}"

    def _draw(self, text):
        pad = " " * max(0, self._drawn - len(text))
        self._out.write("\r" + text + pad)
        self._out.flush()
        self._drawn = len(text)

    def _end_line(self):
        if self._out is not None and self._drawn:
            self._out.write("\n")
            self._out.flush()
            self._drawn = 0
