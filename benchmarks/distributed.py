"""Data parallel on one machine: 1 process × T threads against N ranks × 1 thread, global batch
fixed, with how much of the gradient all-reduce the buckets hide behind backward.

    python benchmarks/distributed.py                       # ResNet-20 and the MLP, 2 ranks
    python benchmarks/distributed.py --only mlp --steps 20 --ranks 2
    python benchmarks/distributed.py --timeline docs/distributed_timeline.png

For each model it prints the median step time of: one process with 1 BLAS thread, one
process with N threads, and N ranks with 1 thread each (DistributedDataParallel, batch B/N
per rank, under the bundled mpiexec); then, for the ranks, the time a step waits for the
all-reduce after backward (``wait``) and the share of the all-reduce time that overlapped
backward (``hidden`` = 1 − wait / the time any bucket was in flight), from DDP's timeline.
``--timeline`` draws rank 0's buckets of the last step against its backward (matplotlib).

The models are gradkit.models' ResNet-20 (3×32×32, batch 64) and a 784-1024-1024-10 MLP
(batch 256), on random data (the speed does not depend on it).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

MODELS = {"resnet20": ((3, 32, 32), 64), "mlp": ((784,), 256)}


def build(name):
    from gradkit import models, nn

    if name == "resnet20":
        return models.get_model("resnet20", num_classes=10)
    return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                         nn.Linear(1024, 10))


def measure(name, steps, ranks):
    """Step times (and DDP timelines under MPI) of this process; run by every rank."""
    import numpy as np

    import gradkit as gk
    import gradkit.distributed as dist
    from gradkit.nn import functional as F

    dist.init()
    world, rank = dist.get_world_size(), dist.get_rank()
    shape, batch = MODELS[name]
    gk.manual_seed(0)
    model = build(name)
    if world > 1:
        model = dist.DistributedDataParallel(dist.SyncBatchNorm.convert_sync_batchnorm(model))
    optimizer = gk.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    x = gk.tensor(rng.standard_normal((batch // world, *shape)).astype(np.float32))
    y = gk.tensor(rng.integers(0, 10, batch // world))
    times, waits, hidden, timeline = [], [], [], None
    for _ in range(steps + 2):
        dist.barrier()
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        backward = time.perf_counter()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
        if world > 1:
            spans = [(s, e) for _, s, e in model.timeline]
            last_launch = max(s for s, _ in spans)
            wait = max(e for _, e in spans) - last_launch
            waits.append(wait)
            hidden.append(1 - wait / _union(spans) if _union(spans) > 0 else 1.0)
            timeline = {"backward": backward - start, "end": times[-1],
                        "buckets": [(b, s - start, e - start) for b, s, e in model.timeline]}
    return {"times": times[2:], "waits": waits[2:], "hidden": hidden[2:],
            "timeline": timeline, "rank": rank, "buckets": getattr(model, "bucket_count", 0)}


def _union(spans):
    total, reach = 0.0, None
    for s, e in sorted(spans):
        if reach is None or s > reach:
            total, reach = total + e - s, e
        elif e > reach:
            total, reach = total + e - reach, e
    return total


def worker(name, steps, ranks, out):
    result = measure(name, steps, ranks)
    with open(f"{out}.{result['rank']}", "w") as f:
        json.dump(result, f)


def run(name, steps, ranks, threads):
    """Run this file as worker on ``ranks`` processes with ``threads`` BLAS threads each."""
    from gradkit.distributed import launch

    env = dict(os.environ, GRADKIT_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "result")
        argv = [__file__, "--worker", name, "--steps", str(steps), "--out", out]
        if ranks == 1:
            subprocess.run([sys.executable, *argv], env=env, check=True)
        else:
            launch.run(ranks, argv, env=env, check=True)
        results = [json.load(open(f"{out}.{r}")) for r in range(ranks)]
    step = statistics.median(max(r["times"][i] for r in results)
                             for i in range(len(results[0]["times"])))
    return step, results[0]


def draw(timeline, name, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2.6))
    ax.barh(-1, timeline["backward"] * 1e3, left=0, color="#ddd", height=0.6)
    ax.barh(-1, (timeline["end"] - timeline["backward"]) * 1e3,
            left=timeline["backward"] * 1e3, color="#999", height=0.6)
    for bucket, s, e in timeline["buckets"]:
        ax.barh(bucket, max((e - s) * 1e3, 0.4), left=s * 1e3, color="#3b7dd8", height=0.6)
        ax.text(s * 1e3 - 1, bucket, f"{(e - s) * 1e3:.1f} ms", ha="right", va="center",
                fontsize=8)
    ax.set_xlim(0, timeline["end"] * 1e3 * 1.02)
    ax.set_yticks([-1] + [b for b, _, _ in timeline["buckets"]],
                  ["forward, backward+step"] + [f"bucket {b}" for b, _, _ in
                                                 timeline["buckets"]])
    ax.invert_yaxis()
    ax.set_xlabel("ms since the step started (rank 0)")
    ax.set_title(f"{name}: each bucket's all-reduce (blue) against backward", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"timeline: {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(MODELS))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--timeline", metavar="PNG")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.steps, args.ranks, args.out)
    n = args.ranks
    print(f"{'model':9} {'1×1 thread':>11} {f'1×{n} threads':>12} {f'{n} ranks×1':>11} "
          f"{'speed-up':>9} {'wait/step':>10} {'hidden':>7}")
    for name in [args.only] if args.only else list(MODELS):
        one, _ = run(name, args.steps, 1, 1)
        threads, _ = run(name, args.steps, 1, n)
        ranks, rank0 = run(name, args.steps, n, 1)
        print(f"{name:9} {one * 1e3:9.1f}ms {threads * 1e3:10.1f}ms {ranks * 1e3:9.1f}ms "
              f"{one / ranks:8.2f}× {statistics.median(rank0['waits']) * 1e3:8.1f}ms "
              f"{statistics.median(rank0['hidden']):6.0%}   ({rank0['buckets']} buckets)")
        if args.timeline and name == (args.only or "resnet20"):
            draw(rank0["timeline"], name, args.timeline)


if __name__ == "__main__":
    main()
