"""Benchmark mode for the convolution algorithms, as torch.backends.cudnn.benchmark: time
every algorithm that applies on the first call of each shape, keep the fastest.

    from gradkit.ops import conv_select, conv_benchmark
    conv_select.set_conv_algorithm("benchmark")    # or GRADKIT_CONV_ALGO=benchmark
    ...train...
    conv_benchmark.choices()                       # {shape: algorithm} it settled on

The table in ops/conv_select.py ("auto") was measured on one machine with one OpenBLAS; on
another CPU or BLAS build the order can change (Winograd's GEMMs are 2× cheaper than
im2col's, its transforms memory-bound: where memory is fast it may win). Here the first call
of a shape runs each candidate's forward and, when a gradient will be wanted, its backward
(with the output standing in for the gradient) twice on the call's own arrays, and keeps the
one with the shortest second run. A shape is everything that fixes the work: input and weight
shapes, stride, padding, dilation, groups, dtype, whether a backward follows, and the op
threads. That first call costs about 10 forward + backward passes of the layer; later calls
cost one dictionary lookup. Timing is noisy on a shared machine, so two runs may settle
differently where two algorithms are close (and their results differ in the last bits).
"""

import time

from gradkit.ops import conv_select, parallel

CANDIDATES = ("im2col", "pointwise", "shifted", "chwn", "winograd", "winograd4")
_fastest = {}  # shape key -> the algorithm timed fastest


def fastest(geo, x, w, b, needs_input_grad):
    """The algorithm to run this convolution with, timed on its first call (module docstring).
    needs_input_grad: the call's (empty when no graph is recorded: forward only is timed)."""
    needs = tuple(bool(n) for n in needs_input_grad)
    key = (x.shape, w.shape, (geo.sh, geo.sw), (geo.pt, geo.pb, geo.pl, geo.pr),
           (geo.dh, geo.dw), geo.groups, x.dtype.str, needs, parallel.threads())
    name = _fastest.get(key)
    if name is None:
        name = _fastest[key] = _time_each(geo, x, w, b, needs)
    return name


def _time_each(geo, x, w, b, needs):
    """The candidate whose second forward (+ backward) took least time."""
    times = {}
    for name in CANDIDATES:
        if conv_select.applies(name, geo):
            with conv_select.forced_here(name):
                _run(geo, x, w, b, needs)  # the first run fills its buffers
                times[name] = _run(geo, x, w, b, needs)
    return min(times, key=times.get)


def _run(geo, x, w, b, needs):
    """Seconds of one forward, and of its backward when a gradient is wanted."""
    from gradkit.ops.conv import Conv2d  # here: ops/conv.py imports this module

    fn = object.__new__(Conv2d)
    fn.needs_input_grad = list(needs) if any(needs) else ()
    start = time.perf_counter()
    out = fn.forward(x, w, b, geo)
    if any(needs):
        fn.backward(out)
    return time.perf_counter() - start


def choices():
    """{(input shape, weight shape, stride, ...): algorithm} for every shape timed so far."""
    return dict(_fastest)


def clear():
    """Forget every choice: each shape is timed again on its next call."""
    _fastest.clear()
