"""Train/validation splits and cross-validation folds (index generators).

KFold and StratifiedKFold follow scikit-learn's algorithms exactly (the same folds for the
same ``random_state``), without needing scikit-learn.
"""

import warnings

import numpy as np

from gradkit import random as gk_random
from gradkit.data.dataset import Subset


def _labels_of(dataset):
    for name in ("y", "targets"):
        if hasattr(dataset, name):
            return np.asarray(getattr(dataset, name))
    if isinstance(dataset, Subset):
        return _labels_of(dataset.dataset)[dataset.indices]
    raise TypeError(f"stratify=True needs a dataset with labels in .y or .targets; "
                    f"{type(dataset).__name__} has neither")


def train_val_split(dataset, val_fraction=0.1, seed=None, stratify=False):
    """(train, val) Subsets: a random ``val_fraction`` of the samples (at least one) held out
    for validation. ``stratify=True`` holds out that fraction of every class (labels from
    ``dataset.y``). ``seed`` None draws from the shared gk generator."""
    n = len(dataset)
    if not 0 < val_fraction < 1:
        raise ValueError(f"train_val_split: val_fraction must be in (0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed) if seed is not None else gk_random.default_generator
    if stratify:
        y = _labels_of(dataset)
        perm = rng.permutation(n)
        order = perm[np.argsort(y[perm], kind="stable")]  # shuffled within each class
        classes, starts, counts = np.unique(y[order], return_index=True, return_counts=True)
        n_val = np.maximum(np.round(counts * val_fraction).astype(np.int64), 1)
        rank_in_class = np.arange(n) - np.repeat(starts, counts)
        is_val = rank_in_class < np.repeat(n_val, counts)
        val, train = np.sort(order[is_val]), np.sort(order[~is_val])
    else:
        n_val = max(1, int(round(n * val_fraction)))
        perm = rng.permutation(n)
        val, train = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    return Subset(dataset, train), Subset(dataset, val)


def _random_state(random_state):
    """scikit-learn's check_random_state for ints and None (None: seeded from the gk one)."""
    if random_state is None:
        random_state = int(gk_random.default_generator.integers(2 ** 32))
    return np.random.RandomState(random_state)


class KFold:
    """K consecutive folds (shuffled first when ``shuffle``); each is the test set once.
    The first n % k folds have one sample more. ``split(X)`` yields (train_idx, test_idx)."""

    def __init__(self, n_splits=5, shuffle=False, random_state=None):
        if int(n_splits) < 2:
            raise ValueError(f"k-fold cross-validation requires at least one train/test split "
                             f"by setting n_splits=2 or more, got n_splits={n_splits}")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def split(self, X, y=None, groups=None):
        n = len(X)
        if self.n_splits > n:
            raise ValueError(f"Cannot have number of splits n_splits={self.n_splits} greater "
                             f"than the number of samples: n_samples={n}")
        indices = np.arange(n)
        if self.shuffle:
            _random_state(self.random_state).shuffle(indices)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[:n % self.n_splits] += 1
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            test = np.zeros(n, bool)
            test[indices[lo:hi]] = True
            yield np.flatnonzero(~test), np.flatnonzero(test)


class StratifiedKFold(KFold):
    """K folds that keep each class's proportion: every class's samples are dealt to the
    folds in blocks, fold sizes per class from a round robin over the sorted labels
    (scikit-learn's algorithm; classes numbered by first appearance). ``split(X, y)``."""

    def split(self, X, y, groups=None):
        y = np.asarray(y).reshape(-1)
        if len(y) != len(X):
            raise ValueError(f"StratifiedKFold: X has {len(X)} samples but y has {len(y)}")
        _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
        _, class_perm = np.unique(first, return_inverse=True)
        encoded = class_perm[inverse]
        n_classes = len(first)
        counts = np.bincount(encoded)
        if np.all(self.n_splits > counts):
            raise ValueError(f"n_splits={self.n_splits} cannot be greater than the number of "
                             f"members in each class.")
        if self.n_splits > counts.min():
            warnings.warn(f"The least populated class in y has only {counts.min()} members, "
                          f"which is less than n_splits={self.n_splits}.", UserWarning,
                          stacklevel=2)
        ordered = np.sort(encoded)
        allocation = np.stack([np.bincount(ordered[i::self.n_splits], minlength=n_classes)
                               for i in range(self.n_splits)])
        rng = _random_state(self.random_state) if self.shuffle else None
        test_folds = np.empty(len(y), dtype=np.int64)
        for k in range(n_classes):
            folds_for_class = np.arange(self.n_splits).repeat(allocation[:, k])
            if self.shuffle:
                rng.shuffle(folds_for_class)
            test_folds[encoded == k] = folds_for_class
        for i in range(self.n_splits):
            yield np.flatnonzero(test_folds != i), np.flatnonzero(test_folds == i)
