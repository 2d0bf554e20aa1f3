"""Label-mixing augmentations: MixUp (Zhang et al.) and CutMix (Yun et al.).

Each image n is mixed with a partner π(n), another image of the batch drawn at random, and
its target becomes the soft target λ_n·y_n + (1 − λ_n)·y_π(n), where λ_n is the share of the
result that comes from image n itself. Each image draws its own λ_n ~ Beta(α, α) (timm's
"elem" mode; torchvision draws one λ per batch and pairs image n with image n − 1).
Call them with labels, ``x, y_soft = t(x, y)``: integer labels (N,) need ``num_classes``;
soft targets (N, K) are mixed as they are. The soft targets (float32, rows summing to 1) go
straight into a cross-entropy that takes probabilities.
"""

import numpy as np

from gradkit.data.transforms.base import Transform
from gradkit.data.transforms.erasing import _box_mask


class _LabelMixing(Transform):
    needs_labels = True
    images_only = False

    def __init__(self, alpha=1.0, num_classes=None, generator=None):
        super().__init__(generator)
        if alpha <= 0:
            raise ValueError(f"{type(self).__name__}: alpha must be positive, got {alpha}")
        self.alpha = float(alpha)
        self.num_classes = num_classes

    def _soft(self, y, n):
        if y.ndim == 2 and y.dtype.kind == "f":
            return y.astype(np.float32, copy=False)
        if y.ndim != 1 or y.dtype.kind not in "iu":
            raise ValueError(f"{type(self).__name__}: labels must be integer (N,) or soft "
                             f"(N, K) targets, got {y.dtype} {y.shape}")
        if self.num_classes is None:
            raise ValueError(f"{type(self).__name__}: integer labels need num_classes "
                             f"({type(self).__name__}(alpha, num_classes=K))")
        if len(y) != n:
            raise ValueError(f"{type(self).__name__}: {len(y)} labels for {n} images")
        return np.eye(self.num_classes, dtype=np.float32)[y]

    def forward_with_labels(self, x, y, rng):
        n = len(x)
        y = self._soft(y, n)
        partner = (np.arange(n) + rng.integers(1, max(n, 2), n)) % n  # never itself (n > 1)
        lam = rng.beta(self.alpha, self.alpha, n)
        x, lam = self.mix(x, partner, lam, rng)
        lam = lam.astype(np.float32)[:, None]
        return x, lam * y + (1 - lam) * y[partner]


class MixUp(_LabelMixing):
    """x_n ← λ_n·x_n + (1 − λ_n)·x_π(n): a blend of two whole images (any batch shape)."""

    def mix(self, x, partner, lam, rng):
        weight = lam.astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))
        return weight * x + (1 - weight) * x[partner], lam


class CutMix(_LabelMixing):
    """Paste into image n a box of image π(n): the box has side ratio √(1 − λ_n) of the
    image's, centred on a uniform random pixel and clipped at the border (torchvision's);
    λ_n is then recomputed as the area that image n keeps. Images (N, C, H, W) only."""

    def mix(self, x, partner, lam, rng):
        if x.ndim != 4:
            raise ValueError(f"CutMix: expected a batch of images (N, C, H, W), got shape "
                             f"{x.shape}")
        n, _, h, w = x.shape
        cy, cx = rng.integers(0, h, n), rng.integers(0, w, n)
        half = 0.5 * np.sqrt(1.0 - lam)
        half_h, half_w = (half * h).astype(np.int64), (half * w).astype(np.int64)
        top, bottom = np.clip(cy - half_h, 0, h), np.clip(cy + half_h, 0, h)
        left, right = np.clip(cx - half_w, 0, w), np.clip(cx + half_w, 0, w)
        mask = _box_mask(top, left, bottom - top, right - left, h, w)
        kept = 1.0 - (bottom - top) * (right - left) / (h * w)
        return np.where(mask, x[partner], x), kept
