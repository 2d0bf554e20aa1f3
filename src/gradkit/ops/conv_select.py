"""Which algorithm computes a convolution: chosen by shape, or forced for tests and users.

    im2col     any convolution (ops/conv.py): one copy of the windows, one GEMM
    winograd   3×3, stride 1, no dilation, one group (ops/winograd.py): F(2×2, 3×3), 2.25×
               fewer multiplies
    winograd4  the same convolutions (ops/winograd4.py): F(4×4, 3×3) with the batch
               innermost, 4× fewer multiplies, float32 results ~10× further from exact
    pointwise  1×1, no padding, one group (ops/pointwise.py): a GEMM on the input as it lies
    shifted    stride 1, one group (ops/shifted.py): GEMMs on shifted views, no im2col
    chwn       one group (ops/chwn.py): im2col with the batch innermost, for small images

"auto" (the default) takes the fastest algorithm that applies, by this table (ms per call,
float32, one thread, batch 128, median of 7, forward / forward + backward with the forced
algorithm's own backward; benchmarks/conv_layers.py --threads 1 --cpu-time --algorithm ...,
the 3×3 rows of Dec 2026 on a shared 2-core VM, where PyTorch took 7.5 / 23 ms for 16→16):

    layer                  im2col         winograd       pointwise      shifted
    3×3  3→16  32×32       2.9 / 8.7      19.5 / 40.1        —          7.6 / 14.2
    3×3 16→16  32×32      15.7 / 41.3     35.7 / 105.9       —         12.9 / 36.8
    3×3 32→32  16×16      11.3 / 29.7     25.2 / 72.8        —          9.1 / 28.0
    3×3 64→64   8×8        8.7 / 23.4     21.0 / 58.6        —          8.1 / 27.5
    5×5  6→16  14×14       1.8 / 8.7       —                 —          3.1 / 9.5
    1×1 16→32  /2          2.0 / 8.1        —          1.2 / 5.1          —
    1×1 32→64  /2          1.0 / 3.9        —          0.6 / 2.5          —
    1×1 64→64              1.2 / 3.6        —          0.7 / 3.1          —

so auto uses pointwise wherever it applies; winograd4 for 3×3 stride-1 layers with at least
WINOGRAD4_MIN_CHANNELS = 64 channels in and out, its backward too from WINOGRAD4_MIN_BATCH =
64 images (ms fwd / bwd in one process, batch 128, chwn or im2col → winograd4; 1 thread,
then 2):

    3×3  64→64   8×8 (ResNet-20's last stage)  8.1 / 15.7 → 4.7 / 11.0    4.5 / 9.1 → 3.4 / 6.9
    3×3 128→128  8×8                          30.5 / 59.5 → 14.8 / 56.1  16.4 / 33.3 → 10.5 / 21.1
    3×3  64→64  16×16                         33.5 / 62.9 → 24.4 / 61.9  21.3 / 38.1 → 16.7 / 35.0
    3×3  32→32  16×16 (shifted)                8.7 / 17.0 →  7.9 / 17.4   6.5 / 17.0 →  7.4 / 16.4
    3×3  16→16  32×32 (shifted)               10.8 / 19.0 → 24.5 / 52.4   5.8 / 11.2 → 14.2 / 27.6

(its transforms cost about 12·(C + O) flops a pixel against the GEMMs' 4.5·O·C, so it pays
from 64 channels; below 64 images its weight gradient's GEMMs, one per chunk of ≤ N/4 images,
run short and the backward loses: 64→64 8×8 at batch 32, 4.1 → 5.1 ms at 1 thread, 2.7 → 3.5
at 2, while the forward still wins, 2.1 → 1.4 and 1.4 → 1.3); then chwn for outputs at most CHWN_MAX_WIDTH = 10
pixels wide, forward and backward, where the NCHW window rows are too short for NumPy's
copies (ms fwd / fwd + bwd, batch 128, in one process, im2col or shifted → chwn; 1 thread,
then 2):

    5×5  6→16  14×14 (LeNet-5)   2.74 / 12.4 → 1.92 / 7.4      1.50 / 7.1 → 1.26 / 5.2
    3×3 64→64   8×8              11.9 / 32.6 → 10.0 / 29.2     7.03 / 18.6 → 5.55 / 16.1
    3×3 32→64  /2 16×16 → 8×8     5.8 / 21.6 →  6.1 / 21.8     4.29 / 16.2 → 4.23 / 15.5
    3×3 32→32  16×16             10.9 / 33.9 → 12.6 / 36.1     6.05 / 18.3 → 7.38 / 21.9
    5×5  1→6   28×28 (LeNet-5)   1.97 /  5.3 →  2.47 / 5.5

(the last two are why the limit is 10: wider rows lose the two transposed copies chwn makes);
then shifted for stride-1 layers with 16 to 32 input
channels and at most 9 kernel offsets, forward and backward (its GEMMs contract over kw·C,
slow for few channels; forward + backward ms at 1 / 2 threads on the EPYC, one GEMM per
offset and ~1 MB chunks: 16→16 32×32 shifted 32 / 23 against im2col's 45 / 31, 32→32 30 /
21 against 29 / 24; on the Xeon with the kw shifts stacked, at 1 thread, 16→16 29.8 against
im2col's 35.2, 32→32 22.9 against 25.6); above 32 channels im2col, whose longer GEMMs win
at 2 threads (64→64 8×8 forward 4.6 against 5.7 ms, its backward 27 / 20 against 33 / 24;
the ResNet-20 step 434 against 451 ms at 2 threads, 641 against 668 at 1); and im2col for
everything else.
Winograd loses in NumPy although its GEMMs are 2× faster than
im2col's (16·C instead of 36·C multiplies per output pair, at 22–54 GFLOP/s): its tile
transforms are ~40 whole-array passes over 4× the input, memory-bound, where im2col makes one
copy. It stays here, exact and tested, for shapes and BLAS builds where it wins.
"benchmark" times every algorithm that applies on the first call of each shape (forward and
backward, twice each, on the call's own arrays) and keeps the fastest for that shape, as
torch.backends.cudnn.benchmark does (ops/conv_benchmark.py): for machines and BLAS builds
this table was not measured on. Its choices can differ from run to run where two algorithms
are close, and so can the last bits of the results. Forcing a name uses that algorithm
wherever it applies and im2col elsewhere:

    from gradkit.ops import conv_select
    conv_select.set_conv_algorithm("winograd")  # or "im2col", "pointwise", "shifted", "chwn",
                                                # "benchmark"
    with conv_select.conv_algorithm("im2col"):  # for one block, then back ("auto" to choose)
        ...

The environment variable GRADKIT_CONV_ALGO sets the starting value (e.g. GRADKIT_CONV_ALGO=
im2col to time the old path). The setting is process-wide, like torch.backends.cudnn's.
"""

