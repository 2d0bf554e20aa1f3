"""Occlusion augmentations: RandomErasing (Zhong et al.) and Cutout (DeVries & Taylor).

A rectangle per image is drawn as arrays of corners; the erased region is the broadcast of a
row mask (N, 1, H, 1) and a column mask (N, 1, 1, W), filled in one ``np.where``.
"""

import math

import numpy as np

from gradkit.data.transforms.base import Transform, coin


def _box_mask(top, left, height, width, h, w):
    """(N, 1, H, W) booleans: True inside [top, top+height) × [left, left+width)."""
    rows = np.arange(h)[None, :]
    cols = np.arange(w)[None, :]
    in_rows = (rows >= top[:, None]) & (rows < (top + height)[:, None])
    in_cols = (cols >= left[:, None]) & (cols < (left + width)[:, None])
    return in_rows[:, None, :, None] & in_cols[:, None, None, :]


def _fill(value, x, rng):
    """What erased pixels become: a number, one number per channel, or 'random' N(0, 1)."""
    if isinstance(value, str):
        if value != "random":
            raise ValueError(f"erasing value must be a number, a per-channel sequence or "
                             f"'random', got {value!r}")
        return rng.standard_normal(x.shape, dtype=np.float32).astype(x.dtype, copy=False)
    value = np.asarray(value, dtype=x.dtype)
    if value.ndim == 1:
        if len(value) not in (1, x.shape[1]):
            raise ValueError(f"erasing value: {len(value)} values for {x.shape[1]} channels")
        value = value.reshape(1, -1, 1, 1)
    return value


class RandomErasing(Transform):
    """With probability ``p``, erase one rectangle per image: area a fraction in ``scale`` of
    the image, aspect ratio h/w log-uniform in ``ratio``; filled with ``value`` (a number, a
    per-channel sequence, or 'random' for N(0, 1) noise). As torchvision: 10 tries per image,
    and an image whose tries all give a box that does not fit is left as it is."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, generator=None):
        super().__init__(generator)
        if not 0 <= p <= 1:
            raise ValueError(f"RandomErasing: probability must be in [0, 1], got {p}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomErasing: scale and ratio should be (min, max), got "
                             f"scale={scale}, ratio={ratio}")
        self.p, self.scale, self.ratio, self.value = p, tuple(scale), tuple(ratio), value

    def forward(self, x, rng, tries=10):
        n, _, h, w = x.shape
        area = h * w * rng.uniform(self.scale[0], self.scale[1], (n, tries))
        aspect = np.exp(rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]),
                                    (n, tries)))
        eh = np.round(np.sqrt(area * aspect)).astype(np.int64)
        ew = np.round(np.sqrt(area / aspect)).astype(np.int64)
        fits = (eh < h) & (ew < w)
        first = np.argmax(fits, axis=1)
        rows = np.arange(n)
        eh, ew = eh[rows, first], ew[rows, first]
        erase = fits[rows, first] & coin(rng, self.p, n)
        top = np.floor(rng.random(n) * (h - eh + 1)).astype(np.int64)
        left = np.floor(rng.random(n) * (w - ew + 1)).astype(np.int64)
        mask = _box_mask(top, left, eh, ew, h, w) & erase[:, None, None, None]
        return np.where(mask, _fill(self.value, x, rng), x)


class Cutout(Transform):
    """Zero (or ``value``) ``n_holes`` squares of side ``size`` per image, each centred on a
    uniformly random pixel and clipped at the border (so a hole may be partly outside).
    The paper's CIFAR-10 setting: ``Cutout(16)``."""

    def __init__(self, size, n_holes=1, value=0.0, generator=None):
        super().__init__(generator)
        if size <= 0 or n_holes <= 0:
            raise ValueError(f"Cutout: size and n_holes must be positive, got size={size}, "
                             f"n_holes={n_holes}")
        self.size, self.n_holes, self.value = int(size), int(n_holes), value

    def forward(self, x, rng):
        n, _, h, w = x.shape
        mask = np.zeros((n, 1, h, w), bool)
        for _ in range(self.n_holes):
            cy, cx = rng.integers(0, h, n), rng.integers(0, w, n)
            top, left = np.clip(cy - self.size // 2, 0, h), np.clip(cx - self.size // 2, 0, w)
            bottom = np.clip(cy - self.size // 2 + self.size, 0, h)
            right = np.clip(cx - self.size // 2 + self.size, 0, w)
            mask |= _box_mask(top, left, bottom - top, right - left, h, w)
        return np.where(mask, _fill(self.value, x, rng), x)
