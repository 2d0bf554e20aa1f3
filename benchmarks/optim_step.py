"""One optimizer update step: gradkit vs PyTorch in the same process.

    python benchmarks/optim_step.py [--repeats 15]

10 float32 parameter tensors totalling 10,000,000 values (shapes of a small convnet plus a
wide MLP), fixed random gradients; each case times ``opt.step()`` alone (the gradients are set
once). Both libraries use their default threads: PyTorch's intra-op pool
(``torch.get_num_threads()``) and the OpenBLAS pool behind SciPy's BLAS, which gradkit uses for
its one-pass ``axpy`` updates; the remaining gradkit ufuncs are single-threaded NumPy. The two
libraries' steps alternate, so load on the machine hits both alike.

Prints the median milliseconds of each and the ratio gradkit / PyTorch (lower is better).
"""

import argparse
import statistics
import time

import numpy as np
import torch

import gradkit as gk
from gradkit import optim

SHAPES = [(2_000, 1_500), (1_500, 1_000), (1_000, 1_000), (500, 500, 4), (256, 256, 3, 3),
          (250, 400, 3, 3), (500, 1_000), (1_000_000,), (500_000,), (10_176,)]

CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)),
    ("Adagrad", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("Adam", dict(lr=1e-3)),
    ("Adam", dict(lr=1e-3, amsgrad=True)),
    ("AdamW", dict(lr=1e-3, weight_decay=1e-2)),
]


def make_params(lib, arrays, grads):
    params = []
    for a, g in zip(arrays, grads):
        p = lib.tensor(a.copy(), requires_grad=True)
        p.grad = lib.tensor(g)
        params.append(p)
    return params


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    assert sum(int(np.prod(s)) for s in SHAPES) == 10_000_000
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in SHAPES]
    grads = [rng.standard_normal(s, dtype=np.float32) * 0.01 for s in SHAPES]

    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy "
          f"{np.__version__}; 10 tensors, 10M float32 values; median of {args.repeats}")
    print(f"{'optimizer':62s} {'gradkit ms':>10s} {'torch ms':>9s} {'ratio':>6s}")
    for name, kwargs in CASES:
        gk_opt = getattr(optim, name)(make_params(gk, arrays, grads), **kwargs)
        torch_opt = getattr(torch.optim, name)(make_params(torch, arrays, grads), **kwargs)
        gk_opt.step()  # create the state (and scratch) before timing
        torch_opt.step()
        times = {"gk": [], "torch": []}
        for _ in range(args.repeats):
            for key, opt in (("gk", gk_opt), ("torch", torch_opt)):
                start = time.perf_counter()
                opt.step()
                times[key].append((time.perf_counter() - start) * 1e3)
        ours, theirs = statistics.median(times["gk"]), statistics.median(times["torch"])
        label = name + "(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"
        print(f"{label:62s} {ours:10.1f} {theirs:9.1f} {ours / theirs:6.2f}")


if __name__ == "__main__":
    main()
