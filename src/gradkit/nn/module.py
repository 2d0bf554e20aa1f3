"""Module: the base of every layer and model, with PyTorch's names and semantics.

A module keeps what it owns in three ordered dicts, filled by plain attribute assignment:

    self.weight = Parameter(...)   ->  self._parameters["weight"]   (learnable)
    self.register_buffer("running_mean", t)  ->  self._buffers   (state, not learned)
    self.fc = Linear(3, 4)         ->  self._modules["fc"]          (children)

Everything else walks those dicts: ``parameters()`` for the optimizer, ``state_dict()`` with
dotted keys (``features.0.weight``, ``bn.running_mean``) for checkpoints, ``train()`` and
``eval()`` for the mode flag that Dropout and BatchNorm read, ``repr`` for the tree.
"""

import collections

import numpy as np

from gradkit.autograd import grad_mode
from gradkit.autograd.engine import note_change
from gradkit.devices import check_device, device
from gradkit.nn.parameter import Parameter
from gradkit.tensor import RemovableHandle, Tensor


class _IncompatibleKeys(collections.namedtuple("IncompatibleKeys",
                                               ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and the ones it did not use."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def _count(module):
    """Number of learnable scalars in a module (shared parameters counted once; a lazy layer's
    uninitialized parameters count 0)."""
    return sum(p._data.size for p in module.parameters()
               if not isinstance(p, UninitializedTensorMixin))


class Module:
    """Base class of layers and models: subclass it, assign parameters and submodules in
    ``__init__`` (after ``super().__init__()``), and write ``forward``.

    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(2, 3)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    """

    def __init__(self):
        state = self.__dict__  # set directly: __setattr__ needs these dicts to exist
        state["training"] = True
        state["_parameters"] = {}
        state["_buffers"] = {}
        state["_non_persistent_buffers_set"] = set()
        state["_modules"] = {}
        state["_forward_hooks"] = {}
        state["_forward_pre_hooks"] = {}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); define forward(self, ...) in the subclass")

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ----- registration -----
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, (Parameter, Module)):
            if params is None:
                raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before "
                                     "Module.__init__() call: call super().__init__() first")
            self._forget(name)
            (params if isinstance(value, Parameter) else modules)[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                "(gradkit.nn.Parameter or None expected)")
            params[name] = None
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module "
                                f"'{name}' (gradkit.nn.Module or None expected)")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' "
                                "(gradkit.Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        state = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in state and name in state[store]:
                return state[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def _check_name(self, name, kind, store):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")
        if hasattr(self, name) and name not in store:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Add a parameter (a Parameter, or None for an absent one such as a missing bias)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot register a parameter before Module.__init__() call")
        self._check_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter '{name}' "
                            "(gradkit.nn.Parameter or None expected)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is not learned (BatchNorm's running mean). A persistent
        buffer is part of ``state_dict``; a non-persistent one is not."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot register a buffer before Module.__init__() call")
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__} as buffer '{name}' "
                            "(gradkit.Tensor or None expected)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name`` (what ``self.name = module`` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module", self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The module at a dotted path such as ``"features.0"`` ("" is this module)."""
        module = self
        for part in target.split(".") if target else ():
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' "
                                     f"(looking up '{target}')")
            module = module._modules[part]
        return module

    # ----- traversal -----
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                                remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        seen = set()
        owners = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                  if recurse else [(prefix, self)])
        for owner_prefix, owner in owners:
            for name, value in getattr(owner, store).items():
                if value is None or remove_duplicate and id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{owner_prefix}.{name}" if owner_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs, each shared parameter once by default."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----- mode, gradients, conversion -----
    def train(self, mode=True):
        """Set training mode here and in every descendant (Dropout drops, BatchNorm uses batch
        statistics); ``train(False)`` is ``eval()``. Returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: Dropout is the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: drop them (default) or fill them with 0."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant, then on self (for custom init). Returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """Cast floating parameters and buffers in place: ``to(gk.float64)``, ``to(dtype=...)``
        or ``to(other_tensor)``. A device is accepted when it is the CPU ("cpu",
        gk.device("cpu"), so ``model.to(device)`` runs); any other raises, as Tensor.to does:
        gradkit runs on the CPU."""
        dtype = kwargs.pop("dtype", None)
        where = kwargs.pop("device", None)
        if kwargs.keys() - {"non_blocking"}:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, (str, device)):
                where = arg
            else:
                dtype = arg
        check_device(f"{type(self).__name__}.to", where)
        return self if dtype is None else self._cast(np.dtype(dtype))

    def float(self):
        return self._cast(np.dtype(np.float32))

    def double(self):
        return self._cast(np.dtype(np.float64))

    def half(self):
        """float16 parameters and buffers (storage: a checkpoint half the size)."""
        return self._cast(np.dtype(np.float16))

    def cpu(self):
        return self

    def _cast(self, dtype):
        for module in self.modules():
            for store in (module._parameters, module._buffers):
                for t in store.values():
                    if isinstance(t, UninitializedTensorMixin):
                        t.dtype = dtype  # the dtype of its array-to-be
                    elif t is not None and t._data.dtype.kind == "f" and t._data.dtype != dtype:
                        t._data = t._data.astype(dtype)
                        if t.grad is not None:
                            t.grad = Tensor._make(t.grad._data.astype(dtype), None)
        return self

    # ----- hooks -----
    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before forward; a returned value replaces the positional
        arguments (a tuple, or a single value). Returns a handle with ``remove()``."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after forward; a returned value replaces the
        output. Returns a handle with ``remove()``."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ----- state_dict -----
    def _state_items(self):
        for name, p in self._parameters.items():
            if p is not None:
                yield name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                yield name, b

    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """An ordered dict of dotted name -> tensor for every parameter and persistent buffer.

        Values share memory with the module (detached unless ``keep_vars``), as in PyTorch;
        the keys are PyTorch's (``features.0.weight``, ``bn.num_batches_tracked``)."""
        if destination is None:
            destination = collections.OrderedDict()
        for name, t in self._state_items():
            if isinstance(t, UninitializedTensorMixin):
                raise t.uninitialized_error(f"state_dict(): {prefix + name!r} of "
                                            f"{type(self).__name__}")
            destination[prefix + name] = t if keep_vars else t.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=f"{prefix}{name}.",
                                  keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values (Tensors or arrays, e.g. a PyTorch state_dict turned into NumPy) into the
        parameters and buffers with the same keys, casting to their dtype.

        With ``strict`` a missing or unexpected key is an error (PyTorch's message); a shape
        mismatch always is. Nothing is copied unless every check passes. With ``assign`` the
        loaded arrays replace the tensors instead of being copied into them. Returns
        ``(missing_keys, unexpected_keys)``."""
        slots = {}
        for prefix, module in self.named_modules(remove_duplicate=False):
            for name, t in module._state_items():
                slots[f"{prefix}.{name}" if prefix else name] = (module, name, t)
        missing = [key for key in slots if key not in state_dict]
        unexpected = [key for key in state_dict if key not in slots]
        errors, arrays = [], {}
        for key, (_, _, t) in slots.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != t.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{array.shape} from checkpoint, the shape in current model is "
                              f"{t.shape}.")
            arrays[key] = array
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with grad_mode.no_grad():
            for key, array in arrays.items():
                module, name, t = slots[key]
                if not assign:
                    t._data[...] = array
                    note_change(t._vc)
                elif isinstance(t, Parameter):
                    module._parameters[name] = Parameter(array.astype(t.dtype), t.requires_grad)
                else:
                    module._buffers[name] = Tensor._make(array.astype(t.dtype), None)
        return _IncompatibleKeys(missing, unexpected)

    # ----- repr -----
    def extra_repr(self):
        """The text inside this module's parentheses (its settings), for subclasses."""
        return ""

    def _repr_lines(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        children = list(self._modules.items())
        if not children:
            if len(extra_lines) <= 1:
                return [f"{type(self).__name__}({extra})"]
            return [f"{type(self).__name__}("] + ["  " + s for s in extra_lines] + [")"]
        lines = [f"{type(self).__name__}("] + ["  " + s for s in extra_lines]
        for name, module in children:
            sub = module._repr_lines() if module is not None else ["None"]
            count = _count(module) if module is not None else 0
            if count:
                sub[-1] += f"  # {count:,} params"
            lines.append(f"  ({name}): {sub[0]}")
            lines.extend("  " + s for s in sub[1:])
        return lines + [")"]

    def __repr__(self):
        """PyTorch's tree, with each child's parameter count and the total at the end:

            Sequential(
              (0): Linear(in_features=2, out_features=100, bias=True)  # 300 params
              (1): ReLU()
            )  # 300 params
        """
        lines = self._repr_lines()
        count = _count(self)
        if len(lines) > 1 and self._modules and count:
            lines[-1] += f"  # {count:,} params"
        return "\n".join(lines)


from gradkit.nn.lazy import UninitializedTensorMixin  # noqa: E402  (lazy layers build on Module)
