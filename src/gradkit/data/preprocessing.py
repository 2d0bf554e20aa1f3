"""Data preprocessing fitted on the training split only (the cs231n notes' recipe).

    pre = Standardize().fit(train.x)
    x_train, x_val = pre.transform(train.x), pre.transform(val.x)   # val uses train's stats

Every preprocessor has fit / transform / fit_transform / inverse_transform and
``state_dict()`` / ``load_state_dict()`` of plain ndarrays, so its statistics can be saved next
to the model's weights (e.g. under a "preprocess." prefix). Statistics are computed in float64
and stored in the training data's float dtype; transforms keep the input's dtype. Inputs may
be ndarrays or gk Tensors (the result is then a Tensor).
"""

import numpy as np

from gradkit.tensor import Tensor


def _unwrap(x):
    if isinstance(x, Tensor):
        return x._data, True
    x = np.asarray(x)
    return (x if x.dtype.kind == "f" else x.astype(np.float32)), False


def _wrap(out, was_tensor):
    return Tensor._make(out, None) if was_tensor else out


class _Preprocessor:
    _state = ()

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def _check_fitted(self):
        if getattr(self, self._state[0], None) is None:
            raise RuntimeError(f"{type(self).__name__}: call fit(train_x) (or "
                               "load_state_dict) before transform")

    def state_dict(self):
        self._check_fitted()
        return {name: np.array(getattr(self, name)) for name in self._state}

    def load_state_dict(self, state):
        missing = [name for name in self._state if name not in state]
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing {missing}")
        for name in self._state:
            setattr(self, name, np.array(state[name]))
        return self


class Standardize(_Preprocessor):
    """x ← (x − mean) / std, with mean and std of the training data.

    Per feature for (N, D) data; per channel for (N, C, ...) data (images, signals) unless
    ``per_channel=False`` (then per feature, i.e. per pixel). ``with_std=False`` only
    subtracts the mean. A feature whose std is below ``eps`` is only centred (std taken as 1,
    as scikit-learn does)."""

    _state = ("mean", "std")

    def __init__(self, per_channel=None, with_std=True, eps=1e-8):
        self.per_channel = per_channel
        self.with_std = with_std
        self.eps = eps
        self.mean = self.std = None

    def fit(self, x):
        x, _ = _unwrap(x)
        per_channel = x.ndim > 2 if self.per_channel is None else self.per_channel
        axes = (0,) + tuple(range(2, x.ndim)) if per_channel else (0,)
        x64 = x.astype(np.float64)
        mean = x64.mean(axis=axes, keepdims=True)
        std = x64.std(axis=axes, keepdims=True) if self.with_std else np.ones_like(mean)
        std[std < self.eps] = 1.0
        self.mean, self.std = mean.astype(x.dtype), std.astype(x.dtype)
        return self

    def transform(self, x):
        self._check_fitted()
        x, was_tensor = _unwrap(x)
        if x.ndim != self.mean.ndim or any(
                m not in (1, s) for m, s in zip(self.mean.shape[1:], x.shape[1:])):
            raise ValueError(f"Standardize: fitted on samples of shape {self.mean.shape[1:]} "
                             f"(1 = any), got x of shape {x.shape}")
        return _wrap(((x - self.mean) / self.std).astype(x.dtype, copy=False), was_tensor)

    def inverse_transform(self, x):
        self._check_fitted()
        x, was_tensor = _unwrap(x)
        return _wrap((x * self.std + self.mean).astype(x.dtype, copy=False), was_tensor)


