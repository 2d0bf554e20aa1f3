"""Training checkpoints: one safetensors file with everything needed to resume exactly.

Tensors, by prefix: ``model.<state_dict key>``, ``optim.<path>`` (the optimizer's state
buffers, e.g. ``optim.state.0.momentum_buffer``), ``extra.<path>`` (arrays inside ``extra``,
e.g. EMA weights). The header's metadata (str -> str, JSON inside) holds the rest:

    gradkit.checkpoint   format version          model       model class, its keys
    optimizer            class, param_groups, state skeleton
    scheduler            class(es) and state     rng         gk.get_rng_state()
    epoch, step, config  from ``extra``          extra       the rest of ``extra``
    checksum             sha256 of every tensor (name, dtype, shape, bytes)

Nested values keep their Python types through JSON: a tensor becomes
``{"__tensor__": key}``, a tuple ``{"__tuple__": [...]}``, a dict with non-string keys
``{"__items__": [[k, v], ...]}`` (the optimizer's state is keyed by int) and a Counter
``{"__counter__": [...]}`` (MultiStepLR's milestones).

Writes are atomic: the file is written under a temporary name in the same folder, flushed to
disk, then renamed over the target (``os.replace``), so a crash leaves the old file or the
new one, never a torn one. Reading checks the file before touching the model: a missing,
truncated, corrupted, foreign or mismatched file raises ``CheckpointError`` saying what is
wrong, and nothing is loaded.
"""

import collections
import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np

from gradkit import random as gk_random
from gradkit.serialization import save as gk_save
from gradkit.tensor import Tensor

FORMAT = "gradkit.checkpoint/1"
_FORMAT_KEY = "gradkit.checkpoint"
_MAX_HEADER = 100_000_000


class CheckpointError(Exception):
    """A checkpoint file that cannot be used: the message says which file and why."""


# ----- nested values <-> JSON skeleton + flat tensors -----

def _encode(value, path, tensors):
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        if path in tensors:
            raise ValueError(f"checkpoint: two arrays would be stored under {path!r}")
        tensors[path] = value
        return {"__tensor__": path}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, collections.Counter):
        return {"__counter__": [[_encode(k, f"{path}.{k}", tensors), v]
                                for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{path}.{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{path}.{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v, f"{path}.{k}", tensors) for k, v in value.items()}
        return {"__items__": [[_encode(k, f"{path}.{k}", tensors),
                               _encode(v, f"{path}.{k}", tensors)] for k, v in value.items()]}
    raise TypeError(f"checkpoint: cannot store a {type(value).__name__} (at {path!r}); "
                    "only numbers, strings, lists, dicts and arrays can be saved")


def _decode(value, tensors):
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    if "__items__" in value:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value["__items__"]}
    if "__counter__" in value:
        return collections.Counter({_decode(k, tensors): v for k, v in value["__counter__"]})
    return {k: _decode(v, tensors) for k, v in value.items()}


def _checksum(arrays):
    digest = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}|{a.dtype.str}|{a.shape}".encode())
        digest.update(a.data)
    return digest.hexdigest()


def _schedulers(scheduler):
    if scheduler is None:
        return []
    return list(scheduler) if isinstance(scheduler, (list, tuple)) else [scheduler]


# ----- writing -----

def save_checkpoint(path, model, optimizer=None, scheduler=None, extra=None):
    """Write model, optimizer and scheduler state, the gk RNG state and ``extra`` to ``path``.

    ``extra`` is a dict of JSON-like values and arrays; its ``epoch``, ``step`` and ``config``
    are also stored as their own metadata fields (``checkpoint_info`` reads them without
    loading tensors). ``scheduler`` may be a list of schedulers. The write is atomic.
    Returns the path."""
    path = Path(path)
    extra = dict(extra or {})
    tensors = {f"model.{k}": v._data for k, v in model.state_dict().items()}
    meta = {_FORMAT_KEY: FORMAT,
            "model": json.dumps({"class": type(model).__name__,
                                 "keys": list(model.state_dict())}),
            "rng": json.dumps(gk_random.get_rng_state())}
    if optimizer is not None:
        skeleton = _encode(optimizer.state_dict(), "optim", tensors)
        meta["optimizer"] = json.dumps({"class": type(optimizer).__name__, "state": skeleton})
    scheds = _schedulers(scheduler)
    if scheds:
        meta["scheduler"] = json.dumps([{"class": type(s).__name__,
                                         "state": _encode(s.state_dict(), f"sched.{i}", tensors)}
                                        for i, s in enumerate(scheds)])
    if not all(isinstance(k, str) for k in extra):
        raise TypeError("save_checkpoint: the keys of extra must be strings")
    skeleton = _encode(extra, "extra", tensors)
    for key in ("epoch", "step", "config"):
        if key in skeleton:
            meta[key] = json.dumps(skeleton[key])
    meta["extra"] = json.dumps(skeleton)
    meta["checksum"] = _checksum(tensors)
    _atomic_save(tensors, path, meta)
    return path


def _atomic_save(tensors, path, meta):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        gk_save(tensors, tmp, metadata=meta)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable (POSIX); not possible everywhere
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


# ----- reading -----

