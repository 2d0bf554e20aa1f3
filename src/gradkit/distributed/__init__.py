"""gradkit.distributed: data-parallel training over MPI (mpi4py with the mpich wheel).

Every rank runs the same script on its shard of each batch. ``init()`` joins the world the
launcher made (``mpiexec -n 2 python train.py``); without a launcher the world is one
process and everything below still works, so one script serves both. Collectives
(``all_reduce``, ``broadcast``, ``all_gather``) take Tensors or ndarrays and hand their
buffers to MPI directly (comm.py). ``DistributedDataParallel`` broadcasts rank 0's model
and averages the gradients during backward, bucket by bucket with ``Iallreduce`` (ddp.py);
``SyncBatchNorm`` normalises with the statistics of all ranks (sync_batchnorm.py);
``DistributedSampler`` gives each rank its shard of an epoch (sampler.py);
``DistributedSync`` makes a Trainer on N ranks report as one run (training.py);
``launch.run(n, argv)`` starts a program under the bundled mpiexec (launch.py).
The guarantee: N ranks with batch B/N each, under DDP, train as one process with batch B
(float64 weights equal to ~1e-12 in tests/distributed), with SyncBatchNorm for BatchNorm.

    import gradkit.distributed as dist
    dist.init()
    model = dist.DistributedDataParallel(dist.SyncBatchNorm.convert_sync_batchnorm(model))
    x_mine = x[dist.get_rank()::dist.get_world_size()]        # this rank's shard
    loss = F.cross_entropy(model(x_mine), y_mine); loss.backward()   # .grad: the average
"""

from gradkit.distributed.comm import (all_gather, all_gather_object, all_reduce, barrier,
                                      broadcast, get_rank, get_world_size, init, is_main,
                                      launched_under_mpi)
from gradkit.distributed.ddp import DistributedDataParallel
from gradkit.distributed.sampler import DistributedSampler
from gradkit.distributed.sync_batchnorm import SyncBatchNorm
from gradkit.distributed.training import DistributedSync

__all__ = ["init", "get_rank", "get_world_size", "is_main", "barrier", "all_reduce",
           "broadcast", "all_gather", "all_gather_object", "launched_under_mpi",
           "DistributedDataParallel", "DistributedSampler", "DistributedSync", "SyncBatchNorm"]
