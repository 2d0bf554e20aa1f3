"""Intra-op parallelism: the independent chunks of one op (groups of images of a batch) run on
a small pool of threads, each chunk's BLAS call single-threaded.

    results = parallel.map(work, parts)      # [work(p) for p in parts], on the pool

NumPy releases the GIL inside its copies, ufunc loops and BLAS calls, so threads that each
run a convolution's im2col + GEMM on their own images use the cores at once, as PyTorch's
``at::parallel_for`` does around single-threaded oneDNN/MKL kernels. OpenBLAS's own threads
gain nothing on these products: they are split per image (~1 MB each, to stay in cache), too
small for OpenBLAS to share out, and the copies between them are single-threaded NumPy.

Scheduling is dynamic (each thread takes the next chunk when it finishes one), so a thread
that shares its core with another process takes fewer chunks instead of holding the op up;
no thread busy-waits (idle ones block on a condition). Results come back in the order of
``parts``, so sums over chunks (a weight gradient) are added in one fixed order and do not
depend on which thread ran what: a step's numbers are the same on every run with the same
thread count (and differ from one thread's only by float rounding of those sums, when the
chunking changes; gradkit keeps the chunking the same, so they are bit-identical).

The pool has ``threads() - 1`` workers; the calling thread is the last one. Calls from a
worker (nested) or while another thread uses the pool run serially in the caller, so user
threads running ops at the same time stay correct. Scratch buffers (ops/scratch.py) are
per thread, so the workers never share one. A forked child (a DataLoader or search worker)
gets new locks and starts its own workers on its first map.
"""

import itertools
import os
import threading

import numpy as np

_threads = 1
_workers = []  # the pool's threads
_lock = threading.Lock()  # held by the caller that owns the pool for one map
_job = None  # the _Job on offer, or None
_ready = threading.Condition()  # guards _job, _generation and every job's bookkeeping
_generation = 0  # bumped when a job is offered: how a waiting worker knows it is new
_inside = threading.local()  # .active: this thread is running chunks (nested maps go serial)


def threads():
    """How many threads an op's chunks run on (1: in the calling thread only)."""
    return _threads


def set_threads(n):
    """Run ops' chunks on ``n`` threads from now on (gradkit.threads sets it)."""
    global _threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_threads: expected an integer >= 1, got {n!r}")
    _threads = n  # the workers start on the first map that needs them


def _start_workers():
    """Start workers until the pool has threads() - 1 of them."""
    while len(_workers) < _threads - 1:
        worker = threading.Thread(target=_serve, args=(len(_workers),),
                                  name=f"gradkit-op-{len(_workers) + 1}", daemon=True)
        _workers.append(worker)
        worker.start()


def _after_fork_in_child():
    """A forked child (a DataLoader or search worker) has none of the parent's threads, and
    its locks may have been taken mid-map: new locks, and workers started again on first use."""
    global _lock, _ready, _job
    _workers.clear()
    _lock, _ready, _job = threading.Lock(), threading.Condition(), None
    _inside.active = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Job:
    """One map: its chunks, taken in turn from ``next_index`` by every thread on it."""

    def __init__(self, function, parts, helpers):
        self.function, self.parts, self.helpers = function, parts, helpers
        self.results = [None] * len(parts)
        self.errors = []
        self.next_index = itertools.count()
        self.working = 0  # workers inside run(); the caller waits for them to leave
        self.closed = False  # the caller has finished: workers that wake late stay out

    def run(self):
        """Run chunks until none is left (after an error, skip the rest)."""
        for i in self.next_index:
            if i >= len(self.parts):
                return
            if self.errors:
                continue
            try:
                self.results[i] = self.function(self.parts[i])
            except BaseException as error:  # re-raised in the caller
                self.errors.append(error)


def _serve(rank):
    """A worker: wait for a job, take its chunks with the others, wait again.

    It lets go of the job before waiting: a job holds its function, whose closure holds the
    op's arrays, and an array still referenced is one that ops/scratch.py's Recycler cannot
    hand out again (LeNet-5 at 2 threads: 1,156 page faults and 5 ms of system time a step
    while the worker kept the last job, none after)."""
    _inside.active = True
    seen = 0
    while True:
        with _ready:
            while _generation == seen:
                _ready.wait()
            seen, job = _generation, _job
            if job is None or job.closed or rank >= job.helpers:
                job = None
                continue
            job.working += 1
        job.run()
        with _ready:
            job.working -= 1
            _ready.notify_all()
        job = None


