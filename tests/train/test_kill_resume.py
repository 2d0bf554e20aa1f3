"""kill -9 at any point after the first checkpoint, then `--resume`: the run ends with exactly
the weights of a run that was never interrupted (bit-identical)."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

ARGS = ["train", "--model", "mlp", "--dataset", "digits", "--epochs", "6", "--batch-size",
        "32", "--schedule", "cosine", "--augment", "none", "--checkpoint-every", "7",
        "--no-report", "--seed", "3"]


def gradkit(*args, cwd):
    env = dict(os.environ, GRADKIT_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "gradkit.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def weights(run):
    return load_file(str(run / "checkpoints" / "last.safetensors"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    clean = gradkit(*ARGS, "--out", "clean", cwd=folder)
    assert clean.wait(timeout=120) == 0, clean.stderr.read()
    return weights(folder / "clean")


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_sigkill_then_resume_is_bit_identical(tmp_path, delay, uninterrupted):
    live = gradkit(*ARGS, "--out", "killed", cwd=tmp_path)
    first = tmp_path / "killed" / "checkpoints" / "last.safetensors"
    deadline = time.monotonic() + 60
    while not first.exists() and live.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(delay)
    live.send_signal(signal.SIGKILL)
    assert live.wait(timeout=30) == -signal.SIGKILL, "the run ended before the kill"
    resumed = gradkit("train", "--resume", "killed", cwd=tmp_path)
    assert resumed.wait(timeout=120) == 0, resumed.stderr.read()

    want, got = uninterrupted, weights(tmp_path / "killed")
    assert sorted(want) == sorted(got)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
