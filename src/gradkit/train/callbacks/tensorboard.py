"""TensorBoardLogger: the run's metrics as TensorBoard event files, written with tensorboardX
(an optional extra: ``pip install tensorboardX`` or ``pip install 'gradkit[tensorboard]'``).

    trainer = Trainer(..., out_dir="runs/x", callbacks=[TensorBoardLogger()])
    # then: tensorboard --logdir runs/x/tensorboard

Scalars, all against the global step (optimizer steps) so steps and epochs share one axis:
``step/loss``, ``step/accuracy``, ``step/lr`` every ``every_n_steps`` steps, and
``epoch/<key>`` for every value of the epoch record (train_loss, val_accuracy, lr, ...) at
each epoch's end. On resume the writer purges what the interrupted run logged after the
checkpoint (tensorboardX's ``purge_step``), so the curves read as one run.
"""

from gradkit.train.callbacks.base import PRIORITY_READER, Callback

_SKIP = ("epoch", "step", "time")


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as err:
        raise ImportError("TensorBoardLogger needs tensorboardX: pip install tensorboardX "
                          "(or pip install 'gradkit[tensorboard]')") from err
    return SummaryWriter


class TensorBoardLogger(Callback):
    """Write scalars to event files in ``log_dir`` (default ``out_dir/tensorboard``)."""

    priority = PRIORITY_READER
    main_rank_only = True  # writes or prints: rank 0 alone runs it on N ranks

    def __init__(self, log_dir=None, every_n_steps=1):
        if not isinstance(every_n_steps, int) or every_n_steps < 1:
            raise ValueError(f"TensorBoardLogger: every_n_steps must be a positive int, got "
                             f"{every_n_steps!r}")
        self._SummaryWriter = _summary_writer()  # fail when built, not after data loads
        self.log_dir = log_dir
        self.every_n_steps = every_n_steps
        self._writer = None

    def on_fit_start(self, trainer):
        log_dir = self.log_dir
        if log_dir is None:
            if trainer.out_dir is None:
                raise ValueError("TensorBoardLogger: no folder to write; pass log_dir or give "
                                 "the Trainer an out_dir")
            log_dir = trainer.out_dir / "tensorboard"
        step = trainer.state.step
        self._writer = self._SummaryWriter(str(log_dir),
                                           purge_step=step + 1 if step > 0 else None)

    def on_batch_end(self, trainer):
        s = trainer.state
        if s.step % self.every_n_steps == 0:
            for key in ("loss", "accuracy", "lr"):
                if key in s.record:
                    self._scalar(f"step/{key}", s.record[key], s.step)

    def on_epoch_end(self, trainer):
        s = trainer.state
        for key, value in s.epoch_record.items():
            if key not in _SKIP:
                self._scalar(f"epoch/{key}", value, s.step)
        self._writer.flush()

    def on_fit_end(self, trainer):
        self._close()

    def on_exception(self, trainer, exception):
        self._close()

    def _scalar(self, tag, value, step):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self._writer.add_scalar(tag, float(value), step)

    def _close(self):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
