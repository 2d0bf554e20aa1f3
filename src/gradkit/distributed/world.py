"""How ``experiment.train`` runs on the world of processes it finds (``gradkit train``).

One process, the usual case: ``OneProcess`` changes nothing. Under a launcher with N > 1
ranks (``gradkit train --nproc N ...`` or ``mpiexec -n N gradkit train ...``), ``Ranks``
makes the same run data parallel, and one run folder comes out of it:

- ``batch_size`` stays the global batch: each rank loads ``batch_size / N`` samples (N must
  divide it) of its DistributedSampler shard; the shards share one shuffled order per epoch
  (``seed`` + epoch), so an epoch has the same number of steps as on one process and the
  schedule is unchanged. The validation split is sharded in order.
- BatchNorm layers become SyncBatchNorm and the model is wrapped in DistributedDataParallel
  before the optimizer is built, so every rank takes the same step.
- After the model is built (the same initial weights everywhere), rank r reseeds the gk RNG
  (dropout) and its loader's augmentation stream with ``seed + r``.
- DistributedSync averages the step and epoch records over the ranks: EarlyStopping, the
  plateau schedule and the best checkpoint decide on the same numbers everywhere.
- Rank 0 alone opens and locks the run folder and writes config.yaml, metrics.jsonl,
  checkpoints, results.json and the report, and prints; callbacks marked
  ``main_rank_only`` (progress bar, loggers, Checkpoint) run on rank 0 only. Rank 0 tells
  the others where the run starts (when it cannot, rank 0 reports why and they leave).
- Checkpoints hold the wrapped model (no ``module.`` prefix), so ``gradkit eval/predict``
  read them as any run's, and a run resumes on any number of ranks.

Known differences from one process: the shuffled order comes from the DistributedSampler,
not the loader's generator, so N ranks and one process see the batches in another order;
the validation metrics are means over equal shards (the last shard pads by repeating the
first samples when N does not divide the split); and a run resumed from a mid-epoch
checkpoint (``checkpoint_every``) restores rank 0's augmentation stream and epoch totals on
every rank, so that epoch's ``train_loss`` is rank 0's estimate for the steps before the
checkpoint.
"""

from gradkit import random as gk_random
from gradkit.distributed import comm
from gradkit.distributed.ddp import DistributedDataParallel
from gradkit.distributed.sampler import DistributedSampler
from gradkit.distributed.sync_batchnorm import SyncBatchNorm
from gradkit.distributed.training import DistributedSync
from gradkit.train.runs import open_run


class OneProcess:
    """The world of one process: every hook returns what experiment.train always used."""

    rank, size, is_main = 0, 1, True

    def open_run(self, config, resume, log):
        return open_run(config, resume, log)

    def train_loading(self, dataset, batch_size, seed):
        return {"batch_size": batch_size, "shuffle": True, "seed": seed}

    def val_loading(self, dataset, batch_size):
        return {"batch_size": batch_size}

    def wrap(self, model, seed):
        return model

    def callbacks(self, callbacks):
        return callbacks

    def out_dir(self, run_dir):
        return run_dir

    def log(self, log):
        return log


class _Quiet:
    """The run start of a rank other than 0: rank 0 holds the lock."""

    def __init__(self, run_dir, checkpoint, new_cycle_at):
        self.run_dir, self.checkpoint, self.new_cycle_at = run_dir, checkpoint, new_cycle_at

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None


class Ranks(OneProcess):
    """N > 1 ranks under MPI: the data-parallel run of the module docstring."""

    def __init__(self):
        self.rank, self.size = comm.get_rank(), comm.get_world_size()
        self.is_main = self.rank == 0

    def open_run(self, config, resume, log):
        """Rank 0 opens the run and tells the others its folder and checkpoint; when it
        cannot (RunComplete, RunLocked, a bad config), rank 0 raises and reports, and the
        other ranks leave quietly (SystemExit(0))."""
        start = None
        try:
            if self.is_main:
                start = open_run(config, resume, log)
        finally:  # reached by every rank, whether rank 0's open_run returned or raised
            told = comm.all_gather_object(
                None if start is None else
                (start.run_dir, start.checkpoint, start.new_cycle_at))[0]
        if told is None:
            raise SystemExit(0)
        return start if self.is_main else _Quiet(*told)

    def train_loading(self, dataset, batch_size, seed):
        if batch_size % self.size:
            from gradkit.config import ConfigError
            raise ConfigError([f"batch_size: {batch_size} is the global batch and must be a "
                               f"multiple of the {self.size} ranks"])
        return {"batch_size": batch_size // self.size, "seed": seed + self.rank,
                "sampler": DistributedSampler(dataset, shuffle=True, seed=seed)}

    def val_loading(self, dataset, batch_size):
        return {"batch_size": batch_size, "sampler": DistributedSampler(dataset, shuffle=False)}

    def wrap(self, model, seed):
        model = DistributedDataParallel(SyncBatchNorm.convert_sync_batchnorm(model))
        gk_random.manual_seed(seed + self.rank)
        return model

    def callbacks(self, callbacks):
        kept = [c for c in callbacks if self.is_main or not getattr(c, "main_rank_only", False)]
        return kept + [DistributedSync()]

    def out_dir(self, run_dir):
        return run_dir if self.is_main else None

    def log(self, log):
        return log if self.is_main else _silent


def _silent(*args, **kwargs):
    return None


ONE_PROCESS = OneProcess()


def current():
    """The world this process is part of: Ranks under a launcher with N > 1, else OneProcess."""
    if comm.launched_under_mpi() and comm.get_world_size() > 1:
        return Ranks()
    return OneProcess()
