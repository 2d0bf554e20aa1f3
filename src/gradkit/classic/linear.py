"""Linear classifiers (the cs231n notes' second lecture): scores s = xW + b, one column of W
per class (a template matched against the input), trained by mini-batch SGD on

    multiclass SVM:  L = (1/N) Σ_i Σ_{j≠y_i} max(0, s_ij − s_iy_i + Δ)  + reg·Σ W²
    softmax:         L = (1/N) Σ_i −log(exp(s_iy_i) / Σ_j exp(s_ij)) + reg·Σ W²

``W`` is one ndarray (D+1) × C, the bias as its last row (the notes' bias trick: x gets a
trailing 1); the regularization sums the squares of the D weight rows, not the bias.
Gradients (dS = ∂L/∂s, N × C):

    SVM:      dS_ij = [m_ij > 0] for j ≠ y_i,  dS_iy_i = −Σ_{j≠y_i} [m_ij > 0],  over N
    softmax:  dS_ij = p_ij − [j = y_i],  p = softmax(s_i),  over N
    dW[:D] = Xᵀ dS + 2·reg·W[:D],   dW[D] = Σ_i dS_i

``loss(X, y)`` evaluates both at the current ``W`` (perturb an entry of ``W`` and the loss
changes: a numerical gradient check needs nothing else). The defaults suit standardized
features (zero mean, unit variance per feature, statistics of the training split).

    svm = LinearSVM(reg=1e-2)
    history = svm.fit(X_train, y_train, epochs=20)   # one loss per SGD step
    svm.score(X_test, y_test), svm.weights_as_images((28, 28))
    loss, dW = svm.loss(X_train[:100], y_train[:100])
"""

import numpy as np

from gradkit.classic._checks import Estimator, NotFittedError, check_fitted, check_X, check_X_y


def svm_loss(W, X, y, delta, reg):
    """(loss, dW) of the multiclass SVM (Weston–Watkins) at W (D+1, C); X (N, D), y (N,)."""
    rows = np.arange(len(y))
    scores = X @ W[:-1] + W[-1]
    margins = scores - scores[rows, y][:, None] + delta
    margins[rows, y] = 0
    np.maximum(margins, 0, out=margins)
    dS = (margins > 0).astype(W.dtype)
    dS[rows, y] = -dS.sum(axis=1)
    return _finish(margins.sum() / len(y), dS / len(y), W, X, reg)


def softmax_loss(W, X, y, reg):
    """(loss, dW) of softmax cross-entropy at W (D+1, C); X (N, D), y (N,)."""
    rows = np.arange(len(y))
    scores = X @ W[:-1] + W[-1]
    scores -= scores.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(scores).sum(axis=1))
    dS = np.exp(scores - log_norm[:, None])
    dS[rows, y] -= 1
    return _finish(np.mean(log_norm - scores[rows, y]), dS / len(y), W, X, reg)


def _finish(data_loss, dS, W, X, reg):
    dW = np.empty_like(W)
    dW[:-1] = X.T @ dS + 2 * reg * W[:-1]
    dW[-1] = dS.sum(axis=0)
    return float(data_loss + reg * np.sum(W[:-1] ** 2)), dW


