"""Training (``gradkit.train``): the Trainer, its callbacks, and checkpoints with exact resume.

    from gradkit.train import Trainer, callbacks as cb
    trainer = Trainer(model, opt, train_loader, val_loader=val_loader, max_epochs=10,
                      out_dir="runs/demo", callbacks=[cb.ProgressBar(), cb.EarlyStopping()])
    trainer.fit()
"""

from gradkit.train import callbacks
from gradkit.train.callbacks import (EMA, Callback, Checkpoint, CSVLogger, EarlyStopping,
                                     GradientClipping, IntervalTrigger, LRScheduler,
                                     MetricsLogger, NaNGuard, NonFiniteError, ProgressBar,
                                     TensorBoardLogger)
from gradkit.train.checkpoint import (CheckpointError, checkpoint_info, load_checkpoint,
                                      save_checkpoint)
from gradkit.train.interrupt import TrainingInterrupted
from gradkit.train.state import TrainerState, batch_accuracy
from gradkit.train.trainer import Trainer

__all__ = ["Trainer", "TrainerState", "TrainingInterrupted", "batch_accuracy", "callbacks",
           "Callback", "IntervalTrigger", "Checkpoint", "EarlyStopping", "EMA",
           "GradientClipping", "LRScheduler", "MetricsLogger", "NaNGuard", "NonFiniteError",
           "ProgressBar", "CSVLogger", "TensorBoardLogger", "CheckpointError",
           "checkpoint_info", "load_checkpoint", "save_checkpoint"]
