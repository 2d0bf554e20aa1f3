"""Photometric augmentations of whole batches: colour jitter, PCA lighting, Gaussian noise,
and the deterministic per-channel Normalize."""

import numpy as np

from gradkit.data.transforms import functional as F
from gradkit.data.transforms.base import Transform, pair, uniform

# AlexNet-style lighting on ImageNet pixels in [0, 1] (fb.resnet.torch's values):
# eigenvalues of the 3x3 RGB covariance, and the eigenvectors as columns.
IMAGENET_EIGVAL = (0.2175, 0.0188, 0.0045)
IMAGENET_EIGVEC = ((-0.5675, 0.7192, 0.4009),
                   (-0.5808, -0.0045, -0.8140),
                   (-0.5836, -0.6948, 0.4203))


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue, a factor per image (torchvision's).

    ``brightness``, ``contrast``, ``saturation``: b -> factor in [max(0, 1 − b), 1 + b], or a
    (min, max) pair such as (0.5, 1.5); ``hue``: h in [0, 0.5] -> shift in [−h, h] turns, or a
    pair within [−0.5, 0.5]. A range that is exactly (1, 1) (hue (0, 0)) is skipped, so
    ``ColorJitter((1, 1), (1, 1), (1, 1), 0)`` is the identity. The four adjustments run in a
    random order drawn once per batch (torchvision draws it per call). Images are expected in
    [0, 1] and the results are clamped to [0, 1]; saturation and hue leave 1-channel images
    unchanged."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, generator=None):
        super().__init__(generator)
        self.brightness = pair(brightness, "ColorJitter brightness", center=1.0, bound=0.0)
        self.contrast = pair(contrast, "ColorJitter contrast", center=1.0, bound=0.0)
        self.saturation = pair(saturation, "ColorJitter saturation", center=1.0, bound=0.0)
        self.hue = pair(hue, "ColorJitter hue", center=0.0)
        if not -0.5 <= self.hue[0] <= self.hue[1] <= 0.5:
            raise ValueError(f"ColorJitter: hue values should be between (-0.5, 0.5), got {hue}")

    def forward(self, x, rng):
        n = len(x)
        order = rng.permutation(4)
        ops = [(F.adjust_brightness, self.brightness, 1.0),
               (F.adjust_contrast, self.contrast, 1.0),
               (F.adjust_saturation, self.saturation, 1.0),
               (F.adjust_hue, self.hue, 0.0)]
        factors = [uniform(rng, lo, hi, n) if (lo, hi) != (c, c) else None
                   for _, (lo, hi), c in ops]
        out = x
        for k in order:
            if factors[k] is not None:
                out = ops[k][0](out, factors[k])
        return out.copy() if out is x else out


class PCALighting(Transform):
    """AlexNet's colour augmentation: add to every pixel of image n the RGB offset
    Σ_k α_nk·λ_k·v_k, with α_nk ~ N(0, std²), λ_k, v_k the eigenvalues and eigenvectors
    (columns of ``eigvec``) of the covariance of the training pixels' RGB values.
    Defaults: the ImageNet values; ``PCALighting.from_images(x)`` fits them to your data.
    No clamping (as AlexNet)."""

    def __init__(self, std=0.1, eigval=IMAGENET_EIGVAL, eigvec=IMAGENET_EIGVEC, generator=None):
        super().__init__(generator)
        self.std = std
        self.eigval = np.asarray(eigval, np.float32)
        self.eigvec = np.asarray(eigvec, np.float32)
        if self.eigvec.shape != (len(self.eigval), len(self.eigval)):
            raise ValueError(f"PCALighting: eigvec must be ({len(self.eigval)}, "
                             f"{len(self.eigval)}), got {self.eigvec.shape}")

    @classmethod
    def from_images(cls, images, std=0.1, generator=None):
        """Fit the eigen-decomposition to the pixels of ``images`` (N, C, H, W)."""
        images = np.asarray(images)
        pixels = images.transpose(0, 2, 3, 1).reshape(-1, images.shape[1]).astype(np.float64)
        pixels -= pixels.mean(axis=0)
        eigval, eigvec = np.linalg.eigh(pixels.T @ pixels / len(pixels))
        return cls(std, eigval[::-1], eigvec[:, ::-1], generator)

    def forward(self, x, rng):
        if x.shape[1] != len(self.eigval):
            raise ValueError(f"PCALighting({len(self.eigval)} channels): expected input "
                             f"(N, {len(self.eigval)}, H, W), got {x.shape}")
        alpha = rng.standard_normal((len(x), len(self.eigval)), dtype=np.float32) * self.std
        offset = (alpha * self.eigval) @ self.eigvec.T  # (N, C)
        return x + offset[:, :, None, None].astype(x.dtype)


class GaussianNoise(Transform):
    """Add N(mean, sigma²) noise to every value; clamp to [0, 1] when ``clip`` (torchvision
    v2's). Works on any batch shape."""

    images_only = False

    def __init__(self, mean=0.0, sigma=0.1, clip=True, generator=None):
        super().__init__(generator)
        if sigma < 0:
            raise ValueError(f"GaussianNoise: sigma should be non-negative, got {sigma}")
        self.mean, self.sigma, self.clip = mean, sigma, clip

    def forward(self, x, rng):
        out = rng.standard_normal(x.shape, dtype=x.dtype if x.dtype == np.float64 else
                                  np.float32).astype(x.dtype, copy=False)
        out *= self.sigma
        out += x + self.mean if self.mean else x
        return np.clip(out, 0.0, 1.0, out=out) if self.clip else out


class Normalize(Transform):
    """(x − mean[c]) / std[c] per channel (deterministic; apply after the colour jitter)."""

    def __init__(self, mean, std):
        super().__init__()
        self.mean = tuple(np.atleast_1d(mean).tolist())
        self.std = tuple(np.atleast_1d(std).tolist())

    def forward(self, x, rng):
        return F.normalize(x, self.mean, self.std)
