"""CIFAR-10 from local files, in either of its two official layouts:

- ``cifar-10-batches-py``: data_batch_1..5 and test_batch, pickled dicts {data: uint8
  (N, 3072), labels: [int]} plus batches.meta {label_names}. Pickles can run code when
  loaded, so they are read with a restricted unpickler that only rebuilds dicts, lists,
  tuples, strings, bytes, numbers and NumPy arrays; anything else is refused before it runs.
- ``cifar-10-batches-bin``: data_batch_1..5.bin and test_batch.bin, records of 1 label byte
  and 3,072 pixel bytes (R, G, B planes of 32×32), plus batches.meta.txt (one name a line).

gradkit never downloads: get cifar-10-python.tar.gz or cifar-10-binary.tar.gz from
https://www.cs.toronto.edu/~kriz/cifar.html and extract it under the data root.

A file that is not what its layout promises (a pickle that is not such a dict, rows that are
not 3,072 pixels, labels outside 0..9, a torn file) raises a ValueError that names the file
and what was expected, before any image is used.
"""

import io
import pickle
import numpy as np

from gradkit.data.dataset import ArrayDataset
from gradkit.data.datasets._common import check_split, data_root

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCHES = ["test_batch"]
PIXELS = 3 * 32 * 32
RECORD = 1 + PIXELS


