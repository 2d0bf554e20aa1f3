"""How fast and how accurate gradkit.classic is, next to scikit-learn in the same run.

    python benchmarks/classic.py [--repeats 5] [--threads 1]

1. kNN prediction (L2, k = 1 and 5) for 5,000 training × 500 test samples of 3,072 dimensions
   (CIFAR-shaped uniform random float32 data) against scikit-learn's
   KNeighborsClassifier(algorithm="brute"); the runs alternate (gradkit, sklearn, gradkit,
   ...) so that a busy machine slows both alike, and the ratio is of the fastest runs
   (goal: <= 1.0). The predictions are checked equal.
2. The time of one SGD epoch (batch 200) of LinearSVM and SoftmaxClassifier on MNIST-5k
   (4,000 × 784, standardized), the median of the epochs of one 20-epoch fit.
3. Test accuracies on digits (1,400 train / 397 test, seeded) and MNIST-5k (4,000 / 1,000):
   kNN with k cross-validated (5 folds), the two linear models with their defaults, and
   scikit-learn's LinearSVC / LogisticRegression at the same regularization.
Both libraries run on ``--threads`` BLAS/OpenMP threads (default 1; on a small shared
machine more threads than free cores make timings erratic). Takes about a minute.
On a busy machine single runs vary by up to 2x: compare the ratios of one run, not the
seconds of different runs.
"""

import argparse
import os
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from gradkit.classic import KNeighborsClassifier, LinearSVM, SoftmaxClassifier, cross_validate_k
from gradkit.data.datasets import digits, mnist5k


def knn_speed(repeats):
    from sklearn.neighbors import KNeighborsClassifier as SkKNN

    rng = np.random.default_rng(0)
    x = rng.random((5000, 3072), dtype=np.float32)
    y = rng.integers(0, 10, 5000)
    x_test = rng.random((500, 3072), dtype=np.float32)
    for k in (1, 5):
        ours = KNeighborsClassifier(k).fit(x, y)
        theirs = SkKNN(n_neighbors=k, algorithm="brute").fit(x, y)
        times = {"gradkit": [], "sklearn": []}
        for _ in range(repeats):
            for name, model in (("gradkit", ours), ("sklearn", theirs)):
                start = time.perf_counter()
                pred = model.predict(x_test)
                times[name].append(time.perf_counter() - start)
                if name == "gradkit":
                    ours_pred = pred
        assert np.array_equal(ours_pred, pred), "kNN predictions differ from scikit-learn's"
        best = {name: min(t) for name, t in times.items()}
        print(f"kNN predict, k={k}, 5000 x 500 x 3072: gradkit {best['gradkit']:.3f} s, "
              f"sklearn {best['sklearn']:.3f} s (fastest of {repeats}; medians "
              f"{np.median(times['gradkit']):.3f} / {np.median(times['sklearn']):.3f} s): "
              f"ratio {best['gradkit'] / best['sklearn']:.2f}x")


def standardize(x, x_test):
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-8] = 1.0
    return (x - mean) / std, (x_test - mean) / std


def splits():
    data = digits(flatten=True)
    order = np.random.default_rng(0).permutation(len(data.y))
    train, test = order[:1400], order[1400:]
    a, b = mnist5k("train", flatten=True), mnist5k("test", flatten=True)
    return {"digits": (data.x[train], data.y[train], data.x[test], data.y[test]),
            "mnist5k": (a.x, a.y, b.x, b.y)}


def epoch_time(model, x, y):
    """Median seconds per epoch of a 20-epoch fit (timed epoch by epoch)."""
    times = []
    for _ in range(20):
        start = time.perf_counter()
        model.fit(x, y, epochs=1)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def accuracies(data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    for name, (x, y, x_test, y_test) in data.items():
        cv = cross_validate_k(x, y, ks=(1, 3, 5, 8, 10), folds=5)
        knn = KNeighborsClassifier(cv.best_k).fit(x, y).score(x_test, y_test)
        xs, xs_test = standardize(x, x_test)
        row = [f"kNN (k={cv.best_k}) {knn:.2%}"]
        C = 1 / (2 * 1e-2 * len(y))  # reg = 1e-2 in scikit-learn's C
        for model, ref_name, ref in (
                (LinearSVM(), "LinearSVC", LinearSVC(C=C, max_iter=5000)),
                (SoftmaxClassifier(), "LogisticRegression",
                 LogisticRegression(C=C, max_iter=1000))):
            model.fit(xs, y)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reference = ref.fit(xs, y).score(xs_test, y_test)
            row.append(f"{type(model).__name__} {model.score(xs_test, y_test):.2%} "
                       f"({ref_name} {reference:.2%})")
        print(f"{name} test accuracy: " + ", ".join(row))
        if name == "mnist5k":
            for model in (LinearSVM(), SoftmaxClassifier()):
                print(f"{type(model).__name__}: one epoch on MNIST-5k (4000 x 784, batch "
                      f"200) takes {epoch_time(model, xs, y) * 1000:.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    # threadpool_limits alone did not hold scikit-learn's OpenMP pool: some of its runs took
    # half the time on 2 threads; libgomp reads this when scikit-learn first loads it
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    with threadpool_limits(args.threads):
        knn_speed(args.repeats)
        accuracies(splits())


if __name__ == "__main__":
    main()
