"""Run the whole suite with one BLAS/OpenMP thread per pytest worker (NumPy's and PyTorch's).

`make test` runs one pytest worker per core and sets GRADKIT_NUM_THREADS=1 (gradkit's thread
policy, gradkit/threads.py); this fixture also holds PyTorch's OpenMP pool to one thread. The
tests push tiny arrays through many small matrix products: on a busy 2-core machine four SGD
steps of resnet20 on a 4×3×8×8 batch took 5.5 s with the default threads and 0.07 s with one.
Speed is measured in benchmarks/, never here, so one thread loses nothing."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def single_threaded():
    with threadpool_limits(limits=1):
        yield
