"""How many threads gradkit's ops use: one policy for the library, the CLI, the examples and
the tests.

    gk.set_num_threads(2)     # from now on, in this process (also: gradkit train --threads 2)
    gk.get_num_threads()      # what the ops use now
    gradkit.threads.describe()  # the choice and why, in one line

gradkit shares out the work of its heavy ops itself (PyTorch's intra-op threads): a
convolution's groups of images and a large matrix product's blocks of rows run on a pool of
``n`` threads (ops/parallel.py), and every BLAS call is held at one thread. Each output
element is computed by one thread as by one call, and sums over chunks are added in a fixed
order, so the numbers are the same at every thread count.

At ``import gradkit`` the default is applied, unless the user already chose:
``GRADKIT_NUM_THREADS=N`` wins, and a set ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` or
``MKL_NUM_THREADS`` leaves BLAS as it is and the pool at one thread. The default is

    1                               on a machine with 1 usable CPU,
    2, or 1 when load ≥ 1           on a machine with 2,
    min(8, CPUs - load)  (≥ 1)      otherwise, load = the 1-minute load average,

where CPUs are this rank's share when an MPI launcher started several ranks on the machine
(`mpiexec -n 2 gradkit train ...`; `gradkit train --nproc N` sets GRADKIT_NUM_THREADS itself).

Why not BLAS's own threads: OpenBLAS threads busy-wait for each other, so a thread that has
to share its core with another process stalls every product; on a 2-core machine with one
core taken, two BLAS threads made `gradkit train` 13-20x slower than one. The pool's threads
sleep until there is work and take chunks as they come free, so a busy core is never a
collapse; it still costs a little, since an op waits for the chunk a preempted thread holds.
On a 2-core VM (benchmarks/threads.py measures the machine at hand): idle, 2 threads train
ResNet-20 1.1-1.4x and the MLP 1.6x faster than 1; with one core taken by another process,
about 1.2x slower, hence one thread once the load average says a core is taken. Products
that are not split (batched matmul, attention, recurrent layers, linalg) run on one thread.
"""

import os
import warnings

from gradkit.ops import parallel

ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MAX_DEFAULT = 8

_limiter = None  # the threadpoolctl limiter in force (None until a limit is applied)
_chosen = None  # (threads, reason) of the last choice


def usable_cpus():
    """CPUs this process may run on (its affinity mask, else os.cpu_count())."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _count(n):
    """'1 thread', '2 threads'."""
    return f"{n} thread{'s' if n != 1 else ''}"


def local_ranks():
    """How many MPI ranks an MPI launcher started on this machine (1 when none did): MPICH's
    MPI_LOCALNRANKS or Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE."""
    for name in ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) >= 1:
            return int(value)
    return 1


def default_num_threads(cpus=None, load=None):
    """(threads, reason) of the default policy (see the module docstring); under an MPI
    launcher each of the machine's ranks takes its share of the CPUs."""
    if cpus is None:
        cpus = max(1, usable_cpus() // local_ranks())
    if cpus == 1:
        return 1, "1 CPU: 1 thread"
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    if cpus == 2:
        n = 2 if load < 1 else 1
        return n, f"2 CPUs, load {load:.1f}: {_count(n)}"
    free = max(1, min(MAX_DEFAULT, int(cpus - load)))
    return free, f"{cpus} CPUs, load {load:.1f}: {free} threads"


def set_num_threads(n):
    """Let gradkit's ops use ``n`` threads from now on, in this process (PyTorch's
    set_num_threads): the op pool gets ``n`` threads and BLAS one per call."""
    global _limiter, _chosen
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected an integer >= 1, got {n!r}")
    from threadpoolctl import threadpool_limits

    _limiter = threadpool_limits(limits={"blas": 1, "openmp": n})  # OpenMP: as torch's
    parallel.set_threads(n)
    _chosen = (n, f"{_count(n)}, as asked")


def blas_threads():
    """The threads BLAS uses now (the largest over the loaded BLAS libraries)."""
    from threadpoolctl import threadpool_info

    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(counts) if counts else 1


def get_num_threads():
    """The threads gradkit's ops use now: the pool's, or BLAS's own where the user's
    OMP/OPENBLAS/MKL variable left BLAS to choose."""
    return max(parallel.threads(), blas_threads())


def apply_default():
    """The import-time policy: GRADKIT_NUM_THREADS, else the user's BLAS/OpenMP variables,
    else ``default_num_threads()``. Never raises: a missing threadpoolctl leaves BLAS alone."""
    global _chosen
    wanted = os.environ.get("GRADKIT_NUM_THREADS")
    if wanted is None and any(os.environ.get(v) for v in ENV_VARS):
        name = next(v for v in ENV_VARS if os.environ.get(v))
        _chosen = (None, f"{name}={os.environ[name]} set by the user: left as it is")
        return
    n, reason = default_num_threads()
    if wanted is not None:
        if wanted.strip().isdigit() and int(wanted) >= 1:
            n, reason = int(wanted), f"GRADKIT_NUM_THREADS={wanted}"
        else:
            warnings.warn(f"GRADKIT_NUM_THREADS must be an integer >= 1, got {wanted!r}; "
                          f"using the default ({reason})", stacklevel=2)
    try:
        set_num_threads(n)
        _chosen = (n, reason)
    except ImportError:
        _chosen = (None, "threadpoolctl is not installed: BLAS picks its own threads")


def describe():
    """One line: the threads in use and why."""
    reason = _chosen[1] if _chosen else "not set by gradkit"
    try:
        blas = blas_threads()
    except ImportError:
        return f"threads: {parallel.threads()} for gradkit's ops, BLAS unknown ({reason})"
    return (f"threads: {parallel.threads()} for gradkit's ops, {blas} per BLAS call "
            f"({reason})")
