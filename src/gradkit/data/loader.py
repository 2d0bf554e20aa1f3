"""DataLoader: batches of (x, y) gk Tensors, gathered with NumPy fancy indexing, augmented and
prepared in background threads while the model trains on the previous batch.

One epoch, step by step:
1. in the calling thread, the batch sampler draws the epoch's order (the shuffle, from the
   loader's generator; the batches are sliced from it one at a time as they are loaded) and
   one seed is drawn for the epoch's augmentation;
2. in the background, batch b is gathered: ``dataset.get_batch(indices)`` (one fancy-indexing
   call per array) when the dataset has it and no ``collate_fn`` is given, else sample by
   sample and collated; then ``transform(x, y, generator=default_rng([epoch_seed, b]))``;
3. the arrays become gk Tensors and are yielded in order.
Because every random draw is either made in step 1 or comes from the batch's own generator,
a loader with ``seed`` gives the same batches for any ``num_workers`` and any thread timing,
and ``gk.manual_seed`` does the same for a loader without one.

NumPy releases the GIL inside its array loops, so the background threads run alongside the
training step. ``num_workers`` is the number of such threads (0 with ``prefetch=True`` means
one); ``prefetch_factor`` batches per thread are prepared ahead.
"""

import concurrent.futures as cf

import numpy as np

from gradkit import random as gk_random
from gradkit.data.dataset import has_batches
from gradkit.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from gradkit.data.transforms.base import Transform
from gradkit.tensor import Tensor, as_array


def default_collate(samples):
    """Stack a list of samples into a batch: tuples/lists per position, dicts per key,
    arrays/tensors/numbers along a new first axis (float32 unless float64, ints int64)."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(default_collate(list(field)) for field in zip(*samples))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    return as_array(np.stack([as_array(s) for s in samples]))


def _to_tensors(batch):
    if isinstance(batch, np.ndarray):
        return Tensor._make(as_array(batch), None)
    if isinstance(batch, (tuple, list)):
        return tuple(_to_tensors(b) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_tensors(v) for k, v in batch.items()}
    return batch


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` (PyTorch's arguments and rules).

    ``shuffle``: a new random order each epoch (a RandomSampler); ``sampler``: a custom order
    (exclusive with shuffle); ``batch_sampler``: custom batches (exclusive with batch_size,
    shuffle, sampler, drop_last); ``drop_last``: drop the last, shorter batch;
    ``collate_fn(samples) -> batch``: as in PyTorch, applied to the list of samples (this
    turns off the fast gather); ``transform``: a batch transform applied to (x, y), e.g. a
    ``transforms.Compose`` (``transforms.Lambda`` wraps a plain x -> x function); ``seed``:
    the loader draws its shuffles and augmentation seeds from its own generator
    ``np.random.default_rng(seed)`` (``generator`` gives one directly; neither: the shared gk
    generator); ``num_workers``, ``prefetch``, ``prefetch_factor``: background threads (see
    the module docstring; ``prefetch=False`` with ``num_workers=0`` loads in the calling
    thread). Yields (x, y) gk Tensors for (x, y) datasets; ``len(loader)`` is the number of
    batches per epoch. Differences from PyTorch: workers are threads, not processes (NumPy
    releases the GIL); ``batch_size=None`` (unbatched loading) is not supported; ``shuffle``
    defaults to False rather than None.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, drop_last=False, transform=None, seed=None,
                 prefetch=True, prefetch_factor=2, generator=None):
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable the worker threads")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: pass seed or generator, not both")
        self.dataset = dataset
        self.generator = np.random.default_rng(seed) if seed is not None else generator
        if batch_sampler is None:
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=self.generator) if shuffle
                           else SequentialSampler(dataset))
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
            self.batch_size = batch_size
        else:
            self.batch_size = None
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.transform = transform
        self.num_workers = num_workers
        self.prefetch = prefetch
        self.prefetch_factor = prefetch_factor
        self._fast = collate_fn is None and has_batches(dataset)

    def __len__(self):
        return len(self.batch_sampler)

    def __iter__(self):
        batches = self._epoch_batches()
        rng = gk_random._rng(self.generator)
        epoch_seed = int(rng.integers(2 ** 63)) if self.transform is not None else None
        threads = max(self.num_workers, 1 if self.prefetch else 0)
        if threads == 0:
            return (self._load(b, indices, epoch_seed) for b, indices in enumerate(batches))
        return self._background(batches, epoch_seed, threads)

    def _epoch_batches(self):
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler.batches()
        return [np.asarray(b, dtype=np.int64) for b in self.batch_sampler]

    def _background(self, batches, epoch_seed, threads):
        """Keep ``prefetch_factor · threads`` batches in flight; yield them in order."""
        pool = cf.ThreadPoolExecutor(threads, thread_name_prefix="gradkit-loader")
        ahead = max(1, self.prefetch_factor) * threads
        pending = []
        try:
            for b, indices in enumerate(batches):
                pending.append(pool.submit(self._load, b, indices, epoch_seed))
                if len(pending) > ahead:
                    yield pending.pop(0).result()
            for future in pending:
                yield future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _load(self, b, indices, epoch_seed):
        """Gather, collate and transform batch number ``b``."""
        if self._fast:
            batch = self.dataset.get_batch(indices)
        else:
            batch = (self.collate_fn or default_collate)([self.dataset[int(i)] for i in indices])
        if self.transform is not None:
            if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
                raise TypeError("DataLoader: a transform needs (x, y) batches, got "
                                f"{type(batch).__name__}")
            x, y = batch
            if isinstance(self.transform, Transform):
                batch = self.transform(x, y, generator=np.random.default_rng([epoch_seed, b]))
            else:
                batch = self.transform(x, y)
        return _to_tensors(batch)
