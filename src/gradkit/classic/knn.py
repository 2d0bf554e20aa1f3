"""k-nearest neighbours (the cs231n notes' first classifier): ``fit`` memorises the training
set; a test sample takes the majority label of its k closest training samples.

    L2:  d(a, b)² = ‖a‖² + ‖b‖² − 2a·b     (one matrix product per block of test rows)
    L1:  d(a, b)  = Σ_i |a_i − b_i|        (in blocks of bounded memory)

Ranking never needs ‖a‖² (it is the same for every training sample of a test row), so the L2
search ranks ‖b‖² − 2a·b; reported distances add ‖a‖² back and clip at 0 (cancellation can
make a true 0 slightly negative). Arithmetic is in float64, as in scikit-learn: in float32 the
cancellation costs far too much (data near 1000 in 30-D: the distance of a sample to itself
came out as 2.8 instead of 0), and the float64 search still beats scikit-learn's
(benchmarks/classic.py).

Ties follow scikit-learn (``algorithm="brute"``, run on one thread): equal votes go to the
smallest class label, and when samples tie at the k-th distance the ones scikit-learn's heap
keeps are the ones that vote (``sklearn_heap``). (On several threads scikit-learn may merge
per-thread heaps, and then its own choice among tied samples depends on the thread count.)

    knn = KNeighborsClassifier(k=5, distance="l2").fit(X_train, y_train)
    knn.predict(X_test), knn.predict_proba(X_test), knn.score(X_test, y_test)
    distances, indices = knn.kneighbors(X_test[:3], 5)
"""

import numpy as np

from gradkit.classic._checks import Estimator, check_fitted, check_X, check_X_y

DISTANCES = ("l2", "l1")
BLOCK_ELEMENTS = 1 << 22  # entries of one block's temporary (32 MB)


