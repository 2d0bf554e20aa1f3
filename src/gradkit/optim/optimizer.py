"""Optimizer: the bookkeeping every update rule shares, in PyTorch's layout.

An optimizer holds ``param_groups`` (a list of dicts: ``{'params': [...], 'lr': ..., ...}``,
each group with its own hyper-parameters, missing ones filled from ``defaults``) and ``state``
(a dict from each parameter Tensor to a dict of its buffers, e.g. ``{'step': tensor(3.),
'exp_avg': Tensor, ...}``). ``state_dict()`` replaces the tensors by their position, so it has
exactly PyTorch's shape (``{'state': {0: {...}}, 'param_groups': [{..., 'params': [0, 1]}]}``)
and the same state keys, and ``load_state_dict`` accepts one saved by gradkit or by PyTorch.

A subclass writes two small functions:

    _init_state(p, group) -> dict       the buffers (Tensors) of parameter Tensor ``p``
                                        before its first update
    _update(p, grad, state, group)      change ndarray ``p`` in place from ndarray ``grad``
                                        (and the state buffers)

``step()`` calls ``_update`` under no_grad for every parameter that has a gradient, so a
parameter whose ``.grad`` is None is skipped: a ``step()`` with no gradients at all does nothing
(documented no-op, as in PyTorch). Updates stay in the parameter's dtype. To avoid allocating
full-size temporaries on every step, an update may borrow scratch arrays (``_buffer``) and use
``axpy`` (y += a·x in one BLAS pass).
"""

import copy
from collections import defaultdict
from itertools import chain

import numpy as np
from scipy.linalg import blas

from gradkit.autograd import enable_grad, no_grad
from gradkit.autograd.engine import note_change
from gradkit.tensor import Tensor

# Keys a group may carry besides the options: those learning-rate schedulers add, and the
# names given with (name, parameter) pairs.
_EXTRA_GROUP_KEYS = frozenset({"initial_lr", "max_lr", "min_lr", "max_momentum",
                               "base_momentum", "param_names"})
_AXPY = {np.dtype(np.float32): blas.saxpy, np.dtype(np.float64): blas.daxpy}


def axpy(a, x, y):
    """y += a·x in place, in one pass (BLAS axpy) for contiguous float32/float64 arrays."""
    fn = _AXPY.get(y.dtype)
    if fn is not None and x.dtype == y.dtype and y.flags.c_contiguous and x.flags.c_contiguous:
        fn(x.reshape(-1), y.reshape(-1), a=a)
    else:
        y += a * x


def _as_state_value(param, value, key):
    """A deep copy of a saved state value, arrays as Tensors in the parameter's dtype.

    ``step`` keeps its own dtype (PyTorch stores it as a float32 0-d tensor); anything with
    ``__array__`` (a gradkit Tensor, an ndarray, a PyTorch tensor) becomes a gradkit Tensor."""
    if isinstance(value, dict):
        return {k: _as_state_value(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_as_state_value(param, v, None) for v in value)
    if key == "step" and isinstance(value, (int, float)):
        return Tensor._make(np.array(value, np.float32), None)
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "__array__"):
        if hasattr(value, "detach"):  # a gradkit or PyTorch tensor
            value = value.detach().numpy()
        array = np.array(value)
        if key != "step" and array.dtype.kind == "f" and param.dtype.kind == "f":
            array = array.astype(param.dtype, copy=False)
        return Tensor._make(array, None)
    return copy.deepcopy(value)