class RefusedObject(pickle.UnpicklingError, ValueError):
    """A pickle asked for an object outside RestrictedUnpickler.ALLOWED. Also a ValueError:
    a mistake in the user's data, reported by the CLI in one line."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that may only call the few constructors NumPy arrays need.

    Plain containers, strings, bytes and numbers are built by pickle opcodes without any
    lookup; every other object needs ``find_class``, which refuses all but the allow-list
    below. A pickle that asks for ``os.system``, ``subprocess.Popen``, ``builtins.eval`` and
    the like fails with UnpicklingError before anything is called."""

    ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
        ("builtins", "complex"), ("__builtin__", "complex"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise RefusedObject(
            f"refusing to load {module}.{name}: this file may only contain dicts, lists, "
            "tuples, strings, bytes, numbers and NumPy arrays (a pickle naming other objects "
            "can run arbitrary code)")


def safe_load(path):
    """Unpickle ``path`` with the RestrictedUnpickler (Python 2 strings read as latin-1);
    dict keys that come back as bytes are decoded to str. A refused object raises
    RefusedObject (an UnpicklingError and a ValueError), a torn or non-pickle file a
    ValueError; both name the file."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        obj = RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except RefusedObject as err:
        raise RefusedObject(f"{path}: {err}") from None
    except Exception as err:  # a torn pickle can raise nearly anything (see pickle's docs)
        raise ValueError(f"{path} is not a readable pickle ({type(err).__name__}: {err}); "
                         "extract the file again from its archive") from None
    if isinstance(obj, dict):
        obj = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}
    return obj


def find_cifar10(root=None):
    """The cifar-10-batches-py or -bin folder: ``root`` itself, or inside it."""
    root = data_root(root)
    for folder in (root, root / "cifar-10-batches-py", root / "cifar-10-batches-bin"):
        if (folder / "test_batch").is_file() or (folder / "test_batch.bin").is_file():
            return folder
    raise FileNotFoundError(
        f"cifar10(): no CIFAR-10 files under {root.resolve()}. gradkit does not download: "
        "get cifar-10-python.tar.gz (or cifar-10-binary.tar.gz) from "
        "https://www.cs.toronto.edu/~kriz/cifar.html, extract it there so that "
        f"{root / 'cifar-10-batches-py'} (or cifar-10-batches-bin) exists, or pass "
        "root=... / set GRADKIT_DATA")


def _checked(path, pixels, labels):
    """Rows of 3,072 pixel bytes and labels 0..9, one per row; a ValueError naming the file
    otherwise. Returns (images (n, 3, 32, 32) uint8, labels (n,) int64)."""
    if pixels.ndim != 2 or pixels.shape[1] != PIXELS or pixels.dtype.kind not in "iu":
        raise ValueError(f"cifar10(): {path} holds data of shape {pixels.shape} and dtype "
                         f"{pixels.dtype}; expected integer rows of {PIXELS} pixels "
                         "(3 × 32 × 32), one image a row")
    if pixels.dtype != np.uint8 and pixels.size and (pixels.min() < 0 or pixels.max() > 255):
        raise ValueError(f"cifar10(): {path} holds pixel values in [{pixels.min()}, "
                         f"{pixels.max()}]; expected bytes 0..255")
    if labels.shape != (len(pixels),) or labels.dtype.kind not in "iu":
        raise ValueError(f"cifar10(): {path} holds {labels.size} labels of dtype "
                         f"{labels.dtype} for {len(pixels)} images; expected one integer "
                         "label per image")
    if labels.size and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise ValueError(f"cifar10(): {path} holds labels in [{labels.min()}, {labels.max()}]; "
                         f"expected 0..{len(CLASSES) - 1}")
    return (pixels.astype(np.uint8, copy=False).reshape(-1, 3, 32, 32),
            labels.astype(np.int64))


def _py_field(path, obj, key, what):
    """obj[key] of a pickled dict, or a ValueError naming the file and what it should hold."""
    if not isinstance(obj, dict) or key not in obj:
        got = (f"a dict with the keys {sorted(map(str, obj))}" if isinstance(obj, dict)
               else f"a {type(obj).__name__}")
        raise ValueError(f"cifar10(): {path} holds {got}; expected {what}")
    return obj[key]


def _read_py(folder, names):
    images, labels = [], []
    batch_form = "a dict with 'data' (N × 3072 uint8 pixels) and 'labels' (N ints)"
    for name in names:
        path = folder / name
        batch = safe_load(path)
        pixels = np.asarray(_py_field(path, batch, "data", batch_form))
        image, label = _checked(path, pixels,
                                np.asarray(_py_field(path, batch, "labels", batch_form)))
        images.append(image)
        labels.append(label)
    meta = folder / "batches.meta"
    classes = CLASSES
    if meta.is_file():
        label_names = _py_field(meta, safe_load(meta), "label_names",
                                "a dict with 'label_names' (the 10 class names)")
        classes = [str(n) for n in label_names]
    return np.concatenate(images), np.concatenate(labels), classes


def _read_bin(folder, names):
    images, labels = [], []
    for name in names:
        path = folder / f"{name}.bin"
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size % RECORD:
            raise ValueError(f"cifar10(): {path} is {raw.size} bytes, not a multiple of the "
                             f"{RECORD}-byte record (1 label byte, {PIXELS} pixel bytes)")
        table = raw.reshape(-1, RECORD)
        image, label = _checked(path, table[:, 1:], table[:, 0])
        images.append(image)
        labels.append(label)
    meta = folder / "batches.meta.txt"
    classes = ([line.strip() for line in meta.read_text().splitlines() if line.strip()]
               if meta.is_file() else CLASSES)
    return np.concatenate(images), np.concatenate(labels), classes


def cifar10(root=None, split="train"):
    """CIFAR-10 from local files: 50,000 train / 10,000 test RGB images 32×32 in 10 classes.
    x (N, 3, 32, 32) float32 in [0, 1], y in 0..9. ``root``: the folder holding
    cifar-10-batches-py or cifar-10-batches-bin (or that folder itself); default
    $GRADKIT_DATA or ./data. Both layouts are read (see the module docstring)."""
    check_split(split, "cifar10")
    folder = find_cifar10(root)
    names = TRAIN_BATCHES if split == "train" else TEST_BATCHES
    binary = (folder / "test_batch.bin").is_file()
    suffix = ".bin" if binary else ""
    missing = [n + suffix for n in names if not (folder / (n + suffix)).is_file()]
    if missing:
        raise FileNotFoundError(f"cifar10(): {folder} lacks {', '.join(missing)}")
    images, labels, classes = (_read_bin if binary else _read_py)(folder, names)
    x = images.astype(np.float32)
    x /= 255.0
    return ArrayDataset(x, labels, classes, name=f"cifar10[{split}]")
