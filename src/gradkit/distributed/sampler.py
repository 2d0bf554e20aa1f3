"""DistributedSampler: each rank's share of an epoch (PyTorch's class and semantics).

Every rank draws the same order (a permutation from ``seed + epoch`` when ``shuffle``, else
0..n−1); it is padded by repeating its start up to a multiple of ``num_replicas`` (or cut to
one, with ``drop_last``), and rank r takes the indices r, r + N, r + 2N, ... So the shards are
disjoint (apart from the padding), equally long, and together one epoch. Call
``set_epoch(epoch)`` at the start of each epoch for a new order. With ``shuffle=False`` the
indices equal torch's; the shuffled order comes from NumPy, not from torch.randperm.

    sampler = DistributedSampler(train_set, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=64 // dist.get_world_size(), sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader: ...
"""

import math

import numpy as np

from gradkit.data.sampler import Sampler
from gradkit.distributed import comm


class DistributedSampler(Sampler):
    """This rank's indices of each epoch; num_replicas and rank default to the world's."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        num_replicas = comm.get_world_size() if num_replicas is None else num_replicas
        rank = comm.get_rank() if rank is None else rank
        if not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        self.num_samples = (n // num_replicas if drop_last and n % num_replicas
                            else math.ceil(n / num_replicas))
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        self.epoch = epoch

    def epoch_indices(self):
        n = len(self.dataset)
        order = (np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle
                 else np.arange(n))
        if self.total_size > n:
            order = np.resize(order, self.total_size)  # repeats the start, as torch pads
        order = order[:self.total_size]
        return order[self.rank::self.num_replicas].astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples
