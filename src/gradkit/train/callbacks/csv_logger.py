"""CSVLogger: one row per epoch in a CSV file (Keras's CSVLogger), for a spreadsheet or pandas.

    epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,time
    1,40,0.6132,0.8021,0.4410,0.8700,0.1,7.21

The header is the keys of the first epoch record (values other callbacks report, such as
``ema_val_accuracy``, follow); a key that first appears later extends the header and the file
is rewritten with an empty cell where earlier rows have no value. Each row is flushed as it is
written. On resume the file is kept and appended to, less the rows the interrupted run wrote
after the checkpoint (step > the resumed step) and a row torn by a crash, so it reads as one
uninterrupted run.
"""

import csv
from pathlib import Path

from gradkit.train.callbacks.base import PRIORITY_READER, Callback


class CSVLogger(Callback):
    """Write each epoch record as a row of ``path`` (default ``out_dir/metrics.csv``)."""

    priority = PRIORITY_READER
    main_rank_only = True  # writes or prints: rank 0 alone runs it on N ranks

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else None
        self._file = None
        self._writer = None
        self._header = []
        self._rows = []

    def on_fit_start(self, trainer):
        path = self.path
        if path is None:
            if trainer.out_dir is None:
                raise ValueError("CSVLogger: no file to write; pass path or give the Trainer "
                                 "an out_dir")
            path = trainer.out_dir / "metrics.csv"
        self._target = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._header, self._rows = [], []
        step = trainer.state.step
        if step > 0 and path.exists():
            self._header, self._rows = _complete_rows(path, step)
        self._rewrite()

    def on_epoch_end(self, trainer):
        row = dict(trainer.state.epoch_record)
        self._rows.append(row)
        new = [k for k in row if k not in self._header]
        if new:
            self._header += new
            self._rewrite()
        else:
            self._writer.writerow(row)
            self._file.flush()

    def on_fit_end(self, trainer):
        self._close()

    def on_exception(self, trainer, exception):
        self._close()

    def _rewrite(self):
        self._close()
        self._file = open(self._target, "w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=self._header, restval="")
        if self._header:
            self._writer.writeheader()
            self._writer.writerows(self._rows)
        self._file.flush()

    def _close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def _complete_rows(path, step):
    """(header, rows) of ``path``: the rows written at or before ``step``, less a torn one
    (a crash mid-write: the last line without its newline, or missing cells)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    table = list(csv.reader(lines))
    if not table:
        return [], []
    header, rows = table[0], []
    for cells in table[1:]:
        row = dict(zip(header, cells))
        if len(cells) == len(header) and row.get("step", "").isdigit() and \
                int(row["step"]) <= step:
            rows.append(row)
    return header, rows
