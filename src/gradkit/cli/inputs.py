"""What ``gradkit predict`` reads: image files and .npz/.npy arrays, as a model's samples.

    x, names, inverted, notes = read_inputs("digit.png", (1, 28, 28), "auto", background=0.13)

Images are read with Pillow, converted to the model's channels and size and scaled to [0, 1].
Arrays are taken as stored (uint8 scaled by 1/255); ``x`` in an .npz, else its first array.
A file that cannot be decoded, a decompression bomb (more pixels than Pillow's
``MAX_IMAGE_PIXELS``), or non-finite numbers raise a one-line ValueError naming the file.

Polarity (``invert``, images only): MNIST-style models learn light strokes on a dark
background, and a digit drawn in black on white gets a confident wrong class. The border
(the outer eighth of each side) is the background: with "auto", a one-channel image whose
border mean is above 0.5 and above the image's mean (a dark drawing on a light background) is
inverted, x ← 1 − x, when the training data's background was dark (``background``, the
training mean from the run's preprocessing statistics, is below 0.5; taken as dark when the
run kept none), and the reverse for a model trained on light backgrounds. Colour images are
left alone. "yes" inverts every image, "no" none; each inversion is told in ``notes``.
"""

import warnings
import zipfile
from pathlib import Path

import numpy as np


def read_inputs(path, input_shape, invert="auto", background=None):
    """(samples (N, *input_shape) float32, their names, whether each was inverted, the notes
    to show) from one file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    shape = tuple(input_shape)
    if path.suffix.lower() in (".npz", ".npy"):
        x = _read_array(path, shape)
        return x, [f"{path}[{i}]" for i in range(len(x))], [False] * len(x), []
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise ValueError(f"{path}: the model takes samples of shape {shape}, not images; "
                         "give an .npz with an array x")
    pixels = _read_image(path, shape)
    flip, note = _polarity(pixels, invert, background)
    if flip:
        pixels = 1.0 - pixels
    notes = [f"gradkit predict: {path}: {note}"] if note else []
    return pixels[None], [str(path)], [flip], notes


def training_background(run):
    """The mean raw input of the run's training data (its preprocessing statistics), or None
    when the run kept none."""
    mean = getattr(run.preprocessor, "mean", None)
    return None if mean is None else float(np.mean(mean))


def _read_array(path, shape):
    """(N, *shape) float32 from an .npy, or from an .npz's array x (else its first array)."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.ndarray):
            with data:
                if not data.files:
                    raise ValueError("it holds no arrays")
                data = data["x"] if "x" in data.files else data[data.files[0]]
        x = data.astype(np.float32) / (255.0 if data.dtype == np.uint8 else 1.0)
    except (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"cannot read {path} as a NumPy file ({err}); give an .npz with an "
                         "array x, or an .npy") from None
    if x.shape == shape:
        x = x[None]
    elif len(shape) == 3 and shape[0] == 1 and x.shape[1:] == shape[1:]:
        x = x[:, None]
    if x.shape[1:] != shape:
        raise ValueError(f"{path} holds samples of shape {x.shape[1:]}; the "
                         f"model takes {shape}")
    bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    if bad:
        raise ValueError(f"{path} holds {bad} NaN or infinite values (of {x.size}); "
                         "the model needs finite numbers")
    return x


def _read_image(path, shape):
    """(C, H, W) float32 in [0, 1], in the model's channels and size."""
    from gradkit.data.datasets._common import require

    image = require("PIL.Image", "Pillow", "gradkit predict")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", image.DecompressionBombWarning)
            with image.open(path) as img:
                img = img.convert("L" if shape[0] == 1 else "RGB")
                if img.size != (shape[2], shape[1]):
                    img = img.resize((shape[2], shape[1]), image.Resampling.BILINEAR)
                pixels = np.asarray(img, dtype=np.float32) / 255.0
    except (image.DecompressionBombError, image.DecompressionBombWarning) as err:
        raise ValueError(f"{path}: refused to decode a possible decompression bomb "
                         f"({err})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ValueError(f"{path} is not an image Pillow can read ({err}); give a "
                         "PNG or JPEG file, or an .npz with an array x") from None
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def _polarity(pixels, invert, background):
    """(invert or not, the note that says why) for one (C, H, W) image in [0, 1]."""
    if invert == "yes":
        return True, "inverted (x -> 1 - x), as --invert yes asks"
    if invert == "no" or pixels.shape[0] != 1:
        return False, None
    h, w = pixels.shape[1:]
    b = max(1, min(h, w) // 8)
    inner = np.zeros((h, w), bool)
    inner[b:h - b, b:w - b] = True
    border, mean = float(pixels[0][~inner].mean()), float(pixels.mean())
    trained_dark = background is None or background < 0.5
    light = border > 0.5 and border > mean
    dark = border < 0.5 and border < mean
    if not (light if trained_dark else dark):
        return False, None
    drawn = "a dark drawing on a light" if light else "a light drawing on a dark"
    seen = ("a dark background (assumed: the run kept no statistics)" if background is None
            else f"a {'dark' if trained_dark else 'light'} background (training mean "
                 f"{background:.2f})")
    return True, (f"inverted it (x -> 1 - x): it looks like {drawn} background (border mean "
                  f"{border:.2f}), the model was trained on {seen}; --invert no keeps it as "
                  "it is")
