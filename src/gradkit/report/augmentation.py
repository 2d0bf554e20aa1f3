"""A picture of what an augmentation pipeline does: originals and augmented versions."""

import textwrap
from pathlib import Path

import numpy as np

from gradkit.data.transforms import Transform
from gradkit.tensor import Tensor


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("gradkit.report needs matplotlib to draw figures: pip install "
                          "matplotlib (or pip install 'gradkit[report]')") from err
    return Figure, FigureCanvasAgg


def _displayable(images):
    """(N, C, H, W) -> (N, H, W, C) in [0, 1]: clipped when already in [0, 1]-ish, else each
    image min-max scaled (e.g. after Normalize)."""
    lo, hi = images.min(), images.max()
    if lo < -0.05 or hi > 1.05:
        lo = images.min(axis=(1, 2, 3), keepdims=True)
        hi = images.max(axis=(1, 2, 3), keepdims=True)
        images = (images - lo) / np.maximum(hi - lo, 1e-12)
    return np.clip(images, 0, 1).transpose(0, 2, 3, 1)


def augmentation_grid(transform, images, path, n_augmented=5, seed=0, labels=None,
                      class_names=None, cell_inches=1.3, dpi=100):
    """Write a PNG: one row per image (N ≤ 12 or so reads well), the original in the first
    column and ``n_augmented`` independent draws of ``transform`` next to it.

    ``images``: (N, C, H, W) floats (ndarray or Tensor), C = 1 or 3. A gradkit transform
    draws from a generator seeded with ``seed``, so the picture is reproducible; a plain
    callable ``f(x) -> x`` is called as it is. A label-mixing transform (MixUp, CutMix) gets
    one-hot targets and each cell is titled with the share of the row's own image.
    ``labels``/``class_names`` title the originals. Returns the path."""
    Figure, FigureCanvasAgg = _matplotlib()
    x = images._data if isinstance(images, Tensor) else np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"augmentation_grid: expected images (N, 1 or 3, H, W), got shape "
                         f"{x.shape}")
    rng = np.random.default_rng(seed)
    columns, titles = [x], [None]
    seeded = {"generator": rng} if isinstance(transform, Transform) else {}
    for _ in range(n_augmented):
        if getattr(transform, "needs_labels", False):
            out, soft = transform(x, np.eye(len(x), dtype=np.float32), **seeded)
            titles.append([f"{share:.0%} own" for share in np.diagonal(np.asarray(soft))])
        else:
            out = transform(x, **seeded)
            titles.append(None)
        columns.append(np.asarray(out._data if isinstance(out, Tensor) else out))
    n, cols = len(x), n_augmented + 1
    fig = Figure(figsize=(cols * cell_inches, n * cell_inches + 0.4), dpi=dpi)
    FigureCanvasAgg(fig)
    name = ("Compose: " + ", ".join(type(t).__name__ for t in transform.transforms)
            if hasattr(transform, "transforms") else repr(transform))
    fig.suptitle(textwrap.fill(name, width=12 * cols), fontsize=8)
    shown = [_displayable(c) for c in columns]
    for col in range(cols):
        for row in range(n):
            ax = fig.add_subplot(n, cols, row * cols + col + 1)
            img = shown[col][row]
            if img.shape[2] == 1:
                ax.imshow(img[:, :, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.imshow(img, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            title = _title(row, col, labels, class_names, titles[col])
            if title:
                ax.set_title(title, fontsize=7)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / (n * cell_inches + 0.4)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _title(row, col, labels, class_names, cell_titles):
    if col == 0:
        head = "original"
        if labels is not None:
            label = int(np.asarray(labels)[row])
            head = class_names[label] if class_names is not None else f"class {label}"
        return head if row == 0 or labels is not None else None
    if cell_titles is not None:
        return cell_titles[row]
    return f"augmented {col}" if row == 0 else None
