"""DistributedSync: the Trainer callback that makes N ranks report as one run.

It runs before every other callback (priority WRITER + 50), so loggers, checkpoints, early
stopping and the progress bar see the values of the whole world:

- on_epoch_start: ``set_epoch(epoch − 1)`` on the DistributedSampler of the train and val
  loaders, so each epoch has a new order, the same on every rank;
- on_batch_end: the step's ``loss`` and ``accuracy`` become their means over the ranks;
- on_epoch_end: ``train_loss`` and ``train_accuracy`` are recomputed from the epoch's totals
  summed over the ranks (exactly the one-process figures), and every ``val_*`` value becomes
  its mean over the ranks (exact when the val shards are equally long, as a
  DistributedSampler makes them).

What else a distributed Trainer needs is the caller's: the model wrapped in
DistributedDataParallel, a DistributedSampler per loader, ``out_dir`` on rank 0 only (the
others write nothing), ``seed=base + rank`` for per-rank augmentation (DDP makes the
weights equal anyway), and ``resume(path)`` on every rank, from rank 0's run folder.

    sampler = DistributedSampler(train_set, seed=0)
    loader = DataLoader(train_set, batch_size=64 // dist.get_world_size(), sampler=sampler)
    trainer = Trainer(DistributedDataParallel(model), optimizer, loader, max_epochs=5,
                      out_dir="runs/a" if dist.is_main() else None,
                      seed=dist.get_rank(), callbacks=[DistributedSync()])
"""

import numpy as np

from gradkit.distributed import comm
from gradkit.distributed.sampler import DistributedSampler
from gradkit.train.callbacks.base import PRIORITY_WRITER, Callback


def _mean_over_ranks(values):
    return comm.all_reduce(np.asarray(values, np.float64), op="mean")


class DistributedSync(Callback):
    """Average the Trainer's step and epoch records over the ranks (module docstring)."""

    priority = PRIORITY_WRITER + 50

    def on_epoch_start(self, trainer):
        for loader in (trainer.train_loader, trainer.val_loader):
            sampler = getattr(loader, "sampler", None)
            if isinstance(sampler, DistributedSampler):
                sampler.set_epoch(trainer.state.epoch - 1)

    def on_batch_end(self, trainer):
        record = trainer.state.record
        keys = [k for k in ("loss", "accuracy") if k in record]
        for key, value in zip(keys, _mean_over_ranks([record[k] for k in keys])):
            record[key] = float(value)

    def on_epoch_end(self, trainer):
        t, record = trainer.state.totals, trainer.state.epoch_record
        loss, samples, correct, counted = comm.all_reduce(np.array(
            [t["loss"], t["samples"], t["correct"], t["counted"]], np.float64))
        record["train_loss"] = float(loss / samples)
        if counted:
            record["train_accuracy"] = float(correct / counted)
        keys = sorted(k for k in record if k.startswith("val_"))
        for key, value in zip(keys, _mean_over_ranks([record[k] for k in keys])):
            record[key] = float(value)
