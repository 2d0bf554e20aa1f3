"""gk.save / gk.load: state dicts in safetensors files.

A safetensors file is a JSON header (names, dtypes, shapes, offsets) followed by the raw bytes
of each array, so loading one only reads numbers: it can never run code, unlike a pickle.
The files are interchangeable with ``safetensors.torch`` (a PyTorch state_dict saved there
loads here and back). Integer buffers such as BatchNorm's ``num_batches_tracked`` keep their
dtype; key order is kept in the header's metadata.
"""

import json
import os

import numpy as np

from gradkit.tensor import Tensor

_ORDER_KEY = "gradkit.key_order"


def _safetensors():
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError("gk.save / gk.load need the safetensors package: "
                          "pip install 'gradkit[io]' (or pip install safetensors)") from None
    return safetensors


def save(state_dict, path, metadata=None):
    """Write a dict of name -> Tensor (or ndarray) to ``path`` as a safetensors file.

    ``metadata`` is an optional dict of str -> str stored in the header (e.g. the epoch)."""
    safetensors = _safetensors()
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"gk.save: keys must be strings, got {key!r}")
        if isinstance(value, Tensor):
            value = value._data
        if not isinstance(value, np.ndarray):
            raise TypeError(f"gk.save: value of {key!r} is a {type(value).__name__}; only "
                            "tensors and arrays can be saved (safetensors stores no objects)")
        arrays[key] = value if value.flags.c_contiguous else value.copy(order="C")
    header = {str(k): str(v) for k, v in (metadata or {}).items()}
    header[_ORDER_KEY] = json.dumps(list(arrays))
    safetensors.numpy.save_file(arrays, os.fspath(path), metadata=header)


def load(path):
    """Read a safetensors file into a dict of name -> Tensor, in the order it was saved."""
    with _safetensors().safe_open(os.fspath(path), framework="numpy") as f:
        names = list(f.keys())
        order = json.loads((f.metadata() or {}).get(_ORDER_KEY, "[]"))
        keys = order if sorted(order) == sorted(names) else sorted(names)
        return {key: Tensor._make(_writable(f.get_tensor(key)), None) for key in keys}


def _writable(array):
    return array if array.flags.writeable else array.copy()