class PCA(_Preprocessor):
    """Project centred data onto the top principal directions.

    fit: mean μ, covariance Σ = (X − μ)ᵀ(X − μ) / N of the flattened samples (the notes'
    normalization, N not N − 1), Σ = U S Uᵀ by SVD; ``components`` are the first
    ``n_components`` columns of U as rows (k, D), signed so that each one's largest entry is
    positive (scikit-learn's convention), ``explained_variance`` the matching S.
    transform: (X − μ) Uₖ, (N, k); inverse_transform: Z Uₖᵀ + μ in the original sample shape.
    ``n_components``: an int, a fraction in (0, 1) of the variance to keep, or None (all)."""

    _state = ("mean", "components", "explained_variance", "total_variance", "sample_shape")

    def __init__(self, n_components=None):
        self.n_components = n_components
        self.mean = self.components = self.explained_variance = None
        self.total_variance = self.sample_shape = None

    def _flat(self, x):
        x, was_tensor = _unwrap(x)
        return x.reshape(len(x), -1), x.dtype, was_tensor

    def fit(self, x):
        flat, dtype, _ = self._flat(x)
        x64 = flat.astype(np.float64)
        mean = x64.mean(axis=0)
        centred = x64 - mean
        u, s, _ = np.linalg.svd(centred.T @ centred / len(x64), hermitian=True)
        k = self._keep(s)
        u = u[:, :k]
        u *= np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(k)])
        self.mean = mean.astype(dtype)
        self.components = u.T.astype(dtype)
        self.explained_variance = s[:k].astype(dtype)
        self.total_variance = np.array(s.sum(), dtype)
        self.sample_shape = np.array(np.shape(x)[1:], np.int64)
        return self

    def _keep(self, s):
        d, k = len(s), self.n_components
        if k is None:
            return d
        if isinstance(k, float) and 0 < k < 1:
            return int(np.searchsorted(np.cumsum(s) / s.sum(), k) + 1)
        if not 1 <= k <= d:
            raise ValueError(f"PCA: n_components must be in [1, {d}] (or a fraction in (0, 1)), "
                             f"got {k}")
        return int(k)

    @property
    def explained_variance_ratio(self):
        return self.explained_variance / self.total_variance

    def _project(self, x):
        self._check_fitted()
        flat, dtype, was_tensor = self._flat(x)
        if flat.shape[1] != self.mean.shape[0]:
            raise ValueError(f"{type(self).__name__}: fitted on {self.mean.shape[0]} features "
                             f"(samples of shape {tuple(self.sample_shape)}), got x of shape "
                             f"{np.shape(x)}")
        return (flat - self.mean) @ self.components.T.astype(dtype, copy=False), was_tensor

    def transform(self, x):
        z, was_tensor = self._project(x)
        return _wrap(z, was_tensor)

    def inverse_transform(self, z):
        self._check_fitted()
        z, was_tensor = _unwrap(z)
        flat = z @ self.components + self.mean
        return _wrap(flat.reshape((len(z),) + tuple(self.sample_shape)), was_tensor)


class Whiten(PCA):
    """PCA whitening: z = (X − μ) Uₖ / √(S + eps), so the training data's covariance is the
    identity (up to eps). ``zca=True`` rotates back, z Uₖᵀ, to the original pixel basis (the
    output keeps the input's sample shape and looks like an edge-enhanced image).
    ``n_components`` as in PCA (default all)."""

    def __init__(self, eps=1e-5, zca=False, n_components=None):
        super().__init__(n_components)
        self.eps = eps
        self.zca = zca

    def _scale(self):
        return np.sqrt(self.explained_variance + self.eps).astype(self.components.dtype)

    def transform(self, x):
        z, was_tensor = self._project(x)
        z = z / self._scale()
        if self.zca:
            z = (z @ self.components).reshape((len(z),) + tuple(self.sample_shape))
        return _wrap(z, was_tensor)

    def inverse_transform(self, z):
        self._check_fitted()
        z, was_tensor = _unwrap(z)
        z = z.reshape(len(z), -1)
        if self.zca:
            z = z @ self.components.T
        flat = (z * self._scale()) @ self.components + self.mean
        return _wrap(flat.reshape((len(z),) + tuple(self.sample_shape)), was_tensor)
