"""Small datasets made or shipped locally: the cs231n spiral and scikit-learn's 8×8 digits."""

import numpy as np

from gradkit.data.dataset import ArrayDataset
from gradkit.data.datasets._common import require


def spiral(points_per_class=100, classes=3, noise=0.2, seed=0):
    """The cs231n notes' toy problem: ``classes`` spiral arms in the plane, not linearly
    separable. Arm c: radius r from 0 to 1, angle t = 4c + 4r + N(0, noise²) (radians),
    point (r sin t, r cos t). x (N, 2) float32, y (N,) int64, N = points_per_class·classes."""
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, points_per_class), classes)
    y = np.repeat(np.arange(classes, dtype=np.int64), points_per_class)
    t = 4.0 * y + 4.0 * r + rng.standard_normal(len(y)) * noise
    x = np.stack([r * np.sin(t), r * np.cos(t)], axis=1).astype(np.float32)
    return ArrayDataset(x, y, [f"arm {c}" for c in range(classes)], name="spiral")


def digits(flatten=False):
    """scikit-learn's handwritten digits: 1,797 images 8×8, grey levels 0..16 scaled to
    [0, 1]; x (1797, 1, 8, 8) float32 (or (1797, 64) with ``flatten``), y in 0..9. Shipped
    with scikit-learn (no download). There is no test split: hold one out with
    ``train_val_split`` or use ``KFold``."""
    datasets = require("sklearn.datasets", "scikit-learn", "digits()")
    bunch = datasets.load_digits()
    x = (bunch.images / 16.0).astype(np.float32)
    x = x.reshape(len(x), -1) if flatten else x[:, None]
    return ArrayDataset(x, bunch.target.astype(np.int64), [str(d) for d in range(10)],
                        name="digits")