class Optimizer:
    """Base class of all optimizers (see the module docstring for the contract).

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts that define
            parameter groups (``{'params': [...], 'lr': 0.1}``).
        defaults: the default value of every hyper-parameter a group may set.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch = {}
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, got a "
                "single Tensor; pass [tensor] or model.parameters()"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----- parameter groups -----
    def add_param_group(self, param_group):
        """Append a group (``{'params': [...], option: value, ...}``); options it leaves out
        take the optimizer's defaults. Raises TypeError for an unknown option and ValueError
        for a parameter that is already optimized."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters must be in an ordered collection (a list), "
                            "not a set: the order of a set changes between runs")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError(f"{name}: give every parameter a name or none of them")
            param_group["param_names"] = names
        param_group["params"] = params
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but parameter {i} of the "
                                f"group is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (parameter {i} was "
                                 f"made by {p.grad_fn}); optimize the leaf it came from")
        unknown = sorted(set(param_group) - set(self.defaults) - _EXTRA_GROUP_KEYS - {"params"})
        if unknown:
            raise TypeError(f"{name}: unknown option {unknown[0]!r} in a parameter group; the "
                            f"options are {', '.join(sorted(self.defaults))}")
        for key, default in self.defaults.items():
            param_group.setdefault(key, default)
        lr = param_group.get("lr")
        if isinstance(lr, (int, float)) and lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        self._check_no_duplicates(params)
        self.param_groups.append(param_group)

    def _check_no_duplicates(self, params):
        seen = {id(p): f"group {g}" for g, group in enumerate(self.param_groups)
                for p in group["params"]}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(
                    f"{type(self).__name__}: parameter {i} of shape {tuple(p.shape)} is listed "
                    f"twice (already in {seen[id(p)]}); each parameter may appear once, or it "
                    "would be updated twice per step"
                )
            seen[id(p)] = "this group"

    # ----- gradients and the step -----
    def zero_grad(self, set_to_none=True):
        """Drop every parameter's gradient (``set_to_none``) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad._data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if given.

        ``closure`` re-evaluates the model and returns the loss (run with grad enabled).
        Parameters whose ``.grad`` is None are left alone (and get no state)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.get(p)
                    if not state:
                        state = self._init_state(p, group)
                    self._update(p._data, p.grad._data, state, group)
                    note_change(p._vc)  # an in-place change: a graph that saved p sees it
                    if state:
                        self.state[p] = state
        return loss

    def _init_state(self, p, group):
        """The state of parameter ``p`` before its first update (default: empty)."""
        return {}

    def _update(self, p, grad, state, group):
        """Update ndarray ``p`` in place from ``grad``; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define _update")

    # ----- helpers for updates -----
    def _buffer(self, like, slot=0):
        """A scratch array shaped like ``like`` (reused across steps; not part of the state)."""
        key = (like.dtype, slot)
        buf = self._scratch.get(key)
        if buf is None or buf.size < like.size:
            buf = self._scratch[key] = np.empty(like.size, like.dtype)
        return buf[:like.size].reshape(like.shape)

    def _effective_grad(self, p, grad, weight_decay, maximize):
        """``±grad + weight_decay·p`` (coupled L2), in scratch slot 0 when it differs from grad."""
        if not weight_decay and not maximize:
            return grad
        out = self._buffer(p, 0)
        np.multiply(p, weight_decay, out=out)
        if maximize:
            out -= grad
        else:
            out += grad
        return out

    # ----- saving and loading -----
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Indices count parameters in group order, as in PyTorch; the state tensors are the live
        ones (not copies), so copy the dict (or save it) before training on."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by ``state_dict()`` (gradkit's or PyTorch's).

        The groups must have the same sizes as this optimizer's. Unlike PyTorch, state arrays
        are always copied, so the source optimizer and this one never share buffers."""
        name = type(self).__name__
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: loaded state dict has {len(saved_groups)} parameter "
                             f"groups, the optimizer has {len(self.param_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}: loaded state dict has {len(saved['params'])} parameters in group "
                    f"{i}, the optimizer has {len(group['params'])}"
                )
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in self.param_groups)))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = _as_state_value(param, value, None)
            else:
                state[key] = copy.deepcopy(value)
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._scratch = {}

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        return "\n".join(lines) + "\n)"


def step_tensor():
    """A fresh step counter: a float32 0-d Tensor, as PyTorch stores ``state['step']``."""
    return Tensor._make(np.zeros((), np.float32), None)


def advance(step):
    """Add one to a step counter Tensor and return the new count as a Python float."""
    step._data += 1
    return float(step._data)


def zeros_state(p, fill=0.0):
    """A state buffer shaped like ndarray ``p``, as a Tensor."""
    return Tensor._make(np.full_like(p, fill), None)


def check_compat_flags(name, differentiable):
    """gradkit has one NumPy implementation: ``foreach``/``fused``/``capturable`` are accepted
    (and stored) for PyTorch compatibility; ``differentiable=True`` is not supported."""
    if differentiable:
        raise ValueError(f"{name}: differentiable=True (backpropagating through the update) is "
                         "not supported by gradkit")
