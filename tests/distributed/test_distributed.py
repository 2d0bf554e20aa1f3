"""gradkit.distributed under the bundled mpiexec, 2 and 3 ranks, against one process.

Each world size is launched once for all the scenarios of ddp_worker.py (about 1.5 s); the
references are the same training runs in this process, on the whole batch."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("mpi4py")

import gradkit as gk  # noqa: E402
import gradkit.distributed as dist  # noqa: E402
from distributed import ddp_worker as worker  # noqa: E402
from gradkit.distributed import comm, launch  # noqa: E402

WORKER = os.path.join(os.path.dirname(__file__), "ddp_worker.py")
SCENARIOS = "comm,mlp,buckets,cnn_sync,cnn_plain,no_sync,syncbn,unused,trainer"


def launch_worker(nproc, scenarios, out_dir, timeout=60):
    env = dict(os.environ, GRADKIT_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return launch.run(nproc, [WORKER, scenarios, str(out_dir)], timeout=timeout, env=env,
                      capture_output=True, text=True)


@pytest.fixture(scope="module", params=[2, 3], ids=["2 ranks", "3 ranks"])
def world(request, tmp_path_factory):
    """(world size, load(scenario, rank) -> the arrays that rank saved)."""
    out_dir = tmp_path_factory.mktemp(f"ranks{request.param}")
    done = launch_worker(request.param, SCENARIOS, out_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    return (request.param, lambda scenario, rank: np.load(out_dir / f"{scenario}.{rank}.npz"),
            out_dir)


def max_difference(a, b):
    assert a.keys() == b.keys()
    return max(float(np.abs(np.subtract(a[k], b[k])).max()) for k in a)


def test_collectives(world):
    n, load, _ = world
    for rank in range(n):
        got = load("comm", rank)
        np.testing.assert_array_equal(got["sum"], n * np.arange(4.0) + n * (n - 1) / 2)
        np.testing.assert_array_equal(got["mean"], np.full(3, (n - 1) / 2))
        np.testing.assert_array_equal(got["max"], [n - 1, 0])
        np.testing.assert_array_equal(got["broadcast"], np.full((2, 2), 10.0 + n - 1))
        np.testing.assert_array_equal(got["gather"], [[r, r * r] for r in range(n)])


@pytest.mark.parametrize("scenario, make, shape", [
    ("mlp", worker.make_mlp, (5,)),             # each rank initialised differently
    ("buckets", worker.make_mlp, (5,)),         # one parameter per bucket
    ("cnn_sync", worker.make_cnn, (2, 6, 6)),   # BatchNorm2d converted to SyncBatchNorm
])
def test_n_ranks_train_as_one_process_on_the_whole_batch(world, scenario, make, shape):
    n, load, _ = world
    x, y = worker.data(shape)
    reference = worker.train(make(0), x, y)
    for rank in range(n):
        got = {k: v for k, v in load(scenario, rank).items() if k not in ("buckets", "timeline")}
        assert max_difference(got, reference) < 1e-12, (scenario, rank)


def test_buckets_are_many_and_each_one_is_reduced(world):
    n, load, _ = world
    got = load("buckets", 0)
    assert int(got["buckets"]) == 6  # 3 Linear layers: a weight and a bias each
    started, finished = got["timeline"].T
    assert len(started) == 6 and np.all(finished >= started) and np.all(np.diff(started) >= 0)


def test_plain_batchnorm_differs_from_one_process(world):
    """Without SyncBatchNorm each rank normalises with its own shard's statistics: after 20
    steps the weights are ~0.1 away from the one-process run (measured 0.165 at 2 ranks)."""
    n, load, _ = world
    x, y = worker.data((2, 6, 6))
    reference = worker.train(worker.make_cnn(0), x, y)
    difference = max_difference(dict(load("cnn_plain", 0)), reference)
    assert difference > 1e-2
    weights = [dict(load("cnn_plain", r)) for r in range(n)]
    trained = [k for k in weights[0] if "running" not in k]  # running stats stay per rank
    assert all(np.array_equal(weights[0][k], w[k]) for w in weights for k in trained)


def test_no_sync_accumulates_and_the_next_backward_averages_the_sum(world):
    n, load, _ = world
    model = worker.make_mlp(0)
    for seed in (1, 2):
        x, y = worker.data((5,), seed)
        gk.nn.functional.cross_entropy(model(gk.tensor(x)), gk.tensor(y)).backward()
    reference = {name: p.grad.numpy() for name, p in model.named_parameters()}
    for rank in range(n):
        got = {k.removeprefix("module."): v for k, v in load("no_sync", rank).items()}
        assert max_difference(got, reference) < 1e-12


def test_sync_batchnorm_equals_batchnorm_on_the_concatenated_batch(world):
    n, load, _ = world
    ranks = [load("syncbn", r) for r in range(n)]
    x = torch.tensor(np.concatenate([r["x"] for r in ranks]), requires_grad=True)
    layer = torch.nn.BatchNorm2d(3, momentum=0.3).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([0.5, 1.0, 2.0]))
        layer.bias.copy_(torch.tensor([0.0, -1.0, 1.0]))
    out = layer(x)
    (out * torch.tensor(np.concatenate([r["c"] for r in ranks]))).sum().backward()
    for rank, got in enumerate(ranks):
        rows = slice(4 * rank, 4 * rank + 4)
        np.testing.assert_allclose(got["out"], out.detach().numpy()[rows], atol=1e-12)
        np.testing.assert_allclose(got["dx"], x.grad.numpy()[rows], atol=1e-12)
        np.testing.assert_allclose(got["running_mean"], layer.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(got["running_var"], layer.running_var.numpy(), atol=1e-12)
    np.testing.assert_allclose(sum(r["dw"] for r in ranks), layer.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(sum(r["db"] for r in ranks), layer.bias.grad.numpy(), atol=1e-12)


def test_unused_parameters_are_refused_with_their_names(world):
    n, load, _ = world
    for rank in range(n):
        message = str(load("unused", rank)["message"])
        assert "parameters ['spare.weight', 'spare.bias'] took no part" in message


def test_a_trainer_on_n_ranks_is_one_run_that_resumes_on_any_number(world, tmp_path):
    """Trainer + DistributedSync + DistributedSampler: the weights and the reported train
    loss and accuracy equal one process's; only rank 0 writes; its checkpoint after 2 epochs
    resumes to 3 epochs on N ranks (in the worker) and on one process (here)."""
    n, load, out_dir = world
    two = worker.trainer_run(str(tmp_path / "two"), epochs=2)
    three = worker.trainer_run(str(tmp_path / "three"), epochs=3)
    shutil.copytree(out_dir / "run_after_2", tmp_path / "resumed_here")
    resumed_here = worker.trainer_run(str(tmp_path / "resumed_here"), epochs=3, resume=True)
    assert max_difference(resumed_here, three) < 1e-12
    for rank in range(n):
        assert max_difference(dict(load("trainer", rank)), two) < 1e-12
        assert max_difference(dict(load("resumed", rank)), three) < 1e-12
    lines = [json.loads(line) for line in (out_dir / "run" / "metrics.jsonl").open()]
    epochs = [line["train_loss"] for line in lines if line["kind"] == "epoch"]
    np.testing.assert_allclose(epochs, three["train_loss"], rtol=0, atol=1e-12)
    assert sorted(p.name for p in out_dir.iterdir() if p.is_dir()) == ["run", "run_after_2"]


@pytest.mark.parametrize("scenario, expected", [
    ("raise", "[rank 1] ValueError: rank one broke at step 3"),
    ("mismatch", "parameter '0.weight' is (16, 5) float64 on rank 0 but parameter '0.weight' "
                 "is (17, 5) float64 on rank 1"),
    ("killed", "BAD TERMINATION"),
])
def test_a_failing_rank_stops_the_job_and_is_named(tmp_path, scenario, expected):
    done = launch_worker(2, scenario, tmp_path, timeout=30)
    assert done.returncode != 0
    assert expected in done.stdout + done.stderr


def test_a_world_of_one_process_needs_no_mpi():
    assert not dist.launched_under_mpi()
    assert (dist.get_rank(), dist.get_world_size(), dist.is_main()) == (0, 1, True)
    x = gk.tensor([1.0, 2.0])
    assert dist.all_reduce(x, op="mean") is x and x.tolist() == [1.0, 2.0]
    assert dist.all_gather([np.empty(2)], np.array([3.0, 4.0]))[0].tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match="op must be one of sum, mean, max, min, got 'prod'"):
        dist.all_reduce(x, op="prod")
    model = dist.DistributedDataParallel(worker.make_mlp(0))
    x, y = worker.data((5,))
    assert max_difference(worker.train(model, x, y), worker.train(worker.make_mlp(0), x, y)) == 0


def test_under_a_launcher_without_mpi4py_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PMI_RANK", "0")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(comm._state, "comm", None)
    with pytest.raises(ImportError, match=r"pip install 'gradkit\[distributed\]'"):
        dist.init()


def test_the_bundled_mpiexec_is_found_beside_python():
    assert launch.mpiexec_path() == os.path.join(os.path.dirname(sys.executable), "mpiexec")
    with pytest.raises(ValueError, match="nproc must be a positive integer, got 0"):
        launch.command(0, ["-c", "pass"])
    assert subprocess.run(launch.command(2, ["-c", "pass"]), timeout=30).returncode == 0
