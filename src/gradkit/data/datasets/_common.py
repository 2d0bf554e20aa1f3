"""What the dataset loaders share: optional-package imports with a clear error, the split
argument, and the default data folder."""

import importlib
import os
from pathlib import Path


def require(module, pip_name, dataset):
    """Import an optional package, or say exactly what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"{dataset} needs the '{pip_name}' package: pip install {pip_name} "
                          f"(or pip install 'gradkit[data]')") from err


def check_split(split, dataset, splits=("train", "test")):
    if split not in splits:
        raise ValueError(f"{dataset}: split must be one of {', '.join(map(repr, splits))}, "
                         f"got {split!r}")
    return split


def data_root(root=None):
    """The folder that holds local datasets: ``root``, else $GRADKIT_DATA, else ./data."""
    if root is not None:
        return Path(root).expanduser()
    return Path(os.environ.get("GRADKIT_DATA", "data")).expanduser()
