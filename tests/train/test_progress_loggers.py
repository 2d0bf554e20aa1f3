"""ProgressBar's per-batch bar (tqdm, terminals only), CSVLogger and TensorBoardLogger."""

import csv
import io
import re
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from gradkit import optim
from gradkit.train import Callback, Trainer
from gradkit.train.callbacks import CSVLogger, ProgressBar, TensorBoardLogger, progress

COLUMNS = ["epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr",
           "time"]


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _trainer(tk, callbacks, epochs=2, val=False, **kwargs):
    x, y = tk.data(n=10)
    model = tk.model()
    return Trainer(model, optim.SGD(model.parameters(), lr=0.1), tk.loader(x, y),
                   val_loader=tk.loader(x, y, shuffle=False) if val else None,
                   max_epochs=epochs, callbacks=list(callbacks), **kwargs)


# ----- ProgressBar -----

def test_no_bar_when_the_bar_stream_is_not_a_terminal(tk):
    out, bar = io.StringIO(), io.StringIO()
    _trainer(tk, [ProgressBar(stream=out, bar_stream=bar)], val=True).fit()
    assert bar.getvalue() == ""
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in out.getvalue()
    speed = re.search(r"\(\d+\.\d s, ([\d.]+) it/s, (\d+) samples/s\)$", lines[0])
    assert lines[0].startswith("epoch 1/2 step 2: train_loss ") and speed
    # 2 batches of 5 samples: samples/s is 5 × batches/s
    assert float(speed.group(2)) == pytest.approx(5 * float(speed.group(1)), rel=0.02, abs=1)


def test_the_bar_on_a_terminal_shows_loss_speed_and_eta(tk, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    out, bar = io.StringIO(), FakeTerminal()
    _trainer(tk, [ProgressBar(stream=out, refresh=0.0, bar_stream=bar)]).fit()
    drawn = [part for part in bar.getvalue().split("\r") if part.strip()]
    live = [part for part in drawn if part.startswith("epoch 1/2  1/2 [")]
    assert live, drawn
    for part in ("loss ", "acc ", "lr 1.00e-01", "samples/s", "it/s", "ETA 0:00:00"):
        assert part in live[0]
    assert bar.getvalue().endswith("\r")  # cleared at each epoch's end
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == [
        "epoch 1/2 step 2", "epoch 2/2 step 4"]


def test_the_bar_fits_the_terminal(tk, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    bar = FakeTerminal()
    _trainer(tk, [ProgressBar(stream=io.StringIO(), refresh=0.0, bar_stream=bar)],
             epochs=1).fit()
    drawn = [part for part in bar.getvalue().split("\r") if part.startswith("epoch 1/1  ")]
    assert drawn and all(len(part) <= 39 for part in drawn)


def test_without_tqdm_a_terminal_gets_the_plain_lines(tk, monkeypatch):
    monkeypatch.setattr(progress, "_tqdm", lambda: None)
    term = FakeTerminal()
    _trainer(tk, [ProgressBar(stream=term, refresh=0.0)]).fit()
    assert "\r" not in term.getvalue() and len(term.getvalue().splitlines()) == 2


# ----- CSVLogger -----

def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


class ReportOdd(Callback):
    """Reports 'odd' into the epoch record from epoch 2 on (a key that appears late)."""

    priority = 300

    def on_epoch_end(self, trainer):
        if trainer.state.epoch >= 2:
            trainer.report("odd", float(trainer.state.epoch))


class ReadBack(Callback):
    """Reads the CSV at each epoch's end, after the logger: it must be flushed."""

    priority = 50

    def __init__(self, path):
        self.path, self.seen = path, []

    def on_epoch_end(self, trainer):
        self.seen.append(len(_rows(self.path)))


def test_csv_logger_writes_a_flushed_row_per_epoch(tk, tmp_path):
    reader = ReadBack(tmp_path / "metrics.csv")
    trainer = _trainer(tk, [CSVLogger(), reader], val=True, out_dir=tmp_path)
    history = trainer.fit()
    rows = _rows(tmp_path / "metrics.csv")
    assert rows[0] == COLUMNS and reader.seen == [2, 3]
    assert [r[:2] for r in rows[1:]] == [["1", "2"], ["2", "4"]]
    assert [float(r[2]) for r in rows[1:]] == [h["train_loss"] for h in history]
    assert float(rows[2][5]) == history[1]["val_accuracy"]


def test_csv_logger_extends_the_header_for_a_late_key(tk, tmp_path):
    path = tmp_path / "log" / "m.csv"
    _trainer(tk, [ReportOdd(), CSVLogger(path)], epochs=3).fit()
    rows = _rows(path)
    assert rows[0][-1] == "odd" and [r[-1] for r in rows[1:]] == ["", "2.0", "3.0"]


def test_csv_logger_appends_on_resume_and_drops_rows_after_the_checkpoint(tk, tmp_path):
    _trainer(tk, [CSVLogger()], out_dir=tmp_path).fit()
    path = tmp_path / "metrics.csv"
    with open(path, "a") as f:
        f.write("3,99,0.1,0.5,0.1,8.0\n3,1")  # written after the checkpoint, the last one torn
    trainer = _trainer(tk, [CSVLogger()], epochs=3, out_dir=tmp_path)
    trainer.resume(tmp_path)
    trainer.fit()
    assert [r[:2] for r in _rows(path)] == [["epoch", "step"], ["1", "2"], ["2", "4"],
                                           ["3", "6"]]


def test_csv_logger_needs_a_place_to_write(tk):
    with pytest.raises(ValueError, match="CSVLogger: no file to write; pass path or give the "
                                         "Trainer an out_dir"):
        _trainer(tk, [CSVLogger()]).fit()


# ----- TensorBoardLogger -----

def read_scalars(log_dir):
    """{tag: [(step, value)]} from the TFRecord event files in ``log_dir``."""
    from tensorboardX.proto import event_pb2

    scalars = {}
    for path in sorted(Path(log_dir).glob("events.out.tfevents.*")):
        data, i = path.read_bytes(), 0
        while i < len(data):
            (n,) = struct.unpack("<Q", data[i:i + 8])
            event = event_pb2.Event.FromString(data[i + 12:i + 12 + n])
            i += 12 + n + 4  # length, its crc, the record, its crc
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_tensorboard_logger_writes_step_and_epoch_scalars(tk, tmp_path):
    pytest.importorskip("tensorboardX")
    history = _trainer(tk, [TensorBoardLogger()], val=True, out_dir=tmp_path).fit()
    scalars = read_scalars(tmp_path / "tensorboard")
    assert [s for s, _ in scalars["step/loss"]] == [1, 2, 3, 4]
    assert {s for s, _ in scalars["step/lr"]} == {1, 2, 3, 4}
    assert [s for s, _ in scalars["epoch/val_accuracy"]] == [2, 4]
    np.testing.assert_allclose([v for _, v in scalars["epoch/train_loss"]],
                               [h["train_loss"] for h in history], rtol=1e-6)
    assert not any(tag.endswith(("/epoch", "/step", "/time")) for tag in scalars)


def test_tensorboard_logger_without_tensorboardx_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"TensorBoardLogger needs tensorboardX: pip install "
                                          r"tensorboardX \(or pip install "
                                          r"'gradkit\[tensorboard\]'\)"):
        TensorBoardLogger()
