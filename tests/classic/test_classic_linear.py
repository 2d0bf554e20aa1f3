"""LinearSVM and SoftmaxClassifier: losses and gradients against naive double loops, gradkit's
own losses and numerical gradients; accuracy next to scikit-learn; SGD, templates, errors."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from gradkit import tensor
from gradkit.classic import LinearSVM, NotFittedError, SoftmaxClassifier
from gradkit.nn import functional as F

REG = 0.1


def naive_svm(W, X, y, delta, reg):
    """cs231n's svm_loss_naive with the bias as W's last row (not regularized)."""
    dW, loss = np.zeros_like(W), 0.0
    for i in range(len(X)):
        x = np.append(X[i], 1.0)
        scores = x @ W
        for j in range(W.shape[1]):
            margin = scores[j] - scores[y[i]] + delta
            if j != y[i] and margin > 0:
                loss += margin
                dW[:, j] += x
                dW[:, y[i]] -= x
    loss, dW = loss / len(X), dW / len(X)
    for d in range(W.shape[0] - 1):
        for c in range(W.shape[1]):
            loss += reg * W[d, c] ** 2
            dW[d, c] += 2 * reg * W[d, c]
    return loss, dW


def naive_softmax(W, X, y, reg):
    dW, loss = np.zeros_like(W), 0.0
    for i in range(len(X)):
        x = np.append(X[i], 1.0)
        scores = x @ W
        scores = scores - scores.max()
        p = np.exp(scores) / np.exp(scores).sum()
        loss -= np.log(p[y[i]])
        for j in range(W.shape[1]):
            dW[:, j] += (p[j] - (j == y[i])) * x
    loss, dW = loss / len(X), dW / len(X)
    loss += reg * np.sum(W[:-1] ** 2)
    dW[:-1] += 2 * reg * W[:-1]
    return loss, dW


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((30, 7)), rng.integers(0, 4, 30), rng.standard_normal((8, 4))


def with_w(model, W):
    model.W = W.copy()
    return model


def test_vectorised_losses_equal_naive_double_loops(batch):
    X, y, W = batch
    for model, naive in [(LinearSVM(delta=1.5, reg=REG), naive_svm(W, X, y, 1.5, REG)),
                         (SoftmaxClassifier(reg=REG), naive_softmax(W, X, y, REG))]:
        loss, dW = with_w(model, W).loss(X, y)
        assert loss == pytest.approx(naive[0], rel=1e-12)
        np.testing.assert_allclose(dW, naive[1], rtol=1e-10, atol=1e-12)


def test_losses_equal_gradkits_losses_plus_l2(batch):
    X, y, W = batch
    scores = tensor(X @ W[:-1] + W[-1])
    l2 = REG * np.sum(W[:-1] ** 2)
    svm_loss, _ = with_w(LinearSVM(delta=1.0, reg=REG), W).loss(X, y)
    soft_loss, _ = with_w(SoftmaxClassifier(reg=REG), W).loss(X, y)
    assert svm_loss == pytest.approx(float(F.multiclass_hinge_loss(scores, y).item()) + l2,
                                     rel=1e-12)
    assert soft_loss == pytest.approx(float(F.cross_entropy(scores, y).item()) + l2, rel=1e-12)


@pytest.mark.parametrize("model", [LinearSVM(reg=REG), SoftmaxClassifier(reg=REG)])
def test_gradient_equals_a_numerical_one_through_W(batch, model):
    X, y, W = batch
    with_w(model, W)
    _, dW = model.loss(X, y)
    numeric, h = np.zeros_like(W), 1e-6
    for index in np.ndindex(W.shape):
        old = model.W[index]
        model.W[index] = old + h
        up = model.loss(X, y)[0]
        model.W[index] = old - h
        down = model.loss(X, y)[0]
        model.W[index] = old
        numeric[index] = (up - down) / (2 * h)
    rel = np.abs(numeric - dW) / np.maximum(1e-8, np.abs(numeric) + np.abs(dW))
    assert rel.max() < 1e-6


def test_digits_accuracy_within_one_point_of_sklearn(digits_std):
    x, y, x_test, y_test = digits_std
    C = 1 / (2 * 1e-2 * len(y))  # C·Σ loss + ½‖w‖²  ==  mean loss + reg‖w‖², reg = 1e-2
    svm, softmax = LinearSVM(), SoftmaxClassifier()
    svm.fit(x, y)
    softmax.fit(x, y)
    svc = LinearSVC(C=C, max_iter=5000).fit(x, y).score(x_test, y_test)
    logistic = LogisticRegression(C=C, max_iter=1000).fit(x, y).score(x_test, y_test)
    assert svm.score(x_test, y_test) >= svc - 0.01
    assert softmax.score(x_test, y_test) >= logistic - 0.01
    assert svm.score(x_test, y_test) > 0.96 and softmax.score(x_test, y_test) > 0.96


def test_fit_returns_the_loss_of_every_step_and_overrides_only_this_fit(digits_std):
    x, y, _, _ = digits_std
    model = SoftmaxClassifier(seed=1)
    history = model.fit(x[:500], y[:500], epochs=3, batch_size=100, lr=0.5)
    assert len(history) == 15 and history is model.loss_history_
    assert np.mean(history[-3:]) < 0.5 * history[0]
    assert model.get_params()["epochs"] == 20 and model.lr == 0.3
    assert history == SoftmaxClassifier(seed=1).fit(x[:500], y[:500], epochs=3,
                                                     batch_size=100, lr=0.5)
    proba = model.predict_proba(x[:20])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], model.predict(x[:20]))


def test_labels_need_not_be_0_to_c(batch):
    X, y, _ = batch
    model = LinearSVM(epochs=2)
    model.fit(X, y * 10 + 5)
    assert set(model.predict(X)) <= {5, 15, 25, 35} and model.W.shape == (8, 4)
    with pytest.raises(ValueError, match=r"label 6 was not seen by fit \(classes \[5, 15"):
        model.loss(X[:2], [5, 6])


def test_weights_as_images(digits_std):
    x, y, _, _ = digits_std
    model = LinearSVM(epochs=1)
    model.fit(x.reshape(-1, 1, 8, 8), y)
    images = model.weights_as_images((8, 8))
    assert images.shape == (10, 8, 8)
    np.testing.assert_allclose(images.reshape(10, -1).min(axis=1), 0)
    np.testing.assert_allclose(images.reshape(10, -1).max(axis=1), 1)
    with pytest.raises(ValueError, match=r"shape \(28, 28\) holds 784 values but W has 64 "
                                         r"weights per class"):
        model.weights_as_images((28, 28))


def test_errors_say_what_to_change(batch):
    X, y, _ = batch
    with pytest.raises(ValueError, match="X has 30 samples but y has 29 labels"):
        LinearSVM().fit(X, y[:29])
    with pytest.raises(NotFittedError, match=r"LinearSVM.predict: this model is not fitted"):
        LinearSVM().predict(X)
    with pytest.raises(NotFittedError, match=r"W is not set; call fit\(X, y\) first, or "
                                             r"assign W"):
        SoftmaxClassifier().loss(X, y)
    with pytest.raises(ValueError, match="lr must be a number > 0, got 0"):
        LinearSVM().fit(X, y, lr=0)
    with pytest.raises(ValueError, match="delta must be a number > 0, got -1"):
        LinearSVM(delta=-1)
    model = LinearSVM(epochs=1)
    model.fit(X, y)
    with pytest.raises(ValueError, match="fitted on samples of 7 features, got 5"):
        model.predict(X[:, :5])
