"""Datasets from your own files: a folder of images per class, or an .npz of arrays; and
``read_image``, the one place gradkit decodes an image file (ImageFolder, gradkit predict).

A file that is not a readable image (not an image at all, truncated, or over Pillow's pixel
limit ``PIL.Image.MAX_IMAGE_PIXELS``, i.e. a possible decompression bomb) raises a
ValueError naming the file, never a Pillow traceback:

    ImageFolder: cannot read data/cats/notes.png as an image (cannot identify image file ...)
"""

import warnings
from pathlib import Path

import numpy as np

from gradkit.data.dataset import ArrayDataset
from gradkit.data.datasets._common import require

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def _scaled(x):
    """uint8 pixels -> float32 in [0, 1]; other dtypes -> float32 as they are."""
    x = np.asarray(x)
    return x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)


def read_image(path, mode="RGB", size=None, who="read_image"):
    """The pixels of an image file as uint8: (H, W) for ``mode='L'``, (H, W, 3) for 'RGB'
    (any Pillow mode), resized (bilinear) to ``size`` = (h, w) when given. ``who`` names the
    caller in errors. A missing file raises FileNotFoundError; an unreadable one, or one over
    Pillow's pixel limit, a ValueError naming the file (see the module docstring)."""
    image = require("PIL.Image", "Pillow", who)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{who}: no file {path}")
    try:
        with warnings.catch_warnings():  # over the limit Pillow only warns; refuse it
            warnings.simplefilter("error", image.DecompressionBombWarning)
            with image.open(path) as img:
                img = img.convert(mode)
                if size is not None and img.size != (size[1], size[0]):
                    img = img.resize((size[1], size[0]), image.Resampling.BILINEAR)
                return np.asarray(img)
    except (image.DecompressionBombError, image.DecompressionBombWarning) as err:
        raise ValueError(f"{who}: refusing {path}: {err} Shrink the image, or raise "
                         "PIL.Image.MAX_IMAGE_PIXELS if you trust the file") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:  # Pillow's decode errors
        raise ValueError(f"{who}: cannot read {path} as an image ({err}); remove it or "
                         "replace it with a valid image file") from None


class ImageFolder(ArrayDataset):
    """Images in ``root/<class name>/<file>``, read with Pillow into memory.

    Classes are the sub-folders in sorted order (``class_to_idx``); files with an extension
    in ``extensions`` are read in sorted order (``samples``: (path, class index) pairs).
    ``mode``: Pillow mode to convert to ('RGB' -> 3 channels, 'L' -> 1). ``size``: an int
    (square) or (h, w) every image is resized to (bilinear); without it all images must
    already have the same size. x (N, C, H, W) float32 in [0, 1], y int64."""

    def __init__(self, root, size=None, mode="RGB", extensions=IMG_EXTENSIONS):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"ImageFolder: {self.root} is not a folder; expected "
                                    "root/<class name>/<image files>")
        classes = sorted(d.name for d in self.root.iterdir() if d.is_dir())
        if not classes:
            raise FileNotFoundError(f"ImageFolder: no class sub-folders in {self.root}")
        self.class_to_idx = {c: i for i, c in enumerate(classes)}
        exts = tuple(e.lower() for e in extensions)
        self.samples = [(p, i) for c, i in self.class_to_idx.items()
                        for p in sorted((self.root / c).iterdir())
                        if p.is_file() and p.suffix.lower() in exts]
        empty = sorted(set(classes) - {classes[i] for _, i in self.samples})
        if empty:
            raise FileNotFoundError(f"ImageFolder: no image files ({', '.join(exts)}) in the "
                                    f"class folder(s) {', '.join(empty)} of {self.root}")
        hw = None if size is None else ((size, size) if np.isscalar(size) else tuple(size))
        pixels = [read_image(path, mode, hw, "ImageFolder") for path, _ in self.samples]
        shapes = {p.shape for p in pixels}
        if len(shapes) > 1:
            raise ValueError(f"ImageFolder: images of different sizes {sorted(shapes)[:3]} in "
                             f"{self.root}; pass size=(h, w) to resize them all")
        x = _scaled(np.stack(pixels))
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
        y = np.array([i for _, i in self.samples], dtype=np.int64)
        super().__init__(np.ascontiguousarray(x), y, classes, name=f"ImageFolder({root})")


class NpzDataset(ArrayDataset):
    """Arrays ``x`` and ``y`` (keys ``x_key``, ``y_key``) from an .npz file, loaded without
    pickle. uint8 x is scaled to [0, 1] like the other datasets; other x becomes float32 as
    it is. Class names come from a ``classes`` array in the file when there is one."""

    def __init__(self, path, x_key="x", y_key="y"):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"NpzDataset: no file {path}")
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in (x_key, y_key) if k not in npz.files]
            if missing:
                raise KeyError(f"NpzDataset: {path} has arrays {npz.files}, not {missing}")
            x, y = npz[x_key], npz[y_key]
            classes = [str(c) for c in npz["classes"]] if "classes" in npz.files else None
        if len(x) != len(y):
            raise ValueError(f"NpzDataset: {path} has {len(x)} samples in {x_key!r} but "
                             f"{len(y)} in {y_key!r}")
        super().__init__(_scaled(x), y, classes, name=f"NpzDataset({path.name})")
