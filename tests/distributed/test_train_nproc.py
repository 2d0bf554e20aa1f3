"""``gradkit train --nproc N``: one command line on N ranks under the bundled mpiexec gives one
run folder, written by rank 0, whose checkpoints load without DDP and resume on 1 or N ranks."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("mpi4py")

from gradkit.cli.train import without_nproc  # noqa: E402
from gradkit.train import checkpoint_info  # noqa: E402

SPIRAL = ["--model", "mlp", "--dataset", "spiral", "--batch-size", "32", "--lr", "0.5",
          "--schedule", "constant", "--augment", "none", "--set", "model.kwargs.hidden=[16]",
          "--no-report"]


def gradkit(cwd, *argv):
    env = dict(os.environ, GRADKIT_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "gradkit.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def epochs(run):
    lines = [json.loads(line) for line in (run / "metrics.jsonl").open()]
    return [line for line in lines if line["kind"] == "epoch"]


@pytest.fixture(scope="module")
def two_rank_run(tmp_path_factory):
    """A 2-epoch spiral MLP trained by ``gradkit train --nproc 2`` and by one process."""
    cwd = tmp_path_factory.mktemp("nproc")
    two = gradkit(cwd, "train", "--nproc", "2", *SPIRAL, "--epochs", "2", "--out", "two")
    one = gradkit(cwd, "train", *SPIRAL, "--epochs", "2", "--out", "one")
    assert two.returncode == 0, two.stdout + two.stderr
    assert one.returncode == 0, one.stdout + one.stderr
    return cwd, two


def test_two_ranks_write_one_run_folder(two_rank_run):
    cwd, done = two_rank_run
    run = cwd / "two"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.yaml",
                                                     "metrics.jsonl", "results.json"]
    assert done.stdout.count("next:") == 1 and done.stdout.count("run folder:") == 1
    assert [e["epoch"] for e in epochs(run)] == [1, 2]
    assert json.loads((run / "results.json").read_text())["final"]["test"]["accuracy"] > 0


def test_the_checkpoint_holds_the_bare_model(two_rank_run):
    cwd, _ = two_rank_run
    info = checkpoint_info(cwd / "two" / "checkpoints" / "last.safetensors")
    assert info["model"] == "MLP" and info["epoch"] == 2
    done = gradkit(cwd, "eval", "--checkpoint", "two", "--dataset", "spiral")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["samples"] == 60


def test_the_first_epoch_equals_one_process_on_the_whole_batch(two_rank_run):
    """The sampler's order of epoch 1 is the loader's (both permute with the seed), so the
    ranks' half batches together are one process's batches: the same epoch to float32
    rounding. Later epochs shuffle with seed + epoch and differ."""
    cwd, _ = two_rank_run
    first_two, first_one = epochs(cwd / "two")[0], epochs(cwd / "one")[0]
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert first_two[key] == pytest.approx(first_one[key], abs=1e-5), key


def test_the_run_resumes_on_one_process_and_again_on_two(two_rank_run):
    cwd, _ = two_rank_run
    one = gradkit(cwd, "train", "--resume", "two", "--epochs", "3")
    assert one.returncode == 0, one.stdout + one.stderr
    two = gradkit(cwd, "train", "--nproc", "2", "--resume", "two", "--epochs", "4")
    assert two.returncode == 0, two.stdout + two.stderr
    assert [e["epoch"] for e in epochs(cwd / "two")] == [1, 2, 3, 4]
    assert two.stdout.count("next:") == 1


def test_a_global_batch_the_ranks_cannot_share_is_refused(tmp_path):
    done = gradkit(tmp_path, "train", "--nproc", "2", *SPIRAL, "--batch-size", "33",
                   "--epochs", "1")
    assert done.returncode == 2
    for rank in (0, 1):  # each rank checks its config; the message says whose it is
        assert (f"[rank {rank}] gradkit train: error: invalid config:" in done.stderr)
    assert "batch_size: 33 is the global batch and must be a multiple of the 2 ranks" \
        in done.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").glob("*/*.jsonl"))


def test_nproc_is_taken_out_of_the_relaunched_command_line():
    assert without_nproc(["train", "--nproc", "2", "--epochs", "3"]) == ["train", "--epochs",
                                                                          "3"]
    assert without_nproc(["train", "--nproc=4", "--lr", "0.1"]) == ["train", "--lr", "0.1"]


def test_nproc_must_be_a_whole_number(tmp_path):
    done = gradkit(tmp_path, "train", "--nproc", "0")
    assert done.returncode == 2
    assert "expected a whole number of processes >= 1, got '0'" in done.stderr
