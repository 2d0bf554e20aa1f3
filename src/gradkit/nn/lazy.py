"""Lazy layers: Linear, Conv1d/2d/3d, ConvTranspose1d/2d/3d, BatchNorm1d/2d/3d and
InstanceNorm1d/2d/3d whose input size comes from the first call.

    model = nn.Sequential(nn.LazyConv2d(6, 5, padding=2), nn.Sigmoid(), nn.Flatten(),
                          nn.LazyLinear(10))
    opt = optim.SGD(model.parameters(), lr=0.1)  # before the first call: it holds them
    model(x[:1])                                 # a dry run: in_features etc. are set now
    type(model[0])                               # Conv2d: the lazy class is gone

The contract (PyTorch's): a lazy layer's parameters exist from the start as
``UninitializedParameter`` objects (and its running statistics as ``UninitializedBuffer``).
On the first call, ``initialize_parameters(input)`` reads the size from the input, gives
every one of them its array *in place* (the same Python object becomes a plain Parameter or
Tensor, so an optimizer built before the call trains it), and initializes them with the
layer's ``reset_parameters``; then the module's class becomes ``cls_to_become`` (Linear,
Conv2d, ...), so ``model.apply(fn)`` with ``type(m) == nn.Linear`` tests sees what the
eager layer would be. Using an uninitialized parameter before that (its shape, numel,
arithmetic, ``state_dict``) raises a RuntimeError naming the layer and the fix.
"""

import numpy as np

from gradkit.autograd import engine, grad_mode
from gradkit.devices import check_device
from gradkit.nn._input import expect_tensor
from gradkit.nn.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                             ConvTranspose3d)
from gradkit.nn.linear import Linear
from gradkit.nn.normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d,
                                      InstanceNorm2d, InstanceNorm3d)
from gradkit.nn.parameter import Parameter
from gradkit.tensor import Tensor

_SLOT = Tensor._data  # the array slot, which the uninitialized classes hide behind a property


class _Pending:
    """What an uninitialized tensor holds instead of an array: its owner and future dtype."""

    __slots__ = ("owner", "dtype")

    def __init__(self, owner, dtype):
        self.owner, self.dtype = owner, dtype


class UninitializedTensorMixin:
    """A tensor without an array yet; ``materialize(shape)`` gives it one in place and turns
    it into ``cls_to_become``. Every use of the missing array raises ``uninitialized_error``."""

    __slots__ = ()
    cls_to_become = Tensor
    kind = "buffer"

    def _start(self, owner, dtype, requires_grad):
        _SLOT.__set__(self, _Pending(owner, np.dtype(np.float32 if dtype is None else dtype)))
        self.grad = self.grad_fn = self._hooks = None
        self._retains_grad = False
        self._requires_grad = bool(requires_grad)
        self._vc = [0, False, 0, None]

    @property
    def _data(self):
        raise self.uninitialized_error(_SLOT.__get__(self).owner)

    @property
    def dtype(self):
        return _SLOT.__get__(self).dtype

    @dtype.setter
    def dtype(self, dtype):  # the dtype the array will have (Module.to before the first call)
        _SLOT.__get__(self).dtype = np.dtype(dtype)

    def uninitialized_error(self, what):
        return RuntimeError(
            f"{what} is an uninitialized {self.kind}: a lazy layer learns its input size on its "
            "first call. Run the model once on a batch first (a dry run, model(x)), or call "
            "initialize_parameters(x) on the layer.")

    def requires_grad_(self, requires_grad=True):
        self._requires_grad = bool(requires_grad)
        return self

    def materialize(self, shape, dtype=None):
        """Give this tensor an (uninitialized) array of ``shape``; it becomes ``cls_to_become``
        (same object, so whoever holds it sees the array)."""
        dtype = np.dtype(self.dtype if dtype is None else dtype)
        self.__class__ = self.cls_to_become
        self._data = np.empty(tuple(shape), dtype)
        self._vc = [0, False, 0, engine.array_ref(self._data)]

    def __repr__(self):
        return f"<{type(self).__name__} of {_SLOT.__get__(self).owner}>"

    def __reduce_ex__(self, protocol):
        """A copy (or pickle) of a lazy layer before its first call stays uninitialized."""
        pending = _SLOT.__get__(self)
        return _uninitialized, (type(self), pending.owner, pending.dtype, self._requires_grad)