class LinearClassifier(Estimator):
    """What the SVM and softmax share: W, SGD, predict, templates. Subclasses set
    ``_loss(W, X, y)``. Fitted attributes: ``W`` (D+1, C), ``classes_``, ``loss_history_``."""

    def __init__(self, reg=1e-2, lr=0.1, epochs=20, batch_size=200, seed=0):
        self.reg, self.lr, self.epochs, self.batch_size, self.seed = (
            reg, lr, epochs, batch_size, seed)
        self.W = self.classes_ = self.loss_history_ = None
        self._check_params()

    def _check_params(self):
        name = type(self).__name__
        for key in ("reg", "lr", "epochs", "batch_size"):
            self._check_value(key, getattr(self, key), name)

    @staticmethod
    def _check_value(key, value, name):
        whole = key in ("epochs", "batch_size")
        ok = (isinstance(value, (int, np.integer)) if whole
              else isinstance(value, (int, float, np.floating, np.integer)))
        if isinstance(value, bool) or not ok or value < (1 if whole else 0) or (
                key == "lr" and value == 0):
            kind = "a whole number >= 1" if whole else (
                "a number > 0" if key == "lr" else "a number >= 0")
            raise ValueError(f"{name}: {key} must be {kind}, got {value!r}")

    def _encode(self, y, where):
        if self.classes_ is None:
            classes = self.W.shape[1]
            if y.max() >= classes:
                raise ValueError(f"{where}: label {int(y.max())} is out of range for W with "
                                 f"{classes} classes (columns)")
            return y
        index = np.searchsorted(self.classes_, y).clip(0, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if unknown.any():
            raise ValueError(f"{where}: label {int(y[unknown][0])} was not seen by fit "
                             f"(classes {self.classes_.tolist()})")
        return index

    def loss(self, X, y):
        """(loss, dW) of the batch (X, y) at the current W: the formulas of the module
        docstring, fully vectorised."""
        where = f"{type(self).__name__}.loss"
        if self.W is None:
            raise NotFittedError(f"{where}: W is not set; call fit(X, y) first, or assign "
                                 "W, an ndarray (D+1) × C with the bias as its last row")
        X, y = check_X_y(X, y, where, self.W.shape[0] - 1)
        return self._loss(self.W, X.astype(self.W.dtype, copy=False), self._encode(y, where))

    def fit(self, X, y, lr=None, reg=None, epochs=None, batch_size=None):
        """Mini-batch SGD from W ~ 0.001·N(0, 1) (seeded): each epoch visits the samples in a
        new random order, W ← W − lr·dW per batch. Arguments given here override the
        constructor's for this fit. Returns the loss of every step (also ``loss_history_``)."""
        name = type(self).__name__
        X, y = check_X_y(X, y, f"{name}.fit")
        settings = {"lr": lr, "reg": reg, "epochs": epochs, "batch_size": batch_size}
        for key, value in settings.items():
            settings[key] = getattr(self, key) if value is None else value
            self._check_value(key, settings[key], name)
        self.classes_, y = np.unique(y, return_inverse=True)
        rng = np.random.default_rng(self.seed)
        X = X.astype(np.float64, copy=False)
        self.W = 0.001 * rng.standard_normal((X.shape[1] + 1, len(self.classes_)))
        history, size = [], settings["batch_size"]
        for _ in range(settings["epochs"]):
            order = rng.permutation(len(X))
            for lo in range(0, len(X), size):
                batch = order[lo:lo + size]
                value, dW = self._loss(self.W, X[batch], y[batch], settings["reg"])
                self.W -= settings["lr"] * dW
                history.append(value)
        self.loss_history_ = history
        return history

    def decision_function(self, X):
        """(M, C) class scores xW + b."""
        check_fitted(self, "W", "decision_function")
        X = check_X(X, f"{type(self).__name__}.decision_function", self.W.shape[0] - 1)
        return X @ self.W[:-1] + self.W[-1]

    def predict(self, X):
        """(M,) the class of the highest score."""
        check_fitted(self, "classes_", "predict")
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def weights_as_images(self, shape):
        """The C templates W[:D] as images (C, *shape), each min-max scaled to [0, 1] (the
        notes' pictures of what each class's score looks for)."""
        check_fitted(self, "W", "weights_as_images")
        shape = tuple(int(s) for s in np.atleast_1d(shape))
        features = self.W.shape[0] - 1
        if int(np.prod(shape)) != features:
            raise ValueError(f"{type(self).__name__}.weights_as_images: shape {shape} holds "
                             f"{int(np.prod(shape))} values but W has {features} weights per "
                             "class; pass the shape of one input sample, e.g. (28, 28)")
        t = self.W[:-1].T
        lo, hi = t.min(axis=1, keepdims=True), t.max(axis=1, keepdims=True)
        return ((t - lo) / np.maximum(hi - lo, 1e-12)).reshape(-1, *shape)


class LinearSVM(LinearClassifier):
    """The multiclass SVM loss with margin ``delta`` (Δ) and L2 strength ``reg``."""

    def __init__(self, delta=1.0, reg=1e-2, lr=0.1, epochs=20, batch_size=200, seed=0):
        self.delta = delta
        super().__init__(reg, lr, epochs, batch_size, seed)

    def _check_params(self):
        super()._check_params()
        if isinstance(self.delta, bool) or not isinstance(self.delta, (int, float)) or \
                self.delta <= 0:
            raise ValueError(f"LinearSVM: delta must be a number > 0, got {self.delta!r}")

    def _loss(self, W, X, y, reg=None):
        return svm_loss(W, X, y, self.delta, self.reg if reg is None else reg)


class SoftmaxClassifier(LinearClassifier):
    """Softmax cross-entropy with L2 strength ``reg``; ``predict_proba`` gives p. Its default
    step is larger than the SVM's: 0.3 was the best of 0.03, 0.1, 0.3 on standardized digits
    and MNIST-5k (its gradient per score is at most 1, the SVM's up to C − 1)."""

    def __init__(self, reg=1e-2, lr=0.3, epochs=20, batch_size=200, seed=0):
        super().__init__(reg, lr, epochs, batch_size, seed)

    def _loss(self, W, X, y, reg=None):
        return softmax_loss(W, X, y, self.reg if reg is None else reg)

    def predict_proba(self, X):
        """(M, C) softmax of the scores (columns: ``classes_``)."""
        scores = self.decision_function(X)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return p / p.sum(axis=1, keepdims=True)
