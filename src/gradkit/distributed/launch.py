"""Start a program on N ranks with the mpiexec that the mpich wheel puts beside python.

``pip install 'gradkit[distributed]'`` installs mpich's ``mpiexec`` into the environment's
``bin/``; ``mpiexec_path()`` finds it there first, then on PATH (a cluster's own). Across
machines, run the cluster's ``mpiexec -n 8 -f hostfile python train.py`` from a folder the
machines share; nothing here is needed for that.

    from gradkit.distributed.launch import run
    code = run(2, ["-m", "my_package.train", "--epochs", "3"])   # python -m ... on 2 ranks
"""

import os
import shutil
import subprocess
import sys

from gradkit.distributed.comm import INSTALL_HINT


def mpiexec_path():
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(f"no mpiexec beside {sys.executable} nor on PATH: "
                                f"{INSTALL_HINT}")
    return found


def command(nproc, python_args):
    """The argv that runs ``python <python_args>`` on nproc ranks."""
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"launch: nproc must be a positive integer, got {nproc!r}")
    return [mpiexec_path(), "-n", str(nproc), sys.executable, *python_args]


def run(nproc, python_args, timeout=None, **popen_options):
    """Run ``python <python_args>`` on nproc ranks and return mpiexec's exit code.

    ``timeout`` (seconds): past it the job is killed and ``subprocess.TimeoutExpired``
    raised. ``popen_options`` go to subprocess.run (capture_output=True, env=..., ...)."""
    return subprocess.run(command(nproc, python_args), timeout=timeout, **popen_options)