def _read_header(path, data):
    """The header dict of safetensors bytes ``data``, after checking that the file is whole."""
    if len(data) < 8:
        raise CheckpointError(f"{path}: not a checkpoint: {len(data)} bytes, too short for a "
                              "safetensors header (empty or truncated file)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(len(data) - 8, _MAX_HEADER):
        raise CheckpointError(f"{path}: truncated or not a safetensors file: the header claims "
                              f"{n} bytes but the file has {len(data)}")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError(f"{path}: corrupted safetensors header ({e})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupted safetensors header (not a JSON object)")
    try:
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"),
                  default=0)
    except (KeyError, TypeError, IndexError, ValueError):
        raise CheckpointError(f"{path}: corrupted safetensors header (bad tensor entry)") from None
    if 8 + n + end > len(data):
        raise CheckpointError(f"{path}: truncated: its tensors need {8 + n + end} bytes, the "
                              f"file has {len(data)} (an interrupted copy or download?)")
    return header


def _read(path):
    """(metadata, tensors) of a checkpoint file, checked; CheckpointError otherwise."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder; give a checkpoint file "
                              "(e.g. checkpoints/last.safetensors)")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}: the file does not exist") from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read the checkpoint ({e})") from None
    header = _read_header(path, data)
    meta = header.get("__metadata__") or {}
    if meta.get(_FORMAT_KEY) != FORMAT:
        found = meta.get(_FORMAT_KEY)
        what = f"format {found!r}, this gradkit reads {FORMAT!r}" if found else \
            "a safetensors file without training metadata; load a plain state dict with gk.load"
        raise CheckpointError(f"{path}: not a gradkit training checkpoint ({what})")
    try:
        import safetensors.numpy
        tensors = {k: v if v.flags.writeable else v.copy()
                   for k, v in safetensors.numpy.load(data).items()}
    except Exception as e:  # the library's own error types vary between versions
        raise CheckpointError(f"{path}: corrupted tensor data ({e})") from None
    if meta.get("checksum") != _checksum(tensors):
        raise CheckpointError(f"{path}: corrupted: the tensors do not match the checksum "
                              "written with them (the file was changed after it was saved)")
    try:
        meta = {k: (v if k in ("checksum", _FORMAT_KEY) else json.loads(v))
                for k, v in meta.items() if k != "gradkit.key_order"}
    except ValueError as e:
        raise CheckpointError(f"{path}: corrupted metadata ({e})") from None
    return meta, tensors


def checkpoint_info(path):
    """The metadata of a checkpoint without loading it into a model: a dict with ``model``
    (class name), ``optimizer`` and ``scheduler`` (class names or None), ``epoch``, ``step``,
    ``config`` and ``extra``. Raises CheckpointError for a bad file."""
    meta, tensors = _read(path)
    return {"model": meta["model"]["class"],
            "optimizer": meta["optimizer"]["class"] if "optimizer" in meta else None,
            "scheduler": [s["class"] for s in meta.get("scheduler", [])] or None,
            "epoch": meta.get("epoch"), "step": meta.get("step"),
            "config": _decode(meta.get("config"), tensors),
            "extra": _decode(meta["extra"], tensors)}


def _check_model(path, meta, tensors, model):
    order = [k for k in meta["model"]["keys"] if f"model.{k}" in tensors]
    saved = {k: tensors[f"model.{k}"] for k in order}
    current = model.state_dict()
    missing = [k for k in current if k not in saved]
    unexpected = [k for k in saved if k not in current]
    shapes = [f"{k}: checkpoint {tuple(saved[k].shape)}, model {tuple(v.shape)}"
              for k, v in current.items() if k in saved and saved[k].shape != v.shape]
    if missing or unexpected or shapes:
        problems = []
        for label, items in (("missing in the checkpoint", missing),
                             ("not in the model", unexpected), ("shape mismatch", shapes)):
            if items:
                more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
                problems.append(f"{label}: {', '.join(items[:5])}{more}")
        raise CheckpointError(
            f"{path} was saved from a different model ({meta['model']['class']}, "
            f"{len(saved)} tensors) than this {type(model).__name__} ({len(current)} tensors); "
            + "; ".join(problems))
    return saved


def load_checkpoint(path, model, optimizer=None, scheduler=None):
    """Load a checkpoint written by ``save_checkpoint`` into ``model`` (and the optimizer and
    scheduler(s) when given); returns the ``extra`` dict, plus ``rng`` (the gk RNG state at
    save time; this function does not set it, ``Trainer.resume`` does).

    Everything is checked before anything is loaded; a problem raises CheckpointError."""
    meta, tensors = _read(path)
    saved = _check_model(path, meta, tensors, model)
    optim_state = None
    if optimizer is not None:
        if "optimizer" not in meta:
            raise CheckpointError(f"{path} holds no optimizer state")
        if meta["optimizer"]["class"] != type(optimizer).__name__:
            raise CheckpointError(f"{path} holds {meta['optimizer']['class']} state; this "
                                  f"optimizer is a {type(optimizer).__name__}")
        optim_state = _decode(meta["optimizer"]["state"], tensors)
        sizes = [len(g["params"]) for g in optim_state["param_groups"]]
        have = [len(g["params"]) for g in optimizer.param_groups]
        if sizes != have:
            raise CheckpointError(f"{path}: the optimizer's parameter groups have sizes {sizes} "
                                  f"in the checkpoint and {have} here")
    scheds = _schedulers(scheduler)
    saved_scheds = meta.get("scheduler", [])
    if scheds:
        names = [s["class"] for s in saved_scheds]
        if names != [type(s).__name__ for s in scheds]:
            raise CheckpointError(f"{path} holds scheduler(s) {names or 'none'}; given "
                                  f"{[type(s).__name__ for s in scheds]}")
    model.load_state_dict(saved)
    if optimizer is not None:
        optimizer.load_state_dict(optim_state)
    for sched, state in zip(scheds, saved_scheds):
        sched.load_state_dict(_decode(state["state"], tensors))
    extra = _decode(meta["extra"], tensors)
    extra["rng"] = meta["rng"]
    return extra
