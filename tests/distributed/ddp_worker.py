"""What one rank runs under mpiexec for tests/distributed, and the one-process reference.

``python ddp_worker.py SCENARIO OUT_DIR`` on N ranks; each rank saves its results as
``OUT_DIR/SCENARIO.<rank>.npz``. The tests import ``train``, ``make_mlp`` and ``make_cnn``
to train the same models in one process on the whole batch and compare.
"""

import contextlib
import os
import shutil
import signal
import sys

import numpy as np

import gradkit as gk
import gradkit.distributed as dist
from gradkit import nn
from gradkit.data import DataLoader, TensorDataset
from gradkit.nn import functional as F
from gradkit.train import Trainer

BATCH, STEPS, CLASSES = 12, 20, 3  # the global batch divides among 1, 2, 3 and 4 ranks


def data(shape, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(BATCH, *shape), rng.randint(0, CLASSES, BATCH)


def make_mlp(seed, hidden=16):
    gk.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, CLASSES)).double()


def make_cnn(seed):
    gk.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 3 * 3, CLASSES)).double()


def shard(array, rank, world):
    size = len(array) // world
    return array[rank * size:(rank + 1) * size]


def train(model, x, y, steps=STEPS, rank=0, world=1):
    """SGD with momentum on this rank's shard of the fixed batch; returns the state_dict."""
    optimizer = gk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    xs, ys = gk.tensor(shard(x, rank, world)), gk.tensor(shard(y, rank, world))
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(xs), ys).backward()
        optimizer.step()
    net = model.module if isinstance(model, dist.DistributedDataParallel) else model
    return {k: v.numpy().copy() for k, v in net.state_dict().items()}


def trainer_run(run_dir, epochs, resume=False):
    """gk's Trainer on this rank's shard: 24 samples, global batch 12, a shuffled sampler."""
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = np.random.RandomState(4).randn(24, 5), np.random.RandomState(5).randint(0, 3, 24)
    dataset = TensorDataset(x, y)
    loader = DataLoader(dataset, batch_size=12 // world,
                        sampler=dist.DistributedSampler(dataset, shuffle=True, seed=3))
    model = dist.DistributedDataParallel(make_mlp(seed=rank))
    optimizer = gk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    trainer = Trainer(model, optimizer, loader, max_epochs=epochs, seed=rank,
                      out_dir=run_dir if dist.is_main() else None,
                      callbacks=[dist.DistributedSync()])
    if resume:
        trainer.resume(run_dir)
    history = trainer.fit()
    weights = {k: v.numpy().copy() for k, v in model.module.state_dict().items()}
    return dict(weights, train_loss=[r["train_loss"] for r in history],
                train_accuracy=[r["train_accuracy"] for r in history])


def save(out_dir, scenario, **arrays):
    np.savez(os.path.join(out_dir, f"{scenario}.{dist.get_rank()}.npz"), **arrays)


def comm_results():
    rank, world = dist.get_rank(), dist.get_world_size()
    summed = dist.all_reduce(np.arange(4.0) + rank)
    mean = dist.all_reduce(gk.tensor(np.full(3, float(rank))), op="mean").numpy()
    top = dist.all_reduce(np.array([rank, -rank], np.int64), op="max")
    sent = dist.broadcast(gk.tensor(np.full((2, 2), 10.0 + rank)), src=world - 1).numpy()
    gathered = dist.all_gather([np.empty(2) for _ in range(world)], np.array([rank, rank**2.0]))
    dist.barrier()
    return dict(sum=summed, mean=mean, max=top, broadcast=sent, gather=np.stack(gathered))