def _uninitialized(cls, owner, dtype, requires_grad):
    t = cls.__new__(cls)
    t._start(owner, dtype, requires_grad)
    return t


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (a lazy layer's weight before its first call)."""

    __slots__ = ()
    cls_to_become = Parameter
    kind = "parameter"

    def __init__(self, requires_grad=True, *, owner="a lazy layer's parameter", dtype=None):
        self._start(owner, dtype, requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (a lazy BatchNorm's running statistics)."""

    __slots__ = ()

    def __init__(self, *, owner="a lazy layer's buffer", dtype=None):
        self._start(owner, dtype, False)


class LazyModuleMixin:
    """What the lazy layers share: ``has_uninitialized_params`` and the first call, which runs
    ``initialize_parameters(*args)`` (under no_grad) and then turns the module into
    ``cls_to_become``. A subclass writes ``initialize_parameters`` and calls ``_lazy(...)``."""

    cls_to_become = None

    def _lazy(self, names, dtype, device, buffers=()):
        check_device(type(self).__name__, device)
        label = f"{type(self).__name__}({self._lazy_args()})"
        for name in names:
            if self._parameters.get(name) is not None:
                self._parameters[name] = UninitializedParameter(owner=f"{label}.{name}",
                                                                dtype=dtype)
        for name in buffers:
            if self._buffers.get(name) is not None:
                self._buffers[name] = UninitializedBuffer(owner=f"{label}.{name}", dtype=dtype)

    def has_uninitialized_params(self):
        """True until the first call (or ``initialize_parameters``) gave the arrays."""
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(isinstance(t, UninitializedTensorMixin) for t in tensors)

    def __call__(self, *args, **kwargs):
        with grad_mode.no_grad():
            self.initialize_parameters(*args, **kwargs)
        self.__class__ = self.cls_to_become
        return self(*args, **kwargs)

    def _materialize(self, shapes):
        """Give each named uninitialized tensor its shape, then initialize them the eager
        layer's way."""
        for name, shape in shapes.items():
            t = getattr(self, name)
            if isinstance(t, UninitializedTensorMixin):
                t.materialize(shape)
        self.reset_parameters()

    def _input(self, input, ranks, expected):
        """Refuse a first input that is not a Tensor of one of ``ranks`` (None: any but 0-d)."""
        expect_tensor(type(self).__name__, input)
        if input.ndim not in (ranks or range(1, input.ndim + 1)):
            raise ValueError(f"{type(self).__name__}({self._lazy_args()}): expected input "
                             f"{expected}, got {tuple(input.shape)}")


class LazyLinear(LazyModuleMixin, Linear):
    """Linear(in_features, out_features) with in_features = the last dim of the first input."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, out_features, bias, dtype=dtype)
        self._lazy(("weight", "bias"), dtype, device)

    def _lazy_args(self):
        return f"out_features={self.out_features}"

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """in_features = input.shape[-1]; W: (out_features, in_features), b: (out_features,)."""
        if self.has_uninitialized_params():
            self._input(input, None, "(*, in_features)")
            self.in_features = int(input.shape[-1])
            self._materialize({"weight": (self.out_features, self.in_features),
                               "bias": (self.out_features,)})


class _LazyConvNd(LazyModuleMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype=dtype)
        self._lazy(("weight", "bias"), dtype, device)

    def _lazy_args(self):
        return f"out_channels={self.out_channels}, kernel_size={self.kernel_size}"

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """in_channels = input.shape[1] (input.shape[0] without a batch dim); W: (out_channels,
        in_channels/groups, *kernel_size), or (in_channels, out_channels/groups, *kernel_size)
        for a transposed convolution; b: (out_channels,)."""
        if not self.has_uninitialized_params():
            return
        n = self._n
        self._input(input, (n + 1, n + 2), f"(N, C, {self._dims}) or (C, {self._dims})")
        channels = int(input.shape[-n - 1])
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__}: the input's {channels} channels must be "
                             f"divisible by groups ({self.groups})")
        self.in_channels = channels
        shape = ((channels, self.out_channels // self.groups) if self._transposed
                 else (self.out_channels, channels // self.groups))
        self._materialize({"weight": shape + self.kernel_size, "bias": (self.out_channels,)})


class LazyConv1d(_LazyConvNd, Conv1d):
    """Conv1d with in_channels from the first input (N, C, L)."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """Conv2d with in_channels from the first input (N, C, H, W)."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    """Conv3d with in_channels from the first input (N, C, D, H, W)."""

    cls_to_become = Conv3d


class _LazyConvTransposeNd(_LazyConvNd):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        super(_LazyConvNd, self).__init__(0, out_channels, kernel_size, stride, padding,
                                          output_padding, groups, bias, dilation, padding_mode,
                                          dtype=dtype)
        self._lazy(("weight", "bias"), dtype, device)


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """ConvTranspose1d with in_channels from the first input (N, C, L)."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """ConvTranspose2d with in_channels from the first input (N, C, H, W)."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """ConvTranspose3d with in_channels from the first input (N, C, D, H, W)."""

    cls_to_become = ConvTranspose3d


class _LazyBatchNorm(LazyModuleMixin):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, affine, track_running_stats, dtype=dtype, bias=bias)
        self._lazy(("weight", "bias"), dtype, device, buffers=("running_mean", "running_var"))

    def _lazy_args(self):
        return ""

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """num_features = input.shape[1]; γ, β, running mean and variance: (num_features,).
        (With neither affine nor running statistics PyTorch leaves num_features 0; gradkit sets
        it too, since BatchNorm checks the input's channels against it.)"""
        if self.has_uninitialized_params() or self.num_features == 0:
            self.num_features = self._channels(input)
            self._materialize({name: (self.num_features,) for name in
                               ("weight", "bias", "running_mean", "running_var")})

    def _channels(self, input):
        """The channel count of the first input (checked against the ranks the layer takes)."""
        self._input(input, self._ranks, self._expected.format(c="C"))
        return int(input.shape[1])


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """BatchNorm1d with num_features from the first input (N, C) or (N, C, L)."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """BatchNorm2d with num_features from the first input (N, C, H, W)."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    """BatchNorm3d with num_features from the first input (N, C, D, H, W)."""

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyBatchNorm):
    """PyTorch's lazy InstanceNorms: affine and running statistics on by default (unlike the
    eager InstanceNorm's), num_features the channels of the first input. PyTorch reads them at
    dim 1 even from an unbatched (C, *spatial) input, and then fails; gradkit reads dim 0."""

    def _channels(self, input):
        """The channel dim of a batched (N, C, *spatial) or unbatched (C, *spatial) input."""
        n = self._spatial
        self._input(input, (n + 1, n + 2), self._expected.format(c="C"))
        return int(input.shape[-n - 1])


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """InstanceNorm1d with num_features from the first input (N, C, L) or (C, L)."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """InstanceNorm2d with num_features from the first input (N, C, H, W) or (C, H, W)."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """InstanceNorm3d with num_features from the first input (N, C, D, H, W) or
    (C, D, H, W)."""

    cls_to_become = InstanceNorm3d
