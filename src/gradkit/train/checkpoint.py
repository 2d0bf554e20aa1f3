"""Training checkpoints: one safetensors file with everything needed to resume exactly.

Tensors, by prefix: ``model.<state_dict key>``, ``optim.<path>`` (the optimizer's state
buffers, e.g. ``optim.state.0.momentum_buffer``), ``extra.<path>`` (arrays inside ``extra``,
e.g. EMA weights). The header's metadata (str -> str, JSON inside) holds the rest:

    gradkit.checkpoint   format version          model       model class, its keys
    optimizer            class, param_groups, state skeleton
    scheduler            class(es) and state     rng         gk.get_rng_state()
    epoch, step, config  from ``extra``          extra       the rest of ``extra``
    checksum             sha256 of every tensor (name, dtype, shape, bytes) and of every
                         other metadata field (name, text)

Nested values keep their Python types through JSON: a tensor becomes
``{"__tensor__": key}``, a tuple ``{"__tuple__": [...]}``, a dict with non-string keys
``{"__items__": [[k, v], ...]}`` (the optimizer's state is keyed by int) and a Counter
``{"__counter__": [...]}`` (MultiStepLR's milestones).

Writes are atomic: the file is written under a temporary name in the same folder
(``.<name>.tmp<pid>``), flushed to disk, then renamed over the target (``os.replace``), so a
crash leaves the old file or the new one, never a torn one; the file gets the permissions the
process umask allows (0644 under the usual 022), like any file the user creates. Reading
checks the file before touching the model: a missing, truncated, corrupted, foreign or
mismatched file, or malformed metadata (a missing field, a wrong type, a dangling tensor
reference, JSON nested too deep), raises ``CheckpointError`` naming the file, and nothing is
loaded.

Format ``gradkit.checkpoint/2`` (this version) checksums the metadata too, so an edited lr,
step or RNG state is refused. Files of format 1 (earlier gradkit) still load; their checksum
covers only the tensors, so their metadata is trusted as it stands. A format-2 file cannot be
read as format 1: the format field is itself covered by the checksum.
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

FORMAT = "gradkit.checkpoint/2"
_LEGACY = "gradkit.checkpoint/1"  # checksum over the tensors only
_FORMAT_KEY = "gradkit.checkpoint"
_ORDER_KEY = "gradkit.key_order"  # written by gk.save
_MAX_HEADER = 100_000_000
_MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError)


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


def _checksum(arrays, meta=None):
    """sha256 of the tensors (name, dtype, shape, bytes) and, when given, of the metadata
    fields (name and text, in name order; the checksum field itself excluded)."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}|{a.dtype.str}|{a.shape}".encode())
        digest.update(a.data)
    for key in sorted(meta or {}):
        if key != "checksum":
            digest.update(json.dumps([key, meta[key]]).encode())
    return digest.hexdigest()


def _schedulers(scheduler):
    if scheduler is None:
        return []
    return list(scheduler) if isinstance(scheduler, (list, tuple)) else [scheduler]


# ----- writing -----

def _saved_module(model):
    """The module a checkpoint holds: a wrapper such as DistributedDataParallel names the one
    it wraps (``checkpoint_module``), so its checkpoints load without the wrapper."""
    return getattr(model, "checkpoint_module", model)


def save_checkpoint(path, model, optimizer=None, scheduler=None, extra=None):
    """Write model, optimizer and scheduler state, the gk RNG state and ``extra`` to ``path``.

    ``extra`` is a dict of JSON-like values and arrays; its ``epoch``, ``step`` and ``config``
    are also stored as their own metadata fields (``checkpoint_info`` reads them without
    loading tensors). ``scheduler`` may be a list of schedulers. The write is atomic.
    Returns the path."""
    path = Path(path)
    extra = dict(extra or {})
    model = _saved_module(model)
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
    meta[_ORDER_KEY] = json.dumps(list(tensors))
    meta["checksum"] = _checksum(tensors, meta)
    _atomic_save(tensors, path, meta)
    return path


def _atomic_save(tensors, path, meta):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        gk_save(tensors, tmp, metadata=meta)
        os.chmod(tmp, 0o666 & ~_umask())
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


