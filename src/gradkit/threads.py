"""How many threads the BLAS library (NumPy's matrix products) may use: one policy for the
library, the CLI, the examples and the tests.

    gk.set_num_threads(2)     # from now on, in this process (also: gradkit train --threads 2)
    gk.get_num_threads()      # what BLAS uses now
    gradkit.threads.describe()  # the choice and why, in one line

At ``import gradkit`` the default is applied through threadpoolctl, unless the user already
chose: ``GRADKIT_NUM_THREADS=N`` wins, and a set ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``
or ``MKL_NUM_THREADS`` is left as it is. The default is

    1                               on a machine with 1 or 2 usable CPUs,
    min(8, CPUs - load)  (≥ 1)      otherwise, load = the 1-minute load average.

Why: OpenBLAS threads busy-wait for each other, so a thread that has to share its core with
another process stalls every product. On a 2-core machine with one core taken by another job,
the default two threads made `gradkit train` 13-20x slower than one thread; one thread is
never far from the best there (gradkit's GEMMs are small: a LeNet-5 step barely gains from a
second core, see benchmarks/threads.py). A big idle machine still gets several threads, and a
loaded one only the cores that are free; 8 is where the training steps stop gaining.
"""

import os
import warnings

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


def default_num_threads(cpus=None, load=None):
    """(threads, reason) of the default policy (see the module docstring)."""
    cpus = usable_cpus() if cpus is None else cpus
    if cpus <= 2:
        return 1, f"{cpus} CPUs: one BLAS thread (spare threads only wait for a busy core)"
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    free = max(1, min(MAX_DEFAULT, int(cpus - load)))
    return free, f"{cpus} CPUs, load {load:.1f}: {free} BLAS threads"


def set_num_threads(n):
    """Let BLAS use ``n`` threads from now on, in this process (PyTorch's set_num_threads)."""
    global _limiter, _chosen
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected an integer >= 1, got {n!r}")
    from threadpoolctl import threadpool_limits

    _limiter = threadpool_limits(limits=n)
    _chosen = (n, f"{n} threads, as asked")


def get_num_threads():
    """The number of threads BLAS uses now (the largest over the loaded BLAS libraries)."""
    from threadpoolctl import threadpool_info

    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(counts) if counts else 1


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
    """One line: the BLAS threads in use and why."""
    reason = _chosen[1] if _chosen else "not set by gradkit"
    try:
        return f"BLAS threads: {get_num_threads()} ({reason})"
    except ImportError:
        return f"BLAS threads: unknown ({reason})"
