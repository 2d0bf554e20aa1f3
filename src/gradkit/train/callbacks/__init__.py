"""The Trainer's built-in callbacks (see base.py for hooks, triggers and priorities)."""

from gradkit.train.callbacks.base import (PRIORITY_EDITOR, PRIORITY_READER, PRIORITY_WRITER,
                                          Callback, IntervalTrigger, make_trigger)
from gradkit.train.callbacks.checkpoint import Checkpoint
from gradkit.train.callbacks.clipping import GradientClipping
from gradkit.train.callbacks.csv_logger import CSVLogger
from gradkit.train.callbacks.early_stopping import EarlyStopping
from gradkit.train.callbacks.ema import EMA
from gradkit.train.callbacks.metrics import MetricsLogger
from gradkit.train.callbacks.nan_guard import NaNGuard, NonFiniteError
from gradkit.train.callbacks.progress import ProgressBar
from gradkit.train.callbacks.schedule import LRScheduler
from gradkit.train.callbacks.tensorboard import TensorBoardLogger

__all__ = ["Callback", "IntervalTrigger", "make_trigger", "PRIORITY_WRITER", "PRIORITY_EDITOR",
           "PRIORITY_READER", "Checkpoint", "GradientClipping", "EarlyStopping", "EMA",
           "MetricsLogger", "NaNGuard", "NonFiniteError", "ProgressBar", "LRScheduler"]
__all__ += ["CSVLogger", "TensorBoardLogger"]