def _umask():
    """The process umask, read without changing it where /proc allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CheckpointError(f"{path}: corrupted safetensors header ({_what(e)})") from None
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


def _what(error):
    if isinstance(error, RecursionError):
        return "JSON nested too deep"
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r} where one is needed"
    return str(error) or type(error).__name__


def _field(path, meta, key, kind, optional=False):
    """Metadata field ``key`` parsed from JSON and checked to be a ``kind``."""
    if key not in meta:
        if optional:
            return None
        raise CheckpointError(f"{path}: malformed metadata: the {key!r} field is missing")
    try:
        value = json.loads(meta[key])
    except (TypeError, ValueError, RecursionError) as e:
        raise CheckpointError(f"{path}: malformed metadata in {key!r} ({_what(e)})") from None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CheckpointError(f"{path}: malformed metadata: {key!r} should be a "
                              f"{kind.__name__ if isinstance(kind, type) else 'number'}, got "
                              f"a {type(value).__name__}")
    return value


def _parse(path, meta):
    """The metadata fields parsed and their shapes checked; CheckpointError otherwise."""
    out = {"model": _field(path, meta, "model", dict), "rng": _field(path, meta, "rng", dict),
           "extra": _field(path, meta, "extra", dict),
           "optimizer": _field(path, meta, "optimizer", dict, optional=True),
           "scheduler": _field(path, meta, "scheduler", list, optional=True) or [],
           "epoch": _field(path, meta, "epoch", int, optional=True),
           "step": _field(path, meta, "step", int, optional=True)}
    if "config" in meta:
        out["config"] = _field(path, meta, "config", (dict, type(None)))
    model = out["model"]
    if not isinstance(model.get("class"), str) or not isinstance(model.get("keys"), list) \
            or not all(isinstance(k, str) for k in model["keys"]):
        raise CheckpointError(f"{path}: malformed metadata: 'model' needs a class name and a "
                              "list of state-dict keys")
    for key, entries in (("optimizer", [out["optimizer"]] if out["optimizer"] else []),
                         ("scheduler", out["scheduler"])):
        if not all(isinstance(e, dict) and isinstance(e.get("class"), str) and "state" in e
                   for e in entries):
            raise CheckpointError(f"{path}: malformed metadata: each {key!r} entry needs a "
                                  "class name and a state")
    return out


def _decoded(path, value, tensors, where):
    """``_decode`` with a malformed skeleton (a dangling tensor reference, a wrong type)
    reported as CheckpointError naming the file and the field."""
    try:
        return _decode(value, tensors)
    except _MALFORMED as e:
        raise CheckpointError(f"{path}: malformed metadata in {where!r} ({_what(e)})") from None


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
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: corrupted safetensors header (bad metadata)")
    found = meta.get(_FORMAT_KEY)
    if found not in (FORMAT, _LEGACY):
        what = f"format {found!r}, this gradkit reads {FORMAT!r}" if found else \
            "a safetensors file without training metadata; load a plain state dict with gk.load"
        raise CheckpointError(f"{path}: not a gradkit training checkpoint ({what})")
    try:
        import safetensors.numpy
        tensors = {k: v if v.flags.writeable else v.copy()
                   for k, v in safetensors.numpy.load(data).items()}
    except Exception as e:  # the library's own error types vary between versions
        raise CheckpointError(f"{path}: corrupted tensor data ({e})") from None
    if meta.get("checksum") != _checksum(tensors, meta if found == FORMAT else None):
        raise CheckpointError(f"{path}: corrupted: the tensors or the metadata do not match "
                              "the checksum written with them (the file was changed after it "
                              "was saved)")
    return _parse(path, meta), tensors


def checkpoint_info(path):
    """The metadata of a checkpoint without loading it into a model: a dict with ``model``
    (class name), ``optimizer`` and ``scheduler`` (class names or None), ``epoch``, ``step``,
    ``config`` and ``extra``. Raises CheckpointError for a bad file."""
    meta, tensors = _read(path)
    return {"model": meta["model"]["class"],
            "optimizer": meta["optimizer"]["class"] if meta["optimizer"] else None,
            "scheduler": [s["class"] for s in meta["scheduler"]] or None,
            "epoch": meta["epoch"], "step": meta["step"],
            "config": _decoded(path, meta.get("config"), tensors, "config"),
            "extra": _decoded(path, meta["extra"], tensors, "extra")}


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


def _optimizer_state(path, meta, tensors, optimizer):
    if meta["optimizer"] is None:
        raise CheckpointError(f"{path} holds no optimizer state")
    if meta["optimizer"]["class"] != type(optimizer).__name__:
        raise CheckpointError(f"{path} holds {meta['optimizer']['class']} state; this "
                              f"optimizer is a {type(optimizer).__name__}")
    state = _decoded(path, meta["optimizer"]["state"], tensors, "optimizer")
    try:
        sizes = [len(g["params"]) for g in state["param_groups"]]
        state["state"].items()
    except _MALFORMED as e:
        raise CheckpointError(f"{path}: malformed metadata in 'optimizer' ({_what(e)})") from None
    have = [len(g["params"]) for g in optimizer.param_groups]
    if sizes != have:
        raise CheckpointError(f"{path}: the optimizer's parameter groups have sizes {sizes} "
                              f"in the checkpoint and {have} here")
    return state


def load_checkpoint(path, model, optimizer=None, scheduler=None):
    """Load a checkpoint written by ``save_checkpoint`` into ``model`` (and the optimizer and
    scheduler(s) when given); returns the ``extra`` dict, plus ``rng`` (the gk RNG state at
    save time; this function does not set it, ``Trainer.resume`` does).

    Everything is checked before anything is loaded; a problem raises CheckpointError."""
    meta, tensors = _read(path)
    model = _saved_module(model)
    saved = _check_model(path, meta, tensors, model)
    optim_state = (_optimizer_state(path, meta, tensors, optimizer)
                   if optimizer is not None else None)
    scheds = _schedulers(scheduler)
    if scheds:
        names = [s["class"] for s in meta["scheduler"]]
        if names != [type(s).__name__ for s in scheds]:
            raise CheckpointError(f"{path} holds scheduler(s) {names or 'none'}; given "
                                  f"{[type(s).__name__ for s in scheds]}")
    sched_states = [_decoded(path, s["state"], tensors, "scheduler") for s in meta["scheduler"]]
    extra = _decoded(path, meta["extra"], tensors, "extra")
    if not isinstance(extra, dict):
        raise CheckpointError(f"{path}: malformed metadata: 'extra' is not a mapping")
    model.load_state_dict(saved)
    try:
        if optimizer is not None:
            optimizer.load_state_dict(optim_state)
        for sched, state in zip(scheds, sched_states):
            sched.load_state_dict(state)
    except _MALFORMED as e:
        raise CheckpointError(f"{path}: malformed optimizer or scheduler state ({_what(e)})") \
            from None
    extra["rng"] = meta["rng"]
    return extra