import contextlib
import os
import threading
import warnings

from gradkit.ops import chwn, pointwise, shifted, winograd, winograd4

ALGORITHMS = ("auto", "im2col", "winograd", "winograd4", "pointwise", "shifted", "chwn",
              "benchmark")
_APPLIES = {"winograd": winograd.applies, "winograd4": winograd4.applies,
            "pointwise": pointwise.applies,
            "shifted": shifted.applies, "chwn": chwn.applies}


def _checked(name, source):
    if name not in ALGORITHMS:
        raise ValueError(f"{source}: expected one of {', '.join(ALGORITHMS)}, got {name!r}")
    return name


def _from_environment():
    """GRADKIT_CONV_ALGO's algorithm; a name that is not one warns and gives "auto" (an import
    does not fail on an environment variable, as with GRADKIT_NUM_THREADS)."""
    name = os.environ.get("GRADKIT_CONV_ALGO", "auto")
    if name in ALGORITHMS:
        return name
    warnings.warn(f"GRADKIT_CONV_ALGO: expected one of {', '.join(ALGORITHMS)}, got {name!r}; "
                  "using auto", stacklevel=2)
    return "auto"


_algorithm = _from_environment()


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


WINOGRAD4_MIN_CHANNELS = 64  # auto takes F(4×4, 3×3) from this many channels in and out,
WINOGRAD4_MIN_BATCH = 64     # its backward from this many images (fewer: short GEMMs)
CHWN_MAX_WIDTH = 10  # output width up to which auto takes chwn (LeNet-5's conv2, 8×8 maps)


_here = threading.local()  # .name: an algorithm forced in this thread only (forced_here)


@contextlib.contextmanager
def forced_here(name):
    """Force ``name`` in the calling thread only, inside a with block (how benchmark mode
    times each algorithm without changing what other threads run)."""
    previous = getattr(_here, "name", None)
    _here.name = _checked(name, "forced_here")
    try:
        yield
    finally:
        _here.name = previous


def applies(name, geo):
    """Whether algorithm ``name`` computes this convolution (im2col computes every one)."""
    return name == "im2col" or _APPLIES[name](geo)


def _setting():
    return getattr(_here, "name", None) or _algorithm


def choose(geo):
    """The algorithm for the forward of one convolution (a _Geometry); "benchmark" when the
    caller is to time them (ops/conv_benchmark.py)."""
    setting = _setting()
    if setting == "benchmark":
        return "benchmark"
    if setting != "auto":
        return setting if applies(setting, geo) else "im2col"
    if pointwise.applies(geo):
        return "pointwise"
    if winograd4.applies(geo) and min(geo.C, geo.O) >= WINOGRAD4_MIN_CHANNELS:
        return "winograd4"
    return _auto_without_winograd4(geo)


def _auto_without_winograd4(geo):
    """auto's choice for a convolution that pointwise and winograd4 do not take."""
    if chwn.applies(geo) and geo.OW <= CHWN_MAX_WIDTH:
        return "chwn"
    if shifted.applies(geo) and 16 <= geo.C <= 32 and geo.kh * geo.kw <= 9:
        return "shifted"
    return "im2col"


def choose_backward(geo, forward):
    """The algorithm for the backward of a convolution whose forward ran ``forward``: the same,
    except that auto runs a shifted forward's backward by im2col above 32 channels (its one
    im2col of the gradient serves dx and dW, where shifted makes two sums of shifts), and a
    winograd4 forward's backward as if there were no winograd4 below WINOGRAD4_MIN_BATCH
    images."""
    if _setting() != "auto":
        return forward
    if forward == "shifted" and max(geo.C, geo.O) > 32:
        return "im2col"
    if forward == "winograd4" and geo.N < WINOGRAD4_MIN_BATCH:
        return choose_backward(geo, _auto_without_winograd4(geo))
    return forward