def map(function, parts):
    """[function(p) for p in parts], the parts shared out over threads() threads."""
    parts = list(parts)
    if (_threads == 1 or len(parts) < 2 or getattr(_inside, "active", False)
            or not _lock.acquire(blocking=False)):
        return [function(p) for p in parts]
    global _job, _generation
    try:
        _inside.active = True
        if len(_workers) < _threads - 1:  # the first map, or the first after a fork
            _start_workers()
        job = _Job(function, parts, helpers=min(_threads - 1, len(_workers)))
        with _ready:
            _job, _generation = job, _generation + 1
            _ready.notify_all()
        job.run()
        with _ready:
            job.closed = True  # a worker that has not woken yet need not: nothing is left
            while job.working:
                _ready.wait()
            _job = None
        if job.errors:
            raise job.errors[0]
        return job.results
    finally:
        _inside.active = False
        _lock.release()


# At least this many slices of a batch, so that 2-4 threads share a small layer; more would
# cost more than they save: every slice makes the same ~20 NumPy calls, and each call hands
# the GIL over (ResNet-20 at batch 32, 2 threads: 215 ms a step with 8, 156 ms with 4).
MIN_CHUNKS = 4


def batch_slices(N, bytes_per_image, chunk_bytes):
    """Slices of a batch of N images, each ~chunk_bytes of work (to stay in cache), and at
    least MIN_CHUNKS of them when N allows. The same slices at every thread count, so that sums
    over them (a weight gradient) are added in the same order whatever runs them."""
    step = max(1, min(chunk_bytes // max(1, bytes_per_image), -(-N // MIN_CHUNKS)))
    return [slice(n, min(N, n + step)) for n in range(0, N, step)]


PARALLEL_BYTES = 3 << 20


def over_batch(function, x, chunk_bytes=1 << 20):
    """[function(s) for s in batch_slices of x of ~chunk_bytes each]: on the op threads when x
    holds at least PARALLEL_BYTES, in the caller below that.

    For BatchNorm's memory-bound passes, chunked to stay in cache: below ~3 MB one thread is
    as fast (2 threads made BatchNorm on (128, 16, 32, 32) 20% faster, on (128, 64, 8, 8) 10%
    slower)."""
    parts = batch_slices(len(x), x[0].nbytes if len(x) else 0, chunk_bytes)
    if x.nbytes >= PARALLEL_BYTES:
        return map(function, parts)
    return [function(part) for part in parts]


def elementwise(function, x):
    """function(s) for slices s of x's first axis that together cover it: ~1 MB slices on the
    op threads when x holds at least PARALLEL_BYTES and there are threads to share them, else
    one call on the whole of x (slicing gains nothing in one thread). For the one-pass ops of
    a step: ReLU, the residual Add and the engine's sum of two gradients (the ResNet-20 step at
    batch 128, 2 threads: 418 → 400 ms)."""
    if _threads > 1 and x.ndim and x.nbytes >= PARALLEL_BYTES:
        map(function, batch_slices(len(x), x[0].nbytes, 1 << 20))
    else:
        function(...)  # Ellipsis: the whole of x, of any number of axes


def sum_in_order(partials, shape, dtype):
    """The chunks' partial sums (one per slice of batch_slices) added from zeros in chunk
    order: the same rounding whichever thread computed which chunk, and zeros for no chunk."""
    total = np.zeros(shape, dtype)
    for partial in partials:
        total += partial
    return total


MIN_SPLIT_FLOPS = 1 << 24  # ~17 MFLOP (~0.2 ms on one core): below, a map costs more than it saves
MIN_ROWS = 32  # rows per block: fewer and BLAS's kernels run short


def matmul(a, b):
    """a @ b for a (M, K) and b (K, N): when 2·M·N·K ≥ MIN_SPLIT_FLOPS, in blocks of a's rows,
    one per thread, each block's product single-threaded BLAS writing its rows of the result.

    Each output element is the same dot product as in one call (only which thread computes it
    changes), so with OpenBLAS the result is bit-identical to ``a @ b``. Small products, and
    products with too few rows to share, are one ``np.matmul`` call."""
    M, K = a.shape
    N = b.shape[1]
    blocks = min(_threads, M // MIN_ROWS)
    if blocks < 2 or 2 * M * N * K < MIN_SPLIT_FLOPS or a.dtype != b.dtype:
        return np.matmul(a, b)
    out = np.empty((M, N), a.dtype)
    edges = [M * k // blocks for k in range(blocks + 1)]
    map(lambda rows: np.matmul(a[rows], b, out=out[rows]),
        [slice(lo, hi) for lo, hi in zip(edges, edges[1:])])
    return out
