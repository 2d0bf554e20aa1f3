"""Per-op overhead and a tiny training step: gradkit vs PyTorch in the same process.

    python benchmarks/overhead.py [--repeats 7]

1. A chain of 10,000 tiny ops (10-element tensors: mul, add, tanh, sub in turn), forward then
   backward: this measures framework overhead, not arithmetic.
2. One step of the cs231n spiral net (2-100-3, batch 300): forward, softmax cross-entropy
   written with log_softmax and indexing, backward, plain SGD update.

Prints the median milliseconds of each and the ratio gradkit / PyTorch (lower is better),
twice: as the process is, then after ``gc.freeze()``. gradkit's graph nodes are Python
objects, so Python's cyclic garbage collector scans them, and each of its full collections
also walks every other long-lived object in the process: importing torch alone adds ~140,000
of them, which makes gradkit's forward ~50% slower in this benchmark and in no real gradkit
program that does not import torch. ``gc.freeze()`` after the imports takes those objects out
of the scans (a program holding many long-lived objects can do the same).
"""

import gc

import argparse
import statistics
import time

import numpy as np
import torch

import gradkit as gk

N_OPS = 10_000


def tiny_chain(lib, x):
    y = x
    for i in range(N_OPS // 4):
        y = (y * 0.999 + 0.001).tanh() - 0.0001
    y.sum().backward()


def mlp_step(lib, params, x, y, n):
    w1, b1, w2, b2 = params
    scores = (x @ w1 + b1).relu() @ w2 + b2
    loss = -scores.log_softmax(dim=1)[lib.arange(n), y].mean()
    for p in params:
        p.grad = None
    loss.backward()
    with lib.no_grad():
        for p in params:
            p -= 0.5 * p.grad


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    small = rng.standard_normal(10).astype(np.float32)
    gx = gk.tensor(small, requires_grad=True)
    tx = torch.tensor(small, requires_grad=True)

    n = 300
    data = rng.standard_normal((n, 2)).astype(np.float32)
    labels = rng.integers(0, 3, n)
    init = [rng.standard_normal((2, 100)) * 0.01, np.zeros(100), rng.standard_normal((100, 3))
            * 0.01, np.zeros(3)]
    gparams = [gk.tensor(a.astype(np.float32), requires_grad=True) for a in init]
    tparams = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in init]
    gdata, tdata = gk.tensor(data), torch.tensor(data)
    glabels, tlabels = gk.tensor(labels), torch.tensor(labels)

    cases = [
        (f"{N_OPS} tiny ops, fwd+bwd", lambda: tiny_chain(gk, gx), lambda: tiny_chain(torch, tx)),
        ("spiral MLP step 2-100-3, b=300", lambda: mlp_step(gk, gparams, gdata, glabels, n),
         lambda: mlp_step(torch, tparams, tdata, tlabels, n)),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    print(f"{'case':46s} {'gradkit ms':>11s} {'torch ms':>9s} {'ratio':>6s}")
    for label in ("", ", gc frozen"):
        if label:
            gc.freeze()
        for name, gk_fn, torch_fn in cases:
            gk_fn(), torch_fn()  # warm up
            g_times, t_times = [], []
            for _ in range(args.repeats):  # interleave so both see the same machine state
                g_times.append(median_ms(gk_fn, 1))
                t_times.append(median_ms(torch_fn, 1))
            g, t = statistics.median(g_times), statistics.median(t_times)
            print(f"{name + label:46s} {g:11.2f} {t:9.2f} {g / t:6.2f}")


if __name__ == "__main__":
    main()