class KNeighborsClassifier(Estimator):
    """k: neighbours that vote; distance: 'l2' or 'l1'; batch_size: test rows per block
    (None: as many as keep a block's temporaries within BLOCK_ELEMENTS entries).

    Fitted attributes: ``X_`` (N, D) float64, ``y_`` (N,) class indices into ``classes_``."""

    def __init__(self, k=1, distance="l2", batch_size=None):
        self.k = k
        self.distance = distance
        self.batch_size = batch_size
        self.X_ = self.y_ = self.classes_ = None
        self._check_params()

    def _check_params(self):
        name = type(self).__name__
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise ValueError(f"{name}: k must be a whole number >= 1, got {self.k!r}")
        if self.distance not in DISTANCES:
            raise ValueError(f"{name}: unknown distance {self.distance!r}; expected 'l2' "
                             "(Euclidean) or 'l1' (Manhattan)")
        if self.batch_size is not None and (not isinstance(self.batch_size, (int, np.integer))
                                            or self.batch_size < 1):
            raise ValueError(f"{name}: batch_size must be None or a whole number >= 1, got "
                             f"{self.batch_size!r}")
        if self.X_ is not None:
            self._check_k(self.k)

    def _check_k(self, k):
        if k > len(self.X_):
            raise ValueError(f"{type(self).__name__}: k={k} is larger than the training set "
                             f"({len(self.X_)} samples); use k <= {len(self.X_)}")

    def fit(self, X, y):
        """Memorise X (N, ...) flattened to (N, D) and y (N,); returns self."""
        X, y = check_X_y(X, y, f"{type(self).__name__}.fit")
        self.X_ = X = X.astype(np.float64, copy=False)
        self.classes_, self.y_ = np.unique(y, return_inverse=True)
        self._check_k(self.k)
        self._norms = np.einsum("ij,ij->i", X, X)
        self._one_hot = np.eye(len(self.classes_), dtype=np.float32)[self.y_]
        return self

    def _test_rows(self, X, where):
        check_fitted(self, "X_", where)
        X = check_X(X, f"{type(self).__name__}.{where}", self.X_.shape[1])
        return X.astype(np.float64, copy=False)

    def _blocks(self, n_test):
        rows = self.batch_size
        if rows is None:  # the distance block, and for L1 one training row's |a − b| block
            rows = max(1, BLOCK_ELEMENTS // len(self.X_))
            if self.distance == "l1":
                rows = min(rows, max(1, BLOCK_ELEMENTS // self.X_.shape[1]))
        return [slice(lo, min(lo + rows, n_test)) for lo in range(0, n_test, rows)]

    def _ranking(self, A):
        """(b, N) values whose order along each row is the order of the distances."""
        if self.distance == "l2":
            scores = (A * -2.0) @ self.X_.T
            scores += self._norms
            return scores
        B, out = self.X_, np.empty((len(A), len(self.X_)), A.dtype)
        step = max(1, BLOCK_ELEMENTS // max(1, len(A) * B.shape[1]))
        for lo in range(0, len(B), step):
            diff = A[:, None, :] - B[None, lo:lo + step, :]
            np.abs(diff, out=diff)
            out[:, lo:lo + step] = diff.sum(axis=2)
        return out

    def _distances(self, A, ranking):
        if self.distance == "l1":
            return ranking
        squared = ranking + np.einsum("ij,ij->i", A, A)[:, None]
        return np.sqrt(np.maximum(squared, 0, out=squared), out=squared)

    def _votes(self, ranking, k):
        """(b, C) votes of each row's k nearest (``nearest_mask``)."""
        return (nearest_mask(ranking, k).astype(np.float32) @ self._one_hot).astype(np.float64)

    def vote_counts(self, X):
        """(M, C) how many of each test row's k nearest neighbours are of each class."""
        A = self._test_rows(X, "predict")
        self._check_k(self.k)
        return np.concatenate([self._votes(self._ranking(A[block]), self.k)
                               for block in self._blocks(len(A))])

    def predict_proba(self, X):
        """(M, C) the share of each class among the k nearest (columns: ``classes_``)."""
        return self.vote_counts(X) / self.k

    def predict(self, X):
        """(M,) the majority label of the k nearest; equal votes: the smallest label."""
        return self.classes_[np.argmax(self.vote_counts(X), axis=1)]

    def kneighbors(self, X, n_neighbors=None, return_distance=True):
        """The ``n_neighbors`` (default k) nearest training samples of each row of X, the ones
        that vote, nearest first (equal distances: lower index first): (distances (M, n),
        indices (M, n)), or the indices alone with ``return_distance=False``."""
        A = self._test_rows(X, "kneighbors")
        n = self.k if n_neighbors is None else int(n_neighbors)
        self._check_k(n)
        indices, distances = [], []
        for block in self._blocks(len(A)):
            ranking = self._ranking(A[block])
            cols = np.nonzero(nearest_mask(ranking, n))[1].reshape(-1, n)
            picked = np.take_along_axis(ranking, cols, axis=1)
            order = np.argsort(picked, axis=1, kind="stable")
            indices.append(np.take_along_axis(cols, order, axis=1))
            if return_distance:
                distances.append(self._distances(A[block],
                                                 np.take_along_axis(picked, order, axis=1)))
        indices = np.concatenate(indices)
        return (np.concatenate(distances), indices) if return_distance else indices


def nearest_mask(ranking, k):
    """(b, N) bool: the k nearest of each row, every sample at or below the row's k-th
    smallest value. A row with more than k of them (a tie at the k-th distance) is decided
    by ``sklearn_heap``, so the choice among the tied samples is scikit-learn's."""
    kth = np.partition(ranking, k - 1, axis=1)[:, k - 1:k]
    chosen = ranking <= kth
    for row in np.flatnonzero(chosen.sum(axis=1) > k):
        chosen[row] = False
        chosen[row, sklearn_heap(ranking[row].tolist(), k)] = True
    return chosen


def sklearn_heap(values, k):
    """Indices of the k smallest ``values`` as scikit-learn's brute-force search keeps them
    (sklearn/utils/_heap.pyx ``heap_push``): a size-k max-heap fed the training samples in
    order; a value not below the heap's root (the current k-th) is skipped, a smaller one
    replaces the root and sifts down. Among samples tied at the k-th distance, which ones
    stay depends on the heap's layout (not on the index alone), so the rare rows with such a
    tie replay it here, in Python."""
    heap, index = [float("inf")] * k, [-1] * k
    for j, value in enumerate(values):
        if value >= heap[0]:
            continue
        at = 0
        while True:
            left = 2 * at + 1
            right = left + 1
            if left >= k:
                break
            if right >= k or heap[left] >= heap[right]:
                child = left
                if not value < heap[left]:
                    break
            else:
                child = right
                if not value < heap[right]:
                    break
            heap[at], index[at] = heap[child], index[child]
            at = child
        heap[at], index[at] = value, j
    return index
