"""Which algorithm computes a convolution: chosen by shape, or forced for tests and users.

    im2col     any convolution (ops/conv.py): one copy of the windows, one GEMM
    winograd   3×3, stride 1, no dilation, one group (ops/winograd.py): 2.25× fewer multiplies
    pointwise  1×1, no padding, one group (ops/pointwise.py): a GEMM on the input as it lies

"auto" (the default) takes the fastest algorithm that applies, by this table (ms per call,
float32, one thread, batch 128, median of 7, forward / forward + backward, both paths
blocked over chunks of images that fit in cache):

    layer                  im2col         winograd      pointwise
    3×3  3→16  32×32       2.8 / 7.9      16.8 / 34.7       —
    3×3 16→16  32×32      21.6 / 57.4     32.6 / 96.9       —
    3×3 32→32  16×16      13.1 / 34.8     22.1 / 64.6       —
    3×3 64→64   8×8       11.2 / 29.2     19.8 / 55.2       —
    1×1 16→32  /2          2.0 / 8.1        —          1.2 / 5.1
    1×1 32→64  /2          1.0 / 3.9        —          0.6 / 2.5
    1×1 64→64              1.2 / 3.6        —          0.7 / 3.1

so auto uses pointwise wherever it applies and im2col for everything else. Winograd loses in
NumPy although its GEMMs are 2× faster than im2col's (16·C instead of 36·C multiplies per
output pair, at 22–54 GFLOP/s): its tile transforms are ~40 whole-array passes over 4× the
input, memory-bound, where im2col makes one copy. It stays here, exact and tested, for
shapes and BLAS builds where it wins.
Forcing a name uses that algorithm wherever it applies and im2col elsewhere:

    from gradkit.ops import conv_select
    conv_select.set_conv_algorithm("winograd")     # or "im2col", "pointwise", "auto"
    with conv_select.conv_algorithm("im2col"):     # for one block, then back
        ...

The environment variable GRADKIT_CONV_ALGO sets the starting value (e.g. GRADKIT_CONV_ALGO=
im2col to time the old path). The setting is process-wide, like torch.backends.cudnn's.
"""

import contextlib
import os

from gradkit.ops import pointwise, winograd

ALGORITHMS = ("auto", "im2col", "winograd", "pointwise")
_APPLIES = {"winograd": winograd.applies, "pointwise": pointwise.applies}


def _checked(name, source):
    if name not in ALGORITHMS:
        raise ValueError(f"{source}: expected one of {', '.join(ALGORITHMS)}, got {name!r}")
    return name


_algorithm = _checked(os.environ.get("GRADKIT_CONV_ALGO", "auto"), "GRADKIT_CONV_ALGO")


def set_conv_algorithm(name):
    """Use `name` for every convolution it applies to from now on ("auto" to choose)."""
    global _algorithm
    _algorithm = _checked(name, "set_conv_algorithm")


def get_conv_algorithm():
    """The current setting: "auto" or a forced algorithm's name."""
    return _algorithm


@contextlib.contextmanager
def conv_algorithm(name):
    """Force `name` inside a with block, then restore the previous setting."""
    previous = get_conv_algorithm()
    set_conv_algorithm(name)
    try:
        yield
    finally:
        set_conv_algorithm(previous)


def choose(geo):
    """The algorithm for one convolution (a _Geometry)."""
    if _algorithm != "auto":
        return _algorithm if _algorithm == "im2col" or _APPLIES[_algorithm](geo) else "im2col"
    if pointwise.applies(geo):
        return "pointwise"
    return "im2col"
