"""Samplers: which indices an epoch visits, in which order (PyTorch's classes and semantics).

A sampler iterates over dataset indices; BatchSampler groups them into lists. Random samplers
draw from a ``numpy.random.Generator`` (``generator``), by default the shared gk generator, so
``gk.manual_seed`` makes the order repeat. Every sampler also has ``epoch_indices()``: the
whole epoch as one int64 array, which BatchSampler slices instead of iterating index by index,
one batch at a time as they are taken (so an epoch costs 8 bytes a sample, whatever the
batch size).
"""

import math

import numpy as np

from gradkit import random as gk_random


class Sampler:
    """Base class: a subclass defines ``__len__`` and either ``__iter__`` or
    ``epoch_indices()`` (then iterating yields those indices)."""

    def __iter__(self):
        if not hasattr(self, "epoch_indices"):
            raise NotImplementedError(f"{type(self).__name__} must define __iter__ or "
                                      "epoch_indices")
        return iter(self.epoch_indices().tolist())

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def epoch_indices(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random order every epoch.

    Without replacement: whole permutations of the dataset, as many as ``num_samples`` needs
    (default one, ``len(data_source)``). With replacement: ``num_samples`` uniform draws."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def epoch_indices(self):
        n, rng = len(self.data_source), gk_random._rng(self.generator)
        if self.replacement:
            return rng.integers(0, n, self.num_samples, dtype=np.int64)
        perms = [rng.permutation(n) for _ in range(-(-self.num_samples // n))]
        order = perms[0] if len(perms) == 1 else np.concatenate(perms)  # no copy for one
        return order[:self.num_samples].astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order every epoch."""

    def __init__(self, indices, generator=None):
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.generator = generator

    def epoch_indices(self):
        return self.indices[gk_random._rng(self.generator).permutation(len(self.indices))]

    def __len__(self):
        return len(self.indices)


class DistributedSampler(Sampler):
    """The shard of the dataset that replica ``rank`` of ``num_replicas`` visits this epoch.

    Every replica draws the same permutation (seeded by ``seed + epoch``; call ``set_epoch``
    at the start of each epoch), then takes every ``num_replicas``-th index from ``rank`` on.
    The shards are disjoint and together cover the dataset. When ``len(dataset)`` is not a
    multiple of ``num_replicas``, ``drop_last=False`` pads with indices from the start of the
    permutation so every replica gets ``ceil(n / replicas)`` samples; ``drop_last=True`` drops
    the tail so every replica gets ``floor(n / replicas)``. Same index lists as PyTorch's when
    ``shuffle=False``; with shuffling the permutation comes from NumPy, not torch.randperm.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            raise ValueError("DistributedSampler: pass num_replicas and rank (the world size "
                             "and this process's rank, as the communicator reports them)")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.seed = seed
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def epoch_indices(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            indices = np.arange(n, dtype=np.int64)
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            indices = np.resize(indices, self.total_size)  # repeats from the start to pad
        return indices[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use the permutation of this epoch (the same on every replica)."""
        self.epoch = epoch


class BatchSampler:
    """Groups the sampler's indices into lists of ``batch_size``; the last, shorter list is
    kept unless ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def batches(self):
        """The epoch's batches as int64 arrays, made one at a time as they are taken.

        The order is drawn now, in the calling thread (one int64 array of the epoch's
        indices); each batch is a view of it made when asked for. A list of all the views
        up front cost ~140 bytes a batch: +142 MB for 10⁶ samples at batch size 1."""
        if hasattr(self.sampler, "epoch_indices"):
            indices = self.sampler.epoch_indices()
        else:
            indices = np.fromiter(iter(self.sampler), dtype=np.int64)
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        return (indices[i:i + self.batch_size] for i in range(0, stop, self.batch_size))

    def __iter__(self):
        return (b.tolist() for b in self.batches())

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
