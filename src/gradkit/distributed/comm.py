"""The world of processes: rank, size and the collectives on arrays and Tensors, over MPI.

``init()`` joins the MPI world when the process was started by a launcher (``mpiexec``,
``srun``: it sets PMI_RANK, PMI_SIZE, OMPI_COMM_WORLD_SIZE, PMIX_RANK or MPI_LOCALRANKID).
Otherwise the world is this process alone (rank 0 of 1) and every collective returns its
input unchanged, so the same script runs with and without a launcher, and mpi4py is not
even imported. The collectives follow ``torch.distributed``: ``all_reduce`` and
``broadcast`` change their argument in place (and return it); ``all_gather(tensor_list,
tensor)`` fills the list. NumPy buffers go straight to MPI (no pickling); only
``all_gather_object`` pickles, for small metadata.

Under MPI, ``init()`` also installs an exception hook: an uncaught exception on one rank
prints ``[rank r] Traceback ...`` and calls ``MPI_Abort``, which stops every rank instead
of leaving the others waiting forever in a collective.
"""

import os
import sys
import traceback

import numpy as np

from gradkit.tensor import Tensor
from gradkit.autograd import engine

_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                  "MPI_LOCALRANKID")
INSTALL_HINT = ("pip install 'gradkit[distributed]' (it brings mpi4py and the mpich wheel, "
                "whose mpiexec lands beside python)")
_OPS = ("sum", "mean", "max", "min")
_state = {"comm": None}


class _LocalComm:
    """The world of one process: what mpi4py's communicator offers, as no-ops."""

    rank, size = 0, 1

    def Barrier(self):
        pass

    def Abort(self, code=1):
        os._exit(code)

    def allgather(self, obj):
        return [obj]


def launched_under_mpi():
    """Whether a launcher started this process (one of its environment variables is set)."""
    return any(name in os.environ for name in _LAUNCHER_VARS)


def mpi():
    """The mpi4py.MPI module, or an ImportError that says what to install."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(f"gradkit.distributed needs mpi4py under a launcher: {INSTALL_HINT}"
                          ) from exc
    return MPI


def init():
    """Join the world (idempotent) and return its communicator; see the module docstring."""
    if _state["comm"] is None:
        if launched_under_mpi():
            comm = mpi().COMM_WORLD
            if comm.size > 1:
                _install_abort_hook(comm)
        else:
            comm = _LocalComm()
        _state["comm"] = comm
    return _state["comm"]


def _install_abort_hook(comm):
    def excepthook(kind, value, tb):
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write("".join(f"[rank {comm.rank}] {line}\n" for line in text.splitlines()))
        sys.stderr.flush()
        comm.Abort(1)

    sys.excepthook = excepthook


def get_rank():
    return init().rank


def get_world_size():
    return init().size


def is_main():
    """True on rank 0, the rank that writes files and prints."""
    return init().rank == 0


def barrier():
    init().Barrier()


def _array(x, what):
    """The contiguous ndarray behind x (a Tensor or an ndarray) that MPI reads and writes."""
    array = x._data if isinstance(x, Tensor) else x
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{what}: expected a Tensor or an ndarray, got {type(x).__name__}")
    if not array.flags.c_contiguous or not array.flags.writeable:
        raise ValueError(f"{what}: the array must be C-contiguous and writeable "
                         f"(got shape {array.shape}, strides {array.strides}); pass a copy")
    return array


def _changed(x):
    if isinstance(x, Tensor):
        engine.note_change(x._vc)


def _check_op(op, what):
    if op not in _OPS:
        raise ValueError(f"{what}: op must be one of {', '.join(_OPS)}, got {op!r}")


def mpi_op(op, what):
    """The MPI reduction for op ("mean" reduces with SUM; the caller divides)."""
    _check_op(op, what)
    MPI = mpi()
    return {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]


def all_reduce(x, op="sum"):
    """x ← op over ranks of x, elementwise, in place on every rank; returns x.

    op: "sum", "mean" (the sum divided by the world size), "max" or "min"."""
    array = _array(x, "all_reduce")
    _check_op(op, "all_reduce")
    comm = init()
    if comm.size == 1:
        return x
    comm.Allreduce(mpi().IN_PLACE, array, op=mpi_op(op, "all_reduce"))
    if op == "mean":
        array /= comm.size
    _changed(x)
    return x


def broadcast(x, src=0):
    """x ← rank src's x, in place on every rank; returns x. Shapes and dtypes must agree."""
    array = _array(x, "broadcast")
    comm = init()
    if comm.size > 1:
        comm.Bcast(array, root=src)
        _changed(x)
    return x


def all_gather(tensor_list, tensor):
    """tensor_list[r] ← rank r's tensor, for every r (PyTorch's signature); returns the list.

    tensor_list holds world-size Tensors or arrays of tensor's shape and dtype."""
    array = _array(tensor, "all_gather")
    comm = init()
    if len(tensor_list) != comm.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} entries, expected "
                         f"one per rank ({comm.size})")
    if comm.size == 1:
        gathered = array[None]
    else:
        gathered = np.empty((comm.size,) + array.shape, array.dtype)
        comm.Allgather(array, gathered)
    for rank, out in enumerate(tensor_list):
        target = _array(out, "all_gather")
        if target.shape != array.shape or target.dtype != array.dtype:
            raise ValueError(f"all_gather: tensor_list[{rank}] has shape {target.shape} and "
                             f"dtype {target.dtype}, expected {array.shape} and {array.dtype}")
        target[...] = gathered[rank]
        _changed(out)
    return tensor_list


def all_gather_object(obj):
    """[rank 0's obj, rank 1's obj, ...] on every rank (pickled: for small metadata only)."""
    return init().allgather(obj)
