"""The thread policy (gradkit/threads.py): the rule, the setter, the import-time default."""

import json
import os
import subprocess
import sys

import pytest

import gradkit as gk
from gradkit import threads
from gradkit.ops import parallel


@pytest.mark.parametrize("cpus, load, expected", [
    (1, 0.0, 1), (1, 3.0, 1),                   # one CPU: one thread
    (2, 0.0, 2), (2, 0.9, 2), (2, 1.0, 1), (2, 5.0, 1),  # two: both, unless one is taken
    (4, 0.0, 4), (4, 1.2, 2), (4, 9.0, 1),      # free cores only, at least one
    (16, 0.0, 8), (16, 12.5, 3), (64, 2.0, 8),  # big machines: capped at 8
])
def test_default_rule(cpus, load, expected):
    assert threads.default_num_threads(cpus, load)[0] == expected


@pytest.mark.parametrize("env, expected", [
    ({}, 1), ({"MPI_LOCALNRANKS": "2"}, 2), ({"OMPI_COMM_WORLD_LOCAL_SIZE": "4"}, 4),
    ({"MPI_LOCALNRANKS": "x"}, 1)])
def test_ranks_of_an_mpi_launcher_share_the_cpus(env, expected, monkeypatch):
    for name in ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 8)
    assert threads.local_ranks() == expected
    assert threads.default_num_threads(load=0.0)[0] == 8 // expected


def test_set_num_threads_applies_and_validates():
    before = gk.get_num_threads()
    try:
        gk.set_num_threads(2)
        assert gk.get_num_threads() == 2 and parallel.threads() == 2
        assert threads.blas_threads() == 1  # the ops share out their work; BLAS calls: one each
        assert "2 threads, as asked" in threads.describe()
        assert "2 for gradkit's ops, 1 per BLAS call" in threads.describe()
        gk.set_num_threads(1)
        assert gk.get_num_threads() == 1 and parallel.threads() == 1
    finally:
        gk.set_num_threads(before)
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="integer >= 1"):
            gk.set_num_threads(bad)


def _imported_threads(**env):
    code = ("import json, gradkit as gk, gradkit.threads as t; "
            "print(json.dumps([gk.get_num_threads(), t.describe(), t.parallel.threads(), "
            "t.blas_threads()]))")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                          "GRADKIT_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, text=True,
                         capture_output=True, check=True)
    return json.loads(out.stdout)


def test_import_applies_gradkit_num_threads_and_respects_the_users_blas_variables():
    n, line, pool, blas = _imported_threads(GRADKIT_NUM_THREADS="3")
    assert (n, pool, blas) == (3, 3, 1) and "GRADKIT_NUM_THREADS=3" in line
    n, line, pool, blas = _imported_threads(OPENBLAS_NUM_THREADS="2")
    assert (n, pool, blas) == (2, 1, 2) and "left as it is" in line
