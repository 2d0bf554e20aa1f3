"""Reused memory: per-thread scratch buffers for the large temporaries of the convolution
algorithms, recycled buffers for their large outputs (Recycler), and, on request, glibc's
malloc told to keep freed memory.

A NumPy array of megabytes is memory fresh from the kernel unless malloc kept some: the pages
fault on first touch, and in a VM the faults cost more than the work that fills the array
(measured: ~1.4 ms of system time per MB; 45 000 faults and 250 ms of system time in a
1.3 s ResNet-20 training step at batch 128, one thread, on a loaded 2-core VM). glibc returns
the top of its heap to the kernel as soon as 128 kB lie free there and serves requests over a
moving threshold (up to 32 MB) with fresh mmaps, so the activations of every step fault in
anew. keep_freed_memory() sets M_MMAP_THRESHOLD to 32 MB and M_TRIM_THRESHOLD to 1 GB
(mallopt): arrays up to 32 MB then come from a heap that keeps what was freed, and the faults
of that step went to ~0. It is process-wide and keeps up to 1 GB of freed memory, so gradkit
does it only when GRADKIT_KEEP_FREED_MEMORY=1 is set before the import (or when called): the
step went 1308 → 1072 ms on the loaded VM, ~827 → ~799 ms on a quieter one, and PyTorch's in
the same process 581 → 505 and ~490 → ~440 ms.
"""

import ctypes
import ctypes.util
import math
import os
import sys
import threading

import numpy as np

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory():
    """Tell glibc's malloc to reuse freed memory (see the module docstring); False where the C
    library has no mallopt (macOS, musl, Windows)."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20) and mallopt(_M_TRIM_THRESHOLD, 1 << 30))


if os.environ.get("GRADKIT_KEEP_FREED_MEMORY") == "1":
    keep_freed_memory()


class Scratch(threading.local):
    """Reused memory for the large temporaries of one convolution call (im2col matrices,
    Winograd tiles).

    Each named slot keeps one buffer, grown to the largest request and reused, as Caffe's
    shared column buffer does (a request of tens of MB would otherwise be a fresh mmap on
    every call, see the module docstring). An array taken from a slot is valid until the next
    request for that slot, so none leaves the ops that use it; every thread has its own
    slots.

    The zero-padded copies (``zero_padded``, and conv's im2col of an unpadded input) keep
    one buffer per shape instead, whose padding stays zero: only the rest is written on each
    call (padding the 128 one-image chunks of a 16-channel 32×32 batch measured 1.08 → 0.70
    ms). Those buffers are kept up to KEPT_BYTES per thread, the least recently used dropped
    first (ResNet-20 at batch 128 keeps 17 of them, 8 MB)."""

    KEPT_BYTES = 128 << 20

    def __init__(self):
        self.buffers = {}
        self.padded = {}
        self.padded_bytes = 0

    def take(self, slot, shape, dtype):
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        buffer = self.buffers.get(slot)
        if buffer is None or buffer.nbytes < nbytes:
            buffer = self.buffers[slot] = np.empty(nbytes, np.uint8)
        return buffer[:nbytes].view(dtype).reshape(shape)

    def zeros(self, key, shape, dtype, tail):
        """A (shape) array in a buffer kept for ``key``, zero when first made, with ``tail``
        more zero elements after its end (readable through strided views)."""
        buffer = self.padded.pop(key, None)
        if buffer is None:
            buffer = np.zeros(math.prod(shape) + tail, dtype)
            self.padded_bytes += buffer.nbytes
            while self.padded and self.padded_bytes > self.KEPT_BYTES:
                self.padded_bytes -= self.padded.pop(next(iter(self.padded))).nbytes
        self.padded[key] = buffer
        return buffer[:math.prod(shape)].reshape(shape)


scratch = Scratch()


class Recycler(threading.local):
    """Output arrays of megabytes (of convolutions, BatchNorm, ReLU) in buffers that no array
    uses any more, instead of fresh memory that page-faults (see the module docstring).

    A buffer handed out is the base of the array and of every view of it, so it is unused
    exactly when its reference count is back to the pool's own; the arrays of one training
    step are then made in the memory of the step before (a ResNet-20 step at batch 128, one
    thread: 40 000 → 9 600 page faults, 97 → 20 ms of system time). Requests under MIN_BYTES
    get np.empty; the pool holds at most LIMIT_BYTES per thread (then np.empty again), like
    PyTorch's caching allocator it keeps that memory after training (ResNet-20 at batch 128:
    81 buffers, 394 MB, about one step's activations); clear() lets it go."""

    MIN_BYTES = 1 << 20
    LIMIT_BYTES = 1 << 30

    def __init__(self):
        self.pools = {}
        self.bytes = 0

    def empty(self, shape, dtype):
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes < self.MIN_BYTES:
            return np.empty(shape, dtype)
        pool = self.pools.setdefault(nbytes, [])
        for buffer in pool:
            if sys.getrefcount(buffer) <= _UNUSED:
                return buffer.view(dtype).reshape(shape)
        if self.bytes + nbytes > self.LIMIT_BYTES:
            return np.empty(shape, dtype)
        pool.append(np.empty(nbytes, np.uint8))
        self.bytes += nbytes
        return pool[-1].view(dtype).reshape(shape)

    def clear(self):
        self.pools, self.bytes = {}, 0


def _unused_count():
    """sys.getrefcount of a pool's buffer that no array uses, inside Recycler.empty's loop."""
    pool = [np.empty(1, np.uint8)]
    for buffer in pool:
        return sys.getrefcount(buffer)


_UNUSED = _unused_count()
recycled = Recycler()


def zero_padded(slot, x, top, left, height, width, tail=0):
    """x (A, B, H, W) copied into the scratch ``slot`` at (top, left) of a (A, B, height,
    width) array whose other cells are 0, followed in memory by ``tail`` zeros: the padded
    input of a convolution, in reused memory."""
    A, B, H, W = x.shape
    key = (slot, A, B, H, W, top, left, height, width, tail, x.dtype.str)
    xp = scratch.zeros(key, (A, B, height, width), x.dtype, tail)
    xp[:, :, top:top + H, left:left + W] = x
    return xp
