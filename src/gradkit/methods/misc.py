"""Tensor methods and properties that are aliases (``multiply``, ``greater``), metadata
(``stride``, ``element_size``, ``nbytes``, ``is_contiguous``), the conjugate transposes (``mT``,
``mH``, ``H``), and the methods of ops/aliases.py, more_math.py, counting.py,
scatter_views.py and sampling.py.

A mixin of :class:`gradkit.Tensor` (``__slots__ = ()``, no state): each method forwards to
gradkit's ops at call time (the ops import Tensor, so they are reached through the ``gradkit``
package). Strides are counted in elements, as in PyTorch (NumPy counts bytes).
"""

import warnings

import numpy as np

import gradkit
from gradkit.errors import ShapeError


class MiscMethods:
    __slots__ = ()

    # ----- other names -----
    def absolute(self): return gradkit.ops.abs(self)
    def negative(self): return gradkit.ops.neg(self)
    def positive(self): return gradkit.ops.aliases.positive(self)
    def multiply(self, other): return gradkit.ops.mul(self, other)
    def subtract(self, other, *, alpha=1):
        return gradkit.ops.aliases.subtract(self, other, alpha=alpha)
    def greater(self, other): return gradkit.ops.gt(self, other)
    def greater_equal(self, other): return gradkit.ops.ge(self, other)
    def less(self, other): return gradkit.ops.lt(self, other)
    def less_equal(self, other): return gradkit.ops.le(self, other)
    def not_equal(self, other): return gradkit.ops.ne(self, other)
    def clamp_min(self, min): return gradkit.ops.clamp(self, min=min)
    def clamp_max(self, max): return gradkit.ops.clamp(self, max=max)
    def sgn(self): return gradkit.ops.sign(self)
    def type_as(self, other): return self.to(other.dtype)
    def prelu(self, weight): return gradkit.ops.activations.prelu(self, weight)

    # ----- facts -----
    def ndimension(self): return self.ndim
    def nelement(self): return self._data.size
    def is_floating_point(self): return self._data.dtype.kind == "f"
    def is_signed(self): return self._data.dtype.kind in "fi"
    def is_nonzero(self): return gradkit.ops.aliases.is_nonzero(self)
    def is_same_size(self, other): return self.shape == other.shape
    def is_neg(self): return False
    def is_distributed(self): return False
    def dim_order(self): return tuple(range(self.ndim))
    def equal(self, other): return gradkit.ops.aliases.equal(self, other)
    def element_size(self): return self._data.itemsize
    def is_contiguous(self, memory_format=None): return True
    def byte(self): return gradkit.ops.cast(self, np.uint8)
    def char(self): return gradkit.ops.cast(self, np.int8)
    def short(self): return gradkit.ops.cast(self, np.int16)

    @property
    def itemsize(self): return self._data.itemsize

    @property
    def nbytes(self): return self._data.nbytes

    @property
    def is_cpu(self): return True

    def stride(self, dim=None):
        """The contiguous strides in elements (gradkit's tensors act as contiguous ones)."""
        shape = self._data.shape
        strides = tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
        if dim is None:
            return strides
        if not -len(shape) <= dim < len(shape):
            raise IndexError(f"stride: dim {dim} out of range for a tensor of {len(shape)} dims")
        return strides[dim]

    # ----- matrix transposes (real tensors: the conjugate is the tensor itself) -----
    @property
    def mT(self):
        if self.ndim < 2:
            raise ShapeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                             f"Got {self.ndim}-D tensor.")
        return gradkit.ops.transpose(self, -2, -1)

    @property
    def mH(self): return self.mT

    def adjoint(self): return self.mT

    @property
    def H(self):
        if self.ndim not in (0, 2):
            raise ShapeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                             f"{self.ndim}-D tensor.")
        return self.t()

    # ----- splitting, selecting, indexing -----
    def unbind(self, dim=0): return gradkit.ops.aliases.unbind(self, dim)
    def select(self, dim, index): return gradkit.ops.aliases.select(self, dim, index)
    def split_with_sizes(self, split_sizes, dim=0):
        return gradkit.ops.aliases.split_with_sizes(self, split_sizes, dim)
    unsafe_split_with_sizes = split_with_sizes
    def unsafe_split(self, split_size, dim=0): return gradkit.ops.split(self, split_size, dim)
    def unsafe_chunk(self, chunks, dim=0): return gradkit.ops.chunk(self, chunks, dim)
    def tensor_split(self, indices_or_sections, dim=0):
        return gradkit.ops.aliases.tensor_split(self, indices_or_sections, dim)
    def hsplit(self, sections): return gradkit.ops.aliases.hsplit(self, sections)
    def vsplit(self, sections): return gradkit.ops.aliases.vsplit(self, sections)
    def rot90(self, k=1, dims=(0, 1)): return gradkit.ops.aliases.rot90(self, k, dims)
    def diagflat(self, offset=0): return gradkit.ops.aliases.diagflat(self, offset)
    def index_put(self, indices, values, accumulate=False):
        return gradkit.ops.aliases.index_put(self, indices, values, accumulate)

    def resize(self, *sizes):
        """Deprecated (warns, as PyTorch): reshape to ``sizes``, which must keep the number
        of elements; use reshape or resize_."""
        warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
        shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
            else sizes
        if int(np.prod(shape)) != self._data.size:
            raise ShapeError(f"requested resize to {'x'.join(map(str, shape))} "
                             f"({int(np.prod(shape))} elements in total), but the given tensor "
                             f"has {self._data.size} elements: resize can only change the "
                             "shape, keeping the number of elements")
        return self.reshape(shape)

    def resize_as(self, tensor):
        """Deprecated (warns, as PyTorch): resize to ``tensor``'s shape."""
        warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.resize(tensor.shape)

    def sum_to_size(self, *size):
        """Sum down to ``size``, to which this tensor must broadcast (the adjoint of
        expand)."""
        size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        if len(size) > self.ndim or any(n not in (1, m) for n, m in
                                        zip(size, self.shape[self.ndim - len(size):])):
            raise ShapeError(f"sum_to_size: size {list(size)} is not expandable to size "
                             f"{list(self.shape)}")
        lead = self.ndim - len(size)
        dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(size)
                                          if n == 1 and self.shape[lead + i] != 1)
        return (self.sum(dims, keepdim=True) if dims else self).reshape(size)

    # ----- more math (ops/more_math.py) -----
    def xlogy(self, other): return gradkit.ops.more_math.xlogy(self, other)
    def sinc(self): return gradkit.ops.more_math.sinc(self)
    def deg2rad(self): return gradkit.ops.more_math.deg2rad(self)
    def rad2deg(self): return gradkit.ops.more_math.rad2deg(self)
    def logit(self, eps=None): return gradkit.ops.more_math.logit(self, eps)
    def heaviside(self, values): return gradkit.ops.more_math.heaviside(self, values)
    def gcd(self, other): return gradkit.ops.more_math.gcd(self, other)
    def lcm(self, other): return gradkit.ops.more_math.lcm(self, other)
    def fmax(self, other): return gradkit.ops.more_math.fmax(self, other)
    def fmin(self, other): return gradkit.ops.more_math.fmin(self, other)
    def float_power(self, exponent): return gradkit.ops.more_math.float_power(self, exponent)
    def signbit(self): return gradkit.ops.more_math.signbit(self)
    def ldexp(self, other): return gradkit.ops.more_math.ldexp(self, other)
    def logaddexp2(self, other): return gradkit.ops.more_math.logaddexp2(self, other)
    def addcmul(self, tensor1, tensor2, *, value=1):
        return gradkit.ops.more_math.addcmul(self, tensor1, tensor2, value=value)
    def addcdiv(self, tensor1, tensor2, *, value=1):
        return gradkit.ops.more_math.addcdiv(self, tensor1, tensor2, value=value)
    def dist(self, other, p=2): return gradkit.ops.more_math.dist(self, other, p)
    def renorm(self, p, dim, maxnorm): return gradkit.ops.more_math.renorm(self, p, dim, maxnorm)
    def hardshrink(self, lambd=0.5): return gradkit.ops.more_math.hardshrink(self, lambd)
    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return gradkit.ops.more_math.diff(self, n, dim, prepend, append)

    def frexp(self): return gradkit.ops.more_math.frexp(self)
    def nextafter(self, other): return gradkit.ops.more_math.nextafter(self, other)

    # ----- counting and statistics (ops/counting.py) -----
    def bincount(self, weights=None, minlength=0):
        return gradkit.ops.counting.bincount(self, weights, minlength)
    def histc(self, bins=100, min=0, max=0): return gradkit.ops.counting.histc(self, bins, min, max)
    def histogram(self, bins, *, range=None, weight=None, density=False):
        return gradkit.ops.counting.histogram(self, bins, range=range, weight=weight,
                                              density=density)
    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return gradkit.ops.counting.quantile(self, q, dim, keepdim, interpolation=interpolation)
    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return gradkit.ops.counting.nanquantile(self, q, dim, keepdim,
                                                interpolation=interpolation)
    def cov(self, *, correction=1, fweights=None, aweights=None):
        return gradkit.ops.counting.cov(self, correction=correction, fweights=fweights,
                                        aweights=aweights)
    def corrcoef(self): return gradkit.ops.counting.corrcoef(self)

    # ----- writing into views of a copy (ops/scatter_views.py) -----
    def select_scatter(self, src, dim, index):
        return gradkit.ops.scatter_views.select_scatter(self, src, dim, index)
    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return gradkit.ops.scatter_views.slice_scatter(self, src, dim, start, end, step)
    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        return gradkit.ops.scatter_views.diagonal_scatter(self, src, offset, dim1, dim2)
    def put(self, index, source, accumulate=False):
        return gradkit.ops.scatter_views.put(self, index, source, accumulate)
    def as_strided(self, size, stride, storage_offset=None):
        return gradkit.ops.scatter_views.as_strided(self, size, stride, storage_offset)
    def as_strided_scatter(self, src, size, stride, storage_offset=None):
        return gradkit.ops.scatter_views.as_strided_scatter(self, src, size, stride,
                                                            storage_offset)
    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        return gradkit.ops.scatter_views.index_reduce(self, dim, index, source, reduce,
                                                      include_self=include_self)
    def nonzero_static(self, *, size, fill_value=-1):
        return gradkit.ops.counting.nonzero_static(self, size=size, fill_value=fill_value)

    # ----- random draws (ops/sampling.py) -----
    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return gradkit.ops.sampling.multinomial(self, num_samples, replacement,
                                                generator=generator)

    def bernoulli(self, p=None, *, generator=None):
        return gradkit.ops.sampling.bernoulli(self, p, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 1s (probability p, a number or a tensor of probabilities) and 0s."""
        probs = np.broadcast_to(p._data if isinstance(p, gradkit.Tensor) else float(p),
                                self.shape)
        draws = gradkit.ops.sampling.bernoulli(gradkit.Tensor._make(probs, None),
                                               generator=generator)
        return self.copy_(gradkit.Tensor._make(draws._data.astype(self.dtype), None))

    def _fill_with(self, draw, generator):
        """Fill this tensor with ``draw(rng, shape)``, cast to its dtype (an in-place change)."""
        rng = gradkit.random.default_generator if generator is None else generator
        values = np.asarray(draw(rng, self.shape)).astype(self.dtype)
        return self.copy_(gradkit.Tensor._make(values, None))

    def exponential_(self, lambd=1.0, *, generator=None):
        """Exponential draws with rate lambd."""
        return self._fill_with(lambda rng, shape: rng.exponential(1.0 / lambd, shape), generator)

    def geometric_(self, p, *, generator=None):
        """Geometric draws: the number of Bernoulli(p) trials up to the first success (≥ 1)."""
        return self._fill_with(lambda rng, shape: rng.geometric(p, shape), generator)

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """exp of N(mean, std²) draws."""
        return self._fill_with(lambda rng, shape: rng.lognormal(mean, std, shape), generator)

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Cauchy draws: median + sigma·tan(π(U − ½))."""
        return self._fill_with(
            lambda rng, shape: median + sigma * rng.standard_cauchy(shape), generator)

    def random_(self, from_=0, to=None, *, generator=None):
        """Integers drawn uniformly from [from_, to); ``random_(to)`` is [0, to); with no
        bound, [0, 2^mantissa bits] for floats (2^24 for float32) and the dtype's range for
        integers, as PyTorch."""
        if to is None and from_ != 0:
            from_, to = 0, from_
        if to is None:
            kind = self.dtype.kind
            to = (2 ** (np.finfo(self.dtype).nmant + 1) + 1 if kind == "f" else
                  2 if kind == "b" else int(np.iinfo(self.dtype).max) + 1)
        return self._fill_with(lambda rng, shape: rng.integers(from_, to, shape), generator)

    # ----- new tensors like this one (its dtype unless given) -----
    def new(self, *args):
        """The legacy constructor: ``new(2, 3)`` an uninitialised tensor of that size,
        ``new([1, 2])`` a copy of the data, both in this tensor's dtype."""
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            return gradkit.tensor(args[0], dtype=self.dtype)
        return gradkit.empty(*(args or (0,)), dtype=self.dtype)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        return gradkit.tensor(data, dtype=dtype or self.dtype, device=device,
                              requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return gradkit.zeros(*size, dtype=dtype or self.dtype, device=device,
                             requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return gradkit.ones(*size, dtype=dtype or self.dtype, device=device,
                            requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return gradkit.empty(*size, dtype=dtype or self.dtype, device=device,
                             requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return gradkit.full(size, fill_value, dtype=dtype or self.dtype, device=device,
                            requires_grad=requires_grad)