def run(scenario, out_dir):
    rank, world = dist.get_rank(), dist.get_world_size()
    if scenario == "comm":
        save(out_dir, scenario, **comm_results())
    elif scenario == "mlp":  # every rank starts from its own init: DDP broadcasts rank 0's
        x, y = data((5,))
        model = dist.DistributedDataParallel(make_mlp(seed=rank))
        save(out_dir, scenario, **train(model, x, y, rank=rank, world=world))
    elif scenario == "buckets":  # one parameter per bucket
        x, y = data((5,))
        model = dist.DistributedDataParallel(make_mlp(seed=0), bucket_cap_mb=1e-4)
        weights = train(model, x, y, rank=rank, world=world)
        save(out_dir, scenario, buckets=model.bucket_count,
             timeline=np.array([entry[1:] for entry in model.timeline]), **weights)
    elif scenario in ("cnn_sync", "cnn_plain"):
        x, y = data((2, 6, 6))
        net = make_cnn(seed=0)
        if scenario == "cnn_sync":
            net = dist.SyncBatchNorm.convert_sync_batchnorm(net)
        save(out_dir, scenario,
             **train(dist.DistributedDataParallel(net), x, y, rank=rank, world=world))
    elif scenario == "no_sync":  # two micro-batches, the first one inside no_sync
        model = dist.DistributedDataParallel(make_mlp(seed=0))
        for seed, context in ((1, model.no_sync()), (2, None)):
            x, y = data((5,), seed)
            with context or contextlib.nullcontext():
                F.cross_entropy(model(gk.tensor(shard(x, rank, world))),
                                gk.tensor(shard(y, rank, world))).backward()
        save(out_dir, scenario, **{n: p.grad.numpy() for n, p in model.named_parameters()})
    elif scenario == "syncbn":  # loss_r = Σ out·c_r on this rank's own (4, 3, 2, 2) batch
        rng = np.random.RandomState(10 + rank)
        x = gk.tensor(rng.randn(4, 3, 2, 2) * 2 + 1, requires_grad=True)
        c = gk.tensor(rng.randn(4, 3, 2, 2))
        layer = dist.SyncBatchNorm(3, momentum=0.3).double()
        with gk.no_grad():
            layer.weight.copy_(gk.tensor([0.5, 1.0, 2.0]))
            layer.bias.copy_(gk.tensor([0.0, -1.0, 1.0]))
        out = layer(x)
        (out * c).sum().backward()
        save(out_dir, scenario, x=x.numpy(), c=c.numpy(), out=out.numpy(), dx=x.grad.numpy(),
             dw=layer.weight.grad.numpy(), db=layer.bias.grad.numpy(),
             running_mean=layer.running_mean.numpy(), running_var=layer.running_var.numpy())
    elif scenario == "trainer":  # 2 epochs; a copy of the run folder; resumed to 3 epochs
        run_dir = os.path.join(out_dir, "run")
        save(out_dir, scenario, **trainer_run(run_dir, epochs=2))
        if dist.is_main():
            shutil.copytree(run_dir, os.path.join(out_dir, "run_after_2"))
        dist.barrier()
        save(out_dir, "resumed", **trainer_run(run_dir, epochs=3, resume=True))
    elif scenario == "unused":
        model = dist.DistributedDataParallel(PartlyUsed())
        try:
            model(gk.tensor(data((5,))[0]))
        except RuntimeError as exc:
            save(out_dir, scenario, message=str(exc))
    elif scenario in ("raise", "killed"):  # rank 1 fails at step 3; rank 0 waits for it
        x, y = data((5,))
        model = dist.DistributedDataParallel(make_mlp(seed=0))
        for step in range(STEPS):
            if rank == 1 and step == 3 and scenario == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            if rank == 1 and step == 3:
                raise ValueError("rank one broke at step 3")
            F.cross_entropy(model(gk.tensor(shard(x, rank, world))),
                            gk.tensor(shard(y, rank, world))).backward()
    elif scenario == "mismatch":
        dist.DistributedDataParallel(make_mlp(seed=0, hidden=16 + rank))
    else:
        raise ValueError(f"unknown scenario {scenario!r}")


class PartlyUsed(nn.Module):
    """Two layers, only one of them in forward: DDP must refuse it, naming spare.*."""

    def __init__(self):
        super().__init__()
        self.used, self.spare = nn.Linear(5, CLASSES).double(), nn.Linear(5, 2).double()

    def forward(self, x):
        return self.used(x)


if __name__ == "__main__":
    dist.init()
    for name in sys.argv[1].split(","):
        run(name, sys.argv[2])
