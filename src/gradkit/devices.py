"""Devices for a CPU-only framework: ``gk.device`` and the one rule every ``device=`` follows.

gradkit computes on the CPU with NumPy. PyTorch code names devices all the same, so they are
accepted where PyTorch takes them (creation functions, ``Tensor.to``, ``Module.to``):

    gk.device("cpu"), "cpu", "cpu:0", None      -> accepted: the CPU
    gk.device("cuda"), "cuda:1", "mps", ...      -> RuntimeError: gradkit runs on the CPU

A device other than the CPU can be *named* (``gk.device("cuda:0")``, as PyTorch allows on a
machine without a GPU); using it raises. ``gk.cuda.is_available()`` is False, so the usual
``"cuda" if torch.cuda.is_available() else "cpu"`` resolves to the CPU and runs. (The module
is ``devices`` so that ``gk.device`` stays the class.)
"""

import builtins

_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "hpu", "mtia", "vulkan")


class device:
    """A device name, ``device("cpu")``, ``device("cuda:1")`` or ``device("cuda", 1)``.

    ``str(d)`` is the name (``"cpu"``, ``"cuda:1"``); it equals another device with the same
    type and index, and the string of its name (``gk.device("cpu") == "cpu"``)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a device name such as 'cpu', got "
                            f"{builtins.type(type).__name__}")
        name, _, number = type.partition(":")
        if name not in _TYPES:
            raise RuntimeError(f"device(): unknown device type {name!r} in {type!r}; expected "
                               f"one of {', '.join(_TYPES)} (gradkit runs on 'cpu')")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"device(): invalid device string {type!r}; expected "
                                   "'type' or 'type:index', e.g. 'cpu' or 'cuda:0'")
            index = int(number)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"device(): the index must be a non-negative int, got {index!r}")
        self.type, self.index = name, index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other):
        if isinstance(other, str):
            return str(self) == other
        if isinstance(other, device):
            return (self.type, self.index) == (other.type, other.index)
        return NotImplemented

    def __hash__(self):
        return hash(str(self))


CPU = device("cpu")


def check_device(where, dev):
    """``dev`` (None, a name or a gk.device) if it is the CPU, else a RuntimeError saying so.

    ``where`` names the caller in the message (``"zeros"``, ``"Tensor.to"``)."""
    if dev is None:
        return
    try:
        name = device(dev)
    except (TypeError, RuntimeError) as err:
        raise RuntimeError(f"{where}: {err}") from None
    if name.type != "cpu" or name.index not in (None, 0):
        raise RuntimeError(
            f"{where}: device {str(name)!r} is not available: gradkit runs on the CPU only "
            f"(device='cpu'). Write device = 'cuda' if gk.cuda.is_available() else 'cpu', "
            "which gives 'cpu' here, or drop the device argument.")
