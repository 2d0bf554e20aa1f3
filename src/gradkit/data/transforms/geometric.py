"""Geometric augmentations of whole batches: flips, crops, scale jitter and affine warps.

Each draws its per-sample parameters as arrays (coin flips, offsets, boxes, angles) and hands
them to one vectorized operation from ``functional``. Names, arguments and defaults follow
torchvision; interpolation is always bilinear (without antialiasing).
"""

import math

import numpy as np

from gradkit.data.transforms import functional as F
from gradkit.data.transforms.base import Transform, coin, pair, size2, uniform


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p=0.5, generator=None):
        super().__init__(generator)
        self.p = p

    def forward(self, x, rng):
        flip = coin(rng, self.p, len(x))[:, None, None, None]
        return np.where(flip, x[..., ::-1], x)


class RandomVerticalFlip(Transform):
    """Mirror each image top-bottom with probability ``p``."""

    def __init__(self, p=0.5, generator=None):
        super().__init__(generator)
        self.p = p

    def forward(self, x, rng):
        flip = coin(rng, self.p, len(x))[:, None, None, None]
        return np.where(flip, x[..., ::-1, :], x)


class RandomCrop(Transform):
    """Pad by ``padding`` (see ``functional.pad``), then cut a ``size`` window at a uniformly
    random position, a different one per image. ``pad_if_needed`` pads images smaller than
    ``size`` symmetrically first. CIFAR's recipe: ``RandomCrop(32, padding=4)``."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant",
                 generator=None):
        super().__init__(generator)
        self.size = size2(size, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, x, rng):
        if self.padding is not None:
            x = F.pad(x, self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        if self.pad_if_needed and (x.shape[2] < th or x.shape[3] < tw):
            dh, dw = max(th - x.shape[2], 0), max(tw - x.shape[3], 0)
            x = F.pad(x, (dw, dh), self.fill, self.padding_mode)
        n, _, h, w = x.shape
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the "
                             f"(padded) image size {(h, w)}")
        top = rng.integers(0, h - th + 1, n)
        left = rng.integers(0, w - tw + 1, n)
        return F.crop(x, top, left, th, tw)


class RandomResizedCrop(Transform):
    """Cut a random box (area a fraction in ``scale`` of the image, aspect ratio w/h in
    ``ratio``, log-uniform) and resize it to ``size`` — the Inception/ResNet recipe.

    Boxes are drawn as torchvision does, 10 tries per image (all images at once); an image
    whose 10 tries all fail gets the central crop with the aspect ratio clamped to ``ratio``."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), generator=None):
        super().__init__(generator)
        self.size = size2(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio should be (min, max), got "
                             f"scale={scale}, ratio={ratio}")
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)

    def get_params(self, n, height, width, rng, tries=10):
        """Boxes (top, left, h, w), each an int array of length n."""
        area = height * width
        target = area * rng.uniform(self.scale[0], self.scale[1], (n, tries))
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = np.exp(rng.uniform(log_lo, log_hi, (n, tries)))
        w = np.round(np.sqrt(target * aspect)).astype(np.int64)
        h = np.round(np.sqrt(target / aspect)).astype(np.int64)
        ok = (w > 0) & (w <= width) & (h > 0) & (h <= height)
        first = np.argmax(ok, axis=1)
        found = ok[np.arange(n), first]
        h, w = h[np.arange(n), first], w[np.arange(n), first]
        # the fallback: the whole image, aspect ratio clamped into `ratio`
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            fh, fw = int(round(width / self.ratio[0])), width
        elif in_ratio > self.ratio[1]:
            fh, fw = height, int(round(height * self.ratio[1]))
        else:
            fh, fw = height, width
        h, w = np.where(found, h, fh), np.where(found, w, fw)
        top = np.where(found, np.floor(rng.random(n) * (height - h + 1)), (height - h) // 2)
        left = np.where(found, np.floor(rng.random(n) * (width - w + 1)), (width - w) // 2)
        return top.astype(np.int64), left.astype(np.int64), h, w

    def forward(self, x, rng):
        top, left, h, w = self.get_params(len(x), x.shape[2], x.shape[3], rng)
        return F.resized_crop(x, top, left, h, w, self.size)


class ScaleJitter(Transform):
    """Scale augmentation (VGG / ResNet): resize each image so its shorter side is S, drawn
    uniformly from the integers in [min_size, max_size], then cut a random ``size`` crop.
    The notes' recipe is ``ScaleJitter(224, 256, 480)``.

    Fused: each output pixel (k, l) of an image scaled by r = S / short side reads the source
    at ((top + k + 0.5)·H/H_s − 0.5, (left + l + 0.5)·W/W_s − 0.5), with H_s = round(r·H),
    so no image is ever materialized at its jittered size."""

    def __init__(self, size, min_size, max_size, generator=None):
        super().__init__(generator)
        self.size = size2(size, "ScaleJitter")
        if not max(self.size) <= min_size <= max_size:
            raise ValueError(f"ScaleJitter: need max(size) <= min_size <= max_size, got "
                             f"size={size}, min_size={min_size}, max_size={max_size}")
        self.min_size, self.max_size = int(min_size), int(max_size)

    def forward(self, x, rng):
        n, _, h, w = x.shape
        th, tw = self.size
        short = rng.integers(self.min_size, self.max_size + 1, n)
        scaled_h = np.maximum(np.round(h * short / min(h, w)).astype(np.int64), th)
        scaled_w = np.maximum(np.round(w * short / min(h, w)).astype(np.int64), tw)
        top = rng.integers(0, scaled_h - th + 1)
        left = rng.integers(0, scaled_w - tw + 1)
        k, m = np.arange(th) + 0.5, np.arange(tw) + 0.5
        sy = (top[:, None] + k) * (h / scaled_h)[:, None] - 0.5
        sx = (left[:, None] + m) * (w / scaled_w)[:, None] - 0.5
        return F.resample(x, sy, sx)


class RandomAffine(Transform):
    """A random affine warp per image about its centre, bilinear, outside filled with ``fill``.

    - ``degrees``: rotation angle range, d -> (−d, d); positive turns counter-clockwise;
    - ``translate`` (a, b): shifts up to a·W horizontally and b·H vertically;
    - ``scale`` (lo, hi): zoom factor;
    - ``shear``: s -> x-shear angle in (−s, s) degrees; (lo, hi) -> x-shear in that range;
      (xlo, xhi, ylo, yhi) -> both;
    - ``stretch`` (lo, hi) (gradkit's addition): width/height ratio factor r, log-uniform;
      x is scaled by √r and y by 1/√r, so the area is kept.

    The visible motion of a point p (from the centre) is M·p + T with
    M = R(angle)·Shear·diag(s√r, s/√r); the sampler reads the source at M⁻¹(p − T)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, stretch=None, fill=0.0,
                 generator=None):
        super().__init__(generator)
        self.degrees = pair(degrees, "RandomAffine degrees", center=0.0)
        self.translate = translate
        self.scale = scale
        if shear is None or np.isscalar(shear):
            shear = (0.0, 0.0) if shear is None else pair(shear, "RandomAffine shear", 0.0)
        self.shear = tuple(shear) + (0.0, 0.0) if len(shear) == 2 else tuple(shear)
        self.stretch = stretch
        self.fill = fill

    def get_matrix(self, n, height, width, rng):
        """The (n, 2, 3) inverse maps [M⁻¹ | −M⁻¹T] that ``functional.affine`` samples with."""
        angle = np.radians(uniform(rng, *self.degrees, n).astype(np.float64))
        zoom = uniform(rng, *self.scale, n) if self.scale else np.ones(n)
        if self.stretch:
            log_r = uniform(rng, math.log(self.stretch[0]), math.log(self.stretch[1]), n)
            root_r = np.exp(0.5 * log_r.astype(np.float64))
        else:
            root_r = np.ones(n)
        shx = np.tan(np.radians(uniform(rng, self.shear[0], self.shear[1], n)))
        shy = np.tan(np.radians(uniform(rng, self.shear[2], self.shear[3], n)))
        cos, sin = np.cos(angle), np.sin(angle)
        rot = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
        shear = np.stack([np.stack([np.ones(n), shx], -1), np.stack([shy, np.ones(n)], -1)], -2)
        scale = np.zeros((n, 2, 2))
        scale[:, 0, 0], scale[:, 1, 1] = zoom * root_r, zoom / root_r
        inverse = np.linalg.inv(rot @ shear @ scale)
        shift = np.zeros((n, 2))
        if self.translate is not None:
            a, b = self.translate
            shift[:, 0] = uniform(rng, -a * width, a * width, n)
            shift[:, 1] = uniform(rng, -b * height, b * height, n)
        return np.concatenate([inverse, -(inverse @ shift[:, :, None])], axis=2)

    def forward(self, x, rng):
        return F.affine(x, self.get_matrix(len(x), x.shape[2], x.shape[3], rng), self.fill)
