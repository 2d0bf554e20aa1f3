"""What the classic estimators share: scikit-learn's parameter conventions (``get_params`` /
``set_params`` read the constructor's signature) and the checks of X and y, whose messages
name the estimator, what was expected and what was got.

    X, y = check_X_y(X, y, "KNeighborsClassifier.fit")   # X flattened to (N, D), y int64
    check_fitted(model, "classes_", "predict")           # NotFittedError before fit
"""

import inspect

import numpy as np

from gradkit.tensor import Tensor


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (a ValueError, as in scikit-learn)."""


class Estimator:
    """``get_params()`` / ``set_params(**params)`` over the constructor's keyword arguments,
    each kept as an attribute of the same name (scikit-learn's convention, so sklearn's
    ``clone`` and grid searches work on these estimators too)."""

    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return [p for p in signature.parameters if p != "self"]

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        known = self._param_names()
        for name, value in params.items():
            if name not in known:
                raise ValueError(f"{type(self).__name__}.set_params: unknown parameter "
                                 f"{name!r}; known: {', '.join(known)}")
            setattr(self, name, value)
        self._check_params()
        return self

    def _check_params(self):
        """Raise ValueError for a parameter out of range (subclasses check theirs)."""

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def score(self, X, y):
        """Mean accuracy of ``predict(X)`` against ``y``."""
        X, y = check_X_y(X, y, f"{type(self).__name__}.score")
        return float(np.mean(self.predict(X) == y))


def as_array(a):
    return a._data if isinstance(a, Tensor) else np.asarray(a)


def check_X(X, where, features=None):
    """X as a float array (N, D): samples of any shape are flattened; ints become float64.
    ``features`` (the D seen by fit) is checked when given."""
    X = as_array(X)
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"{where}: expected X with at least one sample (N, ...), got shape "
                         f"{X.shape}")
    X = X.reshape(len(X), -1) if X.ndim != 2 else X
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{where}: X holds NaN or infinity; clean or impute those values "
                         "first")
    if features is not None and X.shape[1] != features:
        raise ValueError(f"{where}: the model was fitted on samples of {features} features, "
                         f"got {X.shape[1]} (X of shape {X.shape}); pass data shaped like the "
                         "training data")
    return X


def check_X_y(X, y, where, features=None):
    """(X (N, D), y (N,) int64): the lengths must agree and y must hold class indices."""
    X = check_X(X, where, features)
    y = as_array(y).reshape(-1)
    if len(y) != len(X):
        raise ValueError(f"{where}: X has {len(X)} samples but y has {len(y)} labels; pass "
                         "one label per sample")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise ValueError(f"{where}: y must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise ValueError(f"{where}: class labels must be >= 0, got {int(y.min())}")
    return X, y


def check_fitted(model, attribute, where):
    if getattr(model, attribute, None) is None:
        raise NotFittedError(f"{type(model).__name__}.{where}: this model is not fitted yet; "
                             f"call fit(X, y) first")
