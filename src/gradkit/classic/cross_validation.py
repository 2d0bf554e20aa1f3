"""Choosing k by cross-validation (the notes' recipe): split the training data into folds;
each fold is held out once while the others vote; k is the value with the best mean accuracy
over the folds (equal means: the smaller k, the simpler model).

    cv = cross_validate_k(X, y, ks=(1, 3, 5, 8, 10), folds=5)
    cv.best_k, cv.accuracies          # accuracies: (len(ks), folds), one row per k
    cv.plot("k.png")                  # accuracy against k, one dot per fold, mean ± std

Every k of a fold is scored from one distance computation (the k nearest are nested), and
the folds are scikit-learn's StratifiedKFold (the same folds for the same seed).
"""

from dataclasses import dataclass

import numpy as np

from gradkit.classic._checks import check_X_y
from gradkit.classic.knn import KNeighborsClassifier, nearest_mask
from gradkit.data.splits import StratifiedKFold

KS = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)


@dataclass
class CVResult:
    """ks (K,), accuracies (K, folds) of each k on each held-out fold, the chosen best_k."""
    ks: tuple
    accuracies: np.ndarray
    best_k: int
    distance: str = "l2"

    @property
    def mean(self):
        return self.accuracies.mean(axis=1)

    @property
    def std(self):
        return self.accuracies.std(axis=1)

    def to_dict(self):
        return {"ks": list(self.ks), "distance": self.distance, "best_k": self.best_k,
                "fold_accuracies": self.accuracies.tolist(), "mean": self.mean.tolist(),
                "std": self.std.tolist()}

    def plot(self, path=None):
        """The notes' figure as PNG bytes (also written to ``path`` when given)."""
        from gradkit.report.classic import k_plot

        png = k_plot(self.ks, self.accuracies, self.best_k, self.distance)
        if path is not None:
            with open(path, "wb") as f:
                f.write(png)
        return png


def _check_ks(ks, smallest_train):
    ks = tuple(int(k) for k in ks)
    if not ks or min(ks) < 1:
        raise ValueError(f"cross_validate_k: ks must be whole numbers >= 1, got {ks}")
    if max(ks) > smallest_train:
        raise ValueError(f"cross_validate_k: k={max(ks)} is larger than a fold's training "
                         f"part ({smallest_train} samples); drop the larger ks or use fewer "
                         "folds")
    return ks


def cross_validate_k(X, y, ks=KS, folds=5, distance="l2", seed=0, batch_size=None):
    """Accuracy of KNeighborsClassifier(k, distance) on each of ``folds`` stratified folds
    (shuffled with ``seed``) for every k in ``ks``; returns a CVResult whose best_k has the
    best mean accuracy (the smallest such k on a tie)."""
    X, y = check_X_y(X, y, "cross_validate_k")
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y))
    ks = _check_ks(ks, min(len(train) for train, _ in splits))
    accuracies = np.empty((len(ks), len(splits)))
    for f, (train, held_out) in enumerate(splits):
        knn = KNeighborsClassifier(1, distance, batch_size).fit(X[train], y[train])
        A = X[held_out].astype(np.float64, copy=False)
        correct = np.zeros(len(ks))
        for block in knn._blocks(len(A)):
            ranking = knn._ranking(A[block])
            for i, k in enumerate(ks):
                votes = nearest_mask(ranking, k).astype(np.float32) @ knn._one_hot
                pred = knn.classes_[np.argmax(votes, axis=1)]
                correct[i] += np.sum(pred == y[held_out][block])
        accuracies[:, f] = correct / len(held_out)
    means = accuracies.mean(axis=1)
    best = min(k for k, m in zip(ks, means) if m == means.max())
    return CVResult(ks, accuracies, best, distance)
