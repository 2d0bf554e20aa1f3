"""cross_validate_k: scikit-learn's fold accuracies, the best mean's k, the figure."""

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from threadpoolctl import threadpool_limits

from gradkit.classic import CVResult, cross_validate_k


@pytest.fixture(scope="module")
def small(digits_split):
    x, y, _, _ = digits_split
    return x[:500], y[:500]


def test_fold_accuracies_equal_sklearn_and_the_best_mean_is_chosen(small):
    x, y = small
    ks = (1, 3, 8, 20)
    cv = cross_validate_k(x, y, ks=ks, folds=4, distance="l1", seed=3)
    folds = StratifiedKFold(4, shuffle=True, random_state=3)
    with threadpool_limits(1):
        expected = np.array([cross_val_score(SkKNN(n_neighbors=k, algorithm="brute",
                                                   metric="manhattan"), x, y, cv=folds)
                             for k in ks])
    np.testing.assert_allclose(cv.accuracies, expected, rtol=0, atol=1e-12)
    assert cv.accuracies.shape == (4, 4)
    assert cv.best_k == ks[int(np.argmax(expected.mean(axis=1)))]
    assert cv.to_dict()["best_k"] == cv.best_k and len(cv.to_dict()["mean"]) == 4


def test_equal_means_choose_the_smaller_k():
    rng = np.random.default_rng(0)  # two far-apart clusters: every k scores 100%
    x = np.concatenate([rng.normal(0, 1, (30, 2)), rng.normal(50, 1, (30, 2))])
    cv = cross_validate_k(x, np.repeat([0, 1], 30), ks=(5, 3, 7), folds=3)
    np.testing.assert_array_equal(cv.mean, [1.0, 1.0, 1.0])
    assert cv.best_k == 3


def test_ks_larger_than_a_fold_are_refused(small):
    x, y = small
    with pytest.raises(ValueError, match=r"k=400 is larger than a fold's training part "
                                         r"\(375 samples\)"):
        cross_validate_k(x, y, ks=(1, 400), folds=4)


def test_plot_is_a_png_written_where_asked(tmp_path):
    cv = CVResult((1, 3, 5), np.array([[0.9, 0.92], [0.91, 0.95], [0.88, 0.9]]), 3)
    png = cv.plot(tmp_path / "k.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "k.png").read_bytes() == png
    np.testing.assert_allclose(cv.mean, [0.91, 0.93, 0.89])
