"""Containers: Sequential (a chain), ModuleList and ModuleDict (registered collections of
modules), ParameterList and ParameterDict (of parameters), and Identity. Entries are
registered under their index ("0", "1", ...) or key, which gives the PyTorch state_dict keys
``0.weight``, ``features.3.bias``, ``scales.0``, ``gains.first``."""

import collections
import operator

from gradkit.nn.module import Module
from gradkit.nn.parameter import Parameter
from gradkit.tensor import Tensor


class Identity(Module):
    """out = x. Takes (and ignores) any constructor arguments, as in PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _index(i, n, what, entries="modules"):
    i = operator.index(i)
    if not -n <= i < n:
        raise IndexError(f"{what}: index {i} is out of range for {n} {entries}")
    return i % n


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: length, iteration, append and extend; children
    are named by their position ("0", "1", ...)."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add a module at the end (named by its position). Returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self


class Sequential(_ModuleSequence):
    """Modules applied in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Built from modules (named "0", "1", ...) or from an OrderedDict of name -> module.
    ``seq[i]`` is a module, ``seq[i:j]`` a new Sequential sharing the modules."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], collections.OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return type(self)(collections.OrderedDict(items[idx]))
        return items[_index(idx, len(items), "Sequential")][1]

    def __setitem__(self, idx, module):
        key = list(self._modules)[_index(idx, len(self._modules), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, idx):
        """Remove module(s); the rest are renumbered "0", "1", ... as in PyTorch."""
        items = list(self._modules.items())
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[_index(idx, len(items), "Sequential")]
        self._modules.clear()
        for i, (_, module) in enumerate(items):
            self._modules[str(i)] = module

class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the parent module sees (a plain list would hide
    them). It has no forward: the owner decides how to call its entries."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx, module):
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx):
        modules = list(self._modules.values())
        del modules[idx]
        self._modules.clear()
        self.extend(modules)

    def __iadd__(self, modules):
        return self.extend(modules)

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        self.extend(modules)


class ModuleDict(Module):
    """An ordered dict of name -> module whose parameters the parent module sees."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        return self._modules.pop(key)

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        """Add entries from a mapping or an iterable of (name, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module


_TENSOR_TYPES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor",
                 "int32": "IntTensor", "int64": "LongTensor", "bool": "BoolTensor"}


def _as_parameter(value):
    """A Tensor that is not yet a Parameter becomes one (sharing its array), as in PyTorch;
    Parameters and other objects are kept as they are."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(
        value, Parameter) else value


def _describe(value, typename):
    """PyTorch's one-line summary of an entry: 'Parameter containing: [torch.float32 of size
    2x3]' (with gradkit for torch), or 'Object of type: int'."""
    if not isinstance(value, Tensor):
        return f"Object of type: {type(value).__name__}"
    size = "x".join(str(n) for n in value.shape)
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    return f"{kind} containing: [gradkit.{typename(str(value.dtype))} of size {size}]"


class _ParameterContainer(Module):
    """What ParameterList and ParameterDict share: storing an entry (a replaced parameter
    keeps its place in the order) and the repr, one line per entry indented four spaces as
    PyTorch's."""

    def _put(self, key, value):
        value = _as_parameter(value)
        if isinstance(value, Parameter) and key in self._parameters:
            self._parameters[key] = value
        else:
            setattr(self, key, value)

    def _repr_lines(self):
        lines = [f"    ({key}): {_describe(value, self._typename)}"
                 for key, value in self._entries()]
        name = type(self).__name__
        return [f"{name}()"] if not lines else [f"{name}("] + lines + [")"]


class ParameterList(_ParameterContainer):
    """A list of parameters that the owning module sees: entry i is registered as parameter
    "i", so ``state_dict`` keys are ``"0"``, ``"1"``, ... (``layer.0`` inside a parent).
    Tensors appended become Parameters; other objects are kept as plain attributes."""

    _typename = staticmethod(str)

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _entries(self):
        return ((str(i), self[i]) for i in range(len(self)))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(_index(idx, len(self), "ParameterList", "entries")))

    def __setitem__(self, idx, param):
        self._put(str(_index(idx, len(self), "ParameterList", "entries")), param)

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, value):
        """Add ``value`` at the end (registered as parameter str(len)). Returns self."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        """Append every entry of an iterable. Returns self."""
        if isinstance(values, (str, Tensor)) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self


class ParameterDict(_ParameterContainer):
    """An ordered dict of name -> parameter that the owning module sees: entry ``key`` is
    registered as parameter ``key`` (its ``state_dict`` key). Tensors become Parameters.
    A missing key raises AttributeError, as PyTorch's ParameterDict does."""

    _typename = staticmethod(lambda dtype: _TENSOR_TYPES.get(dtype, dtype))

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def _entries(self):
        return self.items()

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._keys[key] = None
        self._put(key, value)

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def values(self):
        return [self[key] for key in self._keys]

    def items(self):
        return [(key, self[key]) for key in self._keys]

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def copy(self):
        return type(self)(collections.OrderedDict(self.items()))

    def update(self, parameters):
        """Add entries from a mapping or an iterable of (key, parameter) pairs; a plain mapping
        is taken in sorted key order, an OrderedDict or ParameterDict in its own, as PyTorch
        does."""
        if isinstance(parameters, (collections.OrderedDict, ParameterDict)):
            pairs = parameters.items()
        elif hasattr(parameters, "items"):
            pairs = sorted(parameters.items())
        else:
            pairs = parameters
        for key, value in pairs:
            self[key] = value
