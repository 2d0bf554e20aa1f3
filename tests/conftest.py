"""Run the whole suite with single-threaded BLAS and OpenMP (NumPy's and PyTorch's).

The tests push tiny arrays through many small matrix products, and `make test` already runs
one pytest worker per core. Extra BLAS threads then only wait for a core: on a busy 2-core
machine four SGD steps of resnet20 on a 4×3×8×8 batch took 5.5 s with the default threads and
0.07 s with one. Speed is measured in benchmarks/, never here, so one thread loses nothing."""

import contextlib

import pytest

try:  # installed with scikit-learn (the [data] extra); without it the tests run unlimited
    from threadpoolctl import threadpool_limits
except ImportError:
    def threadpool_limits(limits):
        return contextlib.nullcontext()


@pytest.fixture(autouse=True, scope="session")
def single_threaded():
    with threadpool_limits(limits=1):
        yield
