"""KNeighborsClassifier: scikit-learn's brute-force predictions (ties included), distances,
blocks, the estimator conventions and the errors a user can fix."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from threadpoolctl import threadpool_limits

from gradkit.classic import KNeighborsClassifier, NotFittedError
from gradkit.classic import knn as knn_module

METRIC = {"l2": "euclidean", "l1": "manhattan"}


def sklearn_knn(k, distance, x, y):
    # one thread: sklearn's own choice among tied samples depends on its thread count
    with threadpool_limits(1):
        return SkKNN(n_neighbors=k, algorithm="brute", metric=METRIC[distance]).fit(x, y)


@pytest.mark.parametrize("distance", ["l2", "l1"])
@pytest.mark.parametrize("k", [1, 3, 7])
def test_predictions_equal_sklearn_brute_on_digits(digits_split, k, distance):
    x, y, x_test, _ = digits_split
    ours = KNeighborsClassifier(k=k, distance=distance).fit(x, y)
    theirs = sklearn_knn(k, distance, x, y)
    with threadpool_limits(1):
        expected, expected_proba = theirs.predict(x_test), theirs.predict_proba(x_test)
    np.testing.assert_array_equal(ours.predict(x_test), expected)
    np.testing.assert_allclose(ours.predict_proba(x_test), expected_proba, rtol=0, atol=1e-12)


@pytest.mark.parametrize("distance", ["l2", "l1"])
@pytest.mark.parametrize("k", [2, 5, 10])
def test_ties_at_the_kth_distance_are_broken_as_sklearn_does(k, distance):
    rng = np.random.default_rng(1)  # a 3-level grid in 4-D: most distances are tied
    x, y = rng.integers(0, 3, (400, 4)).astype(np.float64), rng.integers(0, 4, 400)
    x_test = rng.integers(0, 3, (200, 4)).astype(np.float64)
    ours = KNeighborsClassifier(k=k, distance=distance).fit(x, y)
    theirs = sklearn_knn(k, distance, x, y)
    with threadpool_limits(1):
        expected, neighbours = theirs.predict(x_test), theirs.kneighbors(x_test)[1]
    np.testing.assert_array_equal(ours.predict(x_test), expected)
    got = ours.kneighbors(x_test, return_distance=False)
    assert [set(row) for row in got] == [set(row) for row in neighbours]


def test_sklearn_heap_keeps_what_its_heap_keeps():
    # k=2, four samples at distance 0: 0 and 1 enter; 3 and 4 equal the root and are skipped
    assert sorted(knn_module.sklearn_heap([0.0, 0.0, 1.0, 0.0, 0.0], 2)) == [0, 1]
    # k=3: two 1s evict the root twice; of the tied 2s the heap's layout keeps the second
    # (scikit-learn: kneighbors of 0 among [2, 2, 1, 1] is {1, 2, 3}; a stable sort: {0, 2, 3})
    assert sorted(knn_module.sklearn_heap([2.0, 2.0, 1.0, 1.0], 3)) == [1, 2, 3]
    x = np.array([[2.0], [2.0], [1.0], [1.0]])
    ours = KNeighborsClassifier(3, "l1").fit(x, [0, 1, 2, 3]).kneighbors([[0.0]])[1]
    assert sorted(ours[0].tolist()) == [1, 2, 3]


def test_equal_votes_go_to_the_smallest_label():
    x, y = np.array([[-1.0], [1.0]]), np.array([7, 3])
    knn = KNeighborsClassifier(k=2).fit(x, y)
    assert knn.predict(np.array([[0.0], [5.0]])).tolist() == [3, 3]
    np.testing.assert_array_equal(knn.predict_proba(np.array([[0.0]])), [[0.5, 0.5]])


@pytest.mark.parametrize("distance", ["l2", "l1"])
def test_kneighbors_distances_are_exact_and_sorted(distance):
    rng = np.random.default_rng(2)
    x, x_test = rng.standard_normal((50, 6)), rng.standard_normal((9, 6))
    dist, idx = KNeighborsClassifier(4, distance).fit(x, np.arange(50) % 3).kneighbors(x_test)
    diff = x_test[:, None] - x[None]
    full = np.sqrt((diff ** 2).sum(-1)) if distance == "l2" else np.abs(diff).sum(-1)
    np.testing.assert_array_equal(idx, np.argsort(full, axis=1, kind="stable")[:, :4])
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :4], rtol=1e-12)


def test_l2_distance_of_a_sample_to_itself_is_zero_for_offset_float32_data():
    rng = np.random.default_rng(3)
    x = (1000 + rng.standard_normal((20, 30))).astype(np.float32)  # cancellation-prone
    dist, idx = KNeighborsClassifier(1).fit(x, np.zeros(20, int)).kneighbors(x)
    np.testing.assert_array_equal(idx[:, 0], np.arange(20))
    assert dist.min() >= 0 and dist.max() < 1e-3  # float32 arithmetic gave up to 2.8


def test_blocks_give_the_same_answer(digits_split, monkeypatch):
    x, y, x_test, _ = digits_split
    whole = KNeighborsClassifier(5, "l1").fit(x, y).predict(x_test)
    monkeypatch.setattr(knn_module, "BLOCK_ELEMENTS", 5000)  # L1 chunks of train rows too
    blocked = KNeighborsClassifier(5, "l1", batch_size=7).fit(x, y)
    assert len(blocked._blocks(len(x_test))) == 57
    np.testing.assert_array_equal(blocked.predict(x_test), whole)


def test_images_are_flattened(digits_split):
    x, y, x_test, _ = digits_split
    flat = KNeighborsClassifier(3).fit(x, y).predict(x_test)
    images = KNeighborsClassifier(3).fit(x.reshape(-1, 1, 8, 8), y)
    np.testing.assert_array_equal(images.predict(x_test.reshape(-1, 8, 8)), flat)
    assert images.score(x_test, flat) == 1.0


def test_estimator_conventions():
    knn = KNeighborsClassifier(k=3, distance="l1")
    assert knn.get_params() == {"k": 3, "distance": "l1", "batch_size": None}
    assert knn.set_params(k=5) is knn and knn.k == 5
    assert clone(knn).get_params() == knn.get_params()
    assert repr(knn) == "KNeighborsClassifier(k=5, distance='l1', batch_size=None)"
    with pytest.raises(ValueError, match="unknown parameter 'n_neighbors'; known: k, dis"):
        knn.set_params(n_neighbors=3)


def test_errors_say_what_to_change():
    x, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="X has 4 samples but y has 3 labels"):
        KNeighborsClassifier().fit(x, y[:3])
    with pytest.raises(ValueError, match=r"k=5 is larger than the training set \(4 samples\)"
                                         r"; use k <= 4"):
        KNeighborsClassifier(k=5).fit(x, y)
    with pytest.raises(ValueError, match="unknown distance 'cosine'; expected 'l2'"):
        KNeighborsClassifier(distance="cosine")
    with pytest.raises(NotFittedError, match=r"KNeighborsClassifier.predict: this model is "
                                             r"not fitted yet; call fit\(X, y\) first"):
        KNeighborsClassifier().predict(x)
    fitted = KNeighborsClassifier(k=2).fit(x, y)
    with pytest.raises(ValueError, match="fitted on samples of 2 features, got 3"):
        fitted.predict(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="k=9 is larger than the training set"):
        fitted.set_params(k=9)
    assert isinstance(NotFittedError("x"), ValueError)
