"""Reused per-thread memory for the large temporaries of the convolution algorithms."""

import math
import threading

import numpy as np


class Scratch(threading.local):
    """Reused memory for the large temporaries of one convolution call (im2col matrices,
    Winograd tiles).

    A NumPy array of tens of MB is a fresh mmap that page-faults on first touch (glibc maps
    allocations over 32 MB and unmaps them on free); in a VM the faults cost more than the
    copy that fills the array (measured: ~1 ms per MB, 0.6–1.1 s of system time per ResNet-20
    step). Each named slot keeps one buffer, grown to the largest request and reused, as
    Caffe's shared column buffer does. An array taken from a slot is valid until the next
    request for that slot, so none leaves the ops that use it; every thread has its own
    slots."""

    def __init__(self):
        self.buffers = {}

    def take(self, slot, shape, dtype):
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        buffer = self.buffers.get(slot)
        if buffer is None or buffer.nbytes < nbytes:
            buffer = self.buffers[slot] = np.empty(nbytes, np.uint8)
        return buffer[:nbytes].view(dtype).reshape(shape)


scratch = Scratch()


def zero_padded(slot, x, top, left, height, width):
    """x (N, C, H, W) copied into the scratch ``slot`` at (top, left) of a (N, C, height,
    width) array whose other cells are 0: the padded input of a convolution, in reused
    memory."""
    N, C, H, W = x.shape
    xp = scratch.take(slot, (N, C, height, width), x.dtype)
    xp[:, :, :top] = 0
    xp[:, :, top + H:] = 0
    xp[:, :, top:top + H, :left] = 0
    xp[:, :, top:top + H, left + W:] = 0
    xp[:, :, top:top + H, left:left + W] = x
    return xp
