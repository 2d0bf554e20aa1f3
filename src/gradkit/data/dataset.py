"""Map-style datasets (PyTorch's names): a dataset is anything with ``__getitem__(i)`` and
``__len__()``.

The fast path: a dataset that holds its samples in arrays also offers
``get_batch(indices) -> (x[indices], y[indices], ...)``, so the DataLoader gathers a whole
batch with one NumPy fancy-indexing call per array instead of one Python call per sample.
TensorDataset and ArrayDataset offer it; Subset and ConcatDataset pass it on when the datasets
they wrap have it (``has_batches`` tells).
"""

import math
import warnings

import numpy as np

from gradkit import random as gk_random
from gradkit.tensor import Tensor


class Dataset:
    """The base class: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _array(t):
    return t._data if isinstance(t, Tensor) else np.asarray(t)


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays or tensors: ``ds[i] = (a[i], b[i])``.

    ``tensors`` keeps what was given (gk Tensors or ndarrays); ``get_batch`` gathers rows of the
    underlying arrays."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array or tensor")
        sizes = [len(t) for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"TensorDataset: all tensors must have the same first dimension, "
                             f"got sizes {sizes}")
        self.tensors = tensors
        self._arrays = tuple(_array(t) for t in tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self._arrays[0])

    def get_batch(self, indices):
        """``(a[indices], b[indices], ...)`` as ndarrays: one gather per array."""
        return tuple(a[indices] for a in self._arrays)


class ArrayDataset(TensorDataset):
    """An in-memory labelled dataset: ``x`` (float32, N×D or N×C×H×W), ``y`` (int64, N) and
    ``classes`` (the class names, ``classes[y[i]]`` names sample i).

    What every loader in ``gradkit.data.datasets`` returns; ``ds[i]`` is ``(x[i], y[i])``."""

    def __init__(self, x, y, classes=None, name=None):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype.kind == "f" and x.dtype != np.float32:
            x = x.astype(np.float32)
        if y.ndim != 1:
            raise ValueError(f"ArrayDataset: y must be 1-D (N,), got shape {y.shape}")
        if y.dtype.kind in "iu" and y.dtype != np.int64:
            y = y.astype(np.int64)
        super().__init__(x, y)
        if classes is None and y.dtype.kind in "iu":
            classes = [str(c) for c in range(int(y.max()) + 1 if y.size else 0)]
        self.classes = list(classes) if classes is not None else None
        self.name = name or type(self).__name__

    @property
    def x(self):
        return self._arrays[0]

    @property
    def y(self):
        return self._arrays[1]

    def __repr__(self):
        n_classes = len(self.classes) if self.classes is not None else "?"
        return (f"{self.name}: {len(self)} samples, x {self.x.dtype} {self.x.shape[1:]}, "
                f"{n_classes} classes")


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    def get_batch(self, indices):
        return self.dataset.get_batch(self.indices[indices])


class ConcatDataset(Dataset):
    """The datasets one after the other; ``cumulative_sizes[k]`` is where dataset k+1 starts."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1] if self.cumulative_sizes else 0

    def _locate(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError("ConcatDataset: absolute value of index should not exceed "
                                 "dataset length")
            index += len(self)
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        return k, index - (self.cumulative_sizes[k - 1] if k else 0)

    def __getitem__(self, index):
        k, local = self._locate(int(index))
        return self.datasets[k][local]

    def get_batch(self, indices):
        """Gather from each dataset the indices that fall in it, then restore their order."""
        indices = np.asarray(indices, dtype=np.int64) % len(self)
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]])
        which = np.searchsorted(self.cumulative_sizes, indices, side="right")
        order = np.argsort(which, kind="stable")
        parts = [self.datasets[k].get_batch(indices[order][which[order] == k] - starts[k])
                 for k in np.unique(which)]
        inverse = np.argsort(order, kind="stable")
        return tuple(np.concatenate(arrays)[inverse] for arrays in zip(*parts))


def has_batches(dataset):
    """Whether ``dataset.get_batch`` works (for Subset/ConcatDataset: whether what they wrap
    has it)."""
    if isinstance(dataset, Subset):
        return has_batches(dataset.dataset)
    if isinstance(dataset, ConcatDataset):
        return all(has_batches(d) for d in dataset.datasets)
    return callable(getattr(dataset, "get_batch", None))


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths (PyTorch).

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1: each subset
    gets ``floor(n · fraction)`` and the remainder is dealt out one by one, round-robin from the
    first. ``generator`` (a numpy Generator) defaults to the shared gk generator."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this might "
                              "result in an empty dataset", stacklevel=2)
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({n})")
    perm = gk_random._rng(generator).permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, perm[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
