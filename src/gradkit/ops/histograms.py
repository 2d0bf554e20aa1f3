"""Counting and binning, no gradient (as in PyTorch): bincount, histc, histogram,
histogramdd (exported through ops/counting.py). Counts come in the input's float dtype (bincount:
int64, or the weights' dtype); a range with min = max is widened to the data's range, and
then by ±1 if the data are constant, as PyTorch does.

    import gradkit as gk
    gk.histc(gk.tensor([1.0, 2.0, 1.0]), bins=4)        # tensor([2., 0., 0., 1.])
"""

import collections

import numpy as np

from gradkit.tensor import Tensor

histogram_result = collections.namedtuple("histogram", ["hist", "bin_edges"])
histogramdd_result = collections.namedtuple("histogramdd", ["hist", "bin_edges"])


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _const(array):
    return Tensor._make(np.asarray(array), None)


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, … occurs in a 1-D tensor of non-negative integers (the sum
    of ``weights`` at its positions instead, float64 unless weights are float32)."""
    x = _array(input)
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got "
                           f"{x.ndim}-d {x.dtype}")
    if x.size and x.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    w = None if weights is None else _array(weights)
    if w is not None and w.shape != x.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as "
                           f"input, got {w.shape} for input {x.shape}")
    out = np.bincount(x, w, minlength)
    if w is not None:
        out = out.astype(w.dtype if w.dtype == np.float32 else np.float64)
    return _const(out)


def _range(x, low, high, op):
    if low > high:
        raise RuntimeError(f"{op}: max must be larger than min, got min={low}, max={high}")
    if low == high:
        low, high = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if low == high:
        low, high = low - 1.0, high + 1.0
    return low, high


def histc(input, bins=100, min=0, max=0):
    """Counts of the elements in ``bins`` equal-width bins over [min, max] (over the data's
    range when min = max), in the input's dtype; elements outside are ignored."""
    x = _array(input)
    if x.dtype.kind != "f":
        raise RuntimeError(f"histc: expected a floating-point tensor, got {x.dtype}")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, got {bins}")
    low, high = _range(x, float(min), float(max), "histc")
    hist, _ = np.histogram(x, bins, (low, high))
    return _const(hist.astype(x.dtype))


def histogram(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges): ``bins`` equal bins over ``range`` (the data's by default) or the
    given 1-D edges; the sum of ``weight`` per bin, or a density."""
    x = _array(input).reshape(-1)
    if x.dtype.kind != "f":
        raise RuntimeError(f"histogram: expected a floating-point tensor, got {x.dtype}")
    w = None if weight is None else _array(weight).reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins._data
    else:
        low, high = (0.0, 0.0) if range is None else map(float, range)
        edges = np.linspace(*_range(x, low, high, "histogram"), int(bins) + 1)
    hist, edges = np.histogram(x, edges.astype(np.float64), weights=w, density=density)
    return histogram_result(_const(hist.astype(x.dtype)), _const(edges.astype(x.dtype)))


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges) of the rows of an (N, D) input as points in D dims: ``bins`` a number
    (for every dim), D numbers, or D 1-D tensors of edges; ``range`` the flat
    (min₀, max₀, min₁, max₁, …) of the equal bins (the data's by default)."""
    x = _array(input)
    if x.dtype.kind != "f" or x.ndim < 1:
        raise RuntimeError(f"histogramdd: expected a floating-point tensor of points, got "
                           f"{x.ndim}-D {x.dtype}")
    points = x.reshape(-1, x.shape[-1])
    d = points.shape[1]
    if isinstance(bins, int):
        bins = [bins] * d
    if len(bins) != d:
        raise RuntimeError(f"histogramdd: expected {d} sequences of bin edges or bin counts "
                           f"for the {d} dims, got {len(bins)}")
    if range is not None and len(range) != 2 * d:
        raise RuntimeError(f"histogramdd: expected {2 * d} range values, got {len(range)}")
    edges = []
    for k, b in enumerate(bins):
        if isinstance(b, Tensor):
            edges.append(b._data.astype(np.float64))
        else:
            low, high = (0.0, 0.0) if range is None else map(float, range[2 * k:2 * k + 2])
            edges.append(np.linspace(*_range(points[:, k], low, high, "histogramdd"),
                                     int(b) + 1))
    w = None if weight is None else _array(weight).reshape(-1)
    hist, edges = np.histogramdd(points, edges, weights=w, density=density)
    return histogramdd_result(_const(hist.astype(x.dtype)),
                              tuple(_const(e.astype(x.dtype)) for e in edges))
