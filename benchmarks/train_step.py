"""One training step, gradkit against PyTorch on the same CPU, in one process.

A step is zero_grad, forward, cross-entropy, backward and an SGD momentum step, float32. The
two frameworks' steps alternate (so a busy machine slows both alike), the first steps are
warm-up, and the median of the rest is printed with the ratio gradkit / PyTorch:

    python benchmarks/train_step.py                  # all four models
    python benchmarks/train_step.py --steps 15 --only resnet20
    python benchmarks/train_step.py --memory         # also the peak memory of ResNet-20
    python benchmarks/train_step.py --threads 1 --cpu-time   # single-threaded, CPU time
    GRADKIT_CONV_ALGO=im2col python benchmarks/train_step.py # force a conv algorithm

Both frameworks build their model from the same code below (the layer names are PyTorch's in
both), start from the same weights and see the same batch; the first step's losses and
gradients are checked to agree, so the timings compare the same computation.

On a machine shared with other work, use --threads 1 --cpu-time: with two frameworks' idle
BLAS/OpenMP threads spinning in one process and other processes on the cores, multi-threaded
wall times swing by 2–5× (measured on a 2-core VM under load: gradkit's ResNet-20 step took
1.4 s single-threaded and 4–11 s with OpenBLAS's default 2 threads; PyTorch's 0.9 s and
1.6–2.7 s).

Models:
  spiral    2-100-3 MLP with ReLU, batch 300 (the cs231n spiral net)
  mlp       784-1024-1024-10 MLP with ReLU, batch 256
  lenet5    LeNet-5 on 1×28×28, batch 128, in its modern form: ReLU and 2×2 max pooling
            (the 1998 original used scaled tanh and trainable subsampling)
  resnet20  ResNet-20 for CIFAR (He et al. 2016, §4.2) on 3×32×32, batch 128: 3 stages of
            3 basic blocks with 16/32/64 channels, BatchNorm, and the paper's option-A
            shortcut (stride-2 subsampling and zero-padded channels, no parameters)
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import torch

import gradkit as gk
import gradkit.nn.functional as gF
from gradkit import nn as gnn
from gradkit import optim as goptim

FRAMEWORKS = {"gradkit": (gk, gnn, gF, goptim), "torch": (torch, torch.nn, torch.nn.functional,
                                                         torch.optim)}


def spiral(nn, F):
    return nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))


def mlp(nn, F):
    return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                         nn.Linear(1024, 10))


def lenet5(nn, F):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def resnet20(nn, F):
    class BasicBlock(nn.Module):
        """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)); option A when the shape changes."""

        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.extra = (cout - cin) // 2 if stride != 1 or cin != cout else None

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            shortcut = x if self.extra is None else F.pad(
                x[:, :, ::2, ::2], (0, 0, 0, 0, self.extra, self.extra))
            return F.relu(out + shortcut)

    class ResNet20(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(16)
            blocks, cin = [], 16
            for cout, stride in ((16, 1), (32, 2), (64, 2)):
                for i in range(3):
                    blocks.append(BasicBlock(cin, cout, stride if i == 0 else 1))
                    cin = cout
            self.blocks = nn.Sequential(*blocks)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(64, num_classes)

        def forward(self, x):
            x = self.blocks(F.relu(self.bn(self.conv(x))))
            return self.fc(self.pool(x).flatten(1))

    return ResNet20()


# name: (builder, input shape of one sample, classes, batch)
MODELS = {
    "spiral": (spiral, (2,), 3, 300),
    "mlp": (mlp, (784,), 10, 256),
    "lenet5": (lenet5, (1, 28, 28), 10, 128),
    "resnet20": (resnet20, (3, 32, 32), 10, 128),
}


def setup(name, framework, seed=0):
    """(step function, model) for one model in one framework, with torch's initial weights."""
    builder, shape, classes, batch = MODELS[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    y = rng.integers(0, classes, batch)
    torch.manual_seed(seed)
    reference = builder(torch.nn, torch.nn.functional)
    lib, nn, F, optim = FRAMEWORKS[framework]
    model = builder(nn, F)
    with lib.no_grad():
        for p, q in zip(model.parameters(), reference.parameters(), strict=True):
            p.copy_(lib.tensor(q.detach().numpy()))
    xs, ys = lib.tensor(x), lib.tensor(y)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(xs), ys)
        loss.backward()
        opt.step()
        return loss

    return step, model


def time_pair(name, steps, warmup, clock=time.perf_counter):
    """Median step times (s) of gradkit and torch, steps interleaved, after checking that the
    first step gives both the same loss and gradients."""
    steps_, models = {}, {}
    for fw in FRAMEWORKS:
        steps_[fw], models[fw] = setup(name, fw)
    losses = {fw: float(step().item()) for fw, step in steps_.items()}
    if not np.isclose(losses["gradkit"], losses["torch"], rtol=1e-4):
        raise AssertionError(f"{name}: first losses differ: {losses}")
    for p, q in zip(models["gradkit"].parameters(), models["torch"].parameters()):
        # float32 rounding through 20 layers of BatchNorm and ReLU moves gradients by ~1e-3
        # of their scale (in float64 the two agree to 1e-12); a wrong gradient is off by O(1)
        expected = q.grad.numpy()
        if np.abs(p.grad.numpy() - expected).max() > 0.02 * np.abs(expected).max():
            raise AssertionError(f"{name}: first gradients differ for a {q.shape} parameter")
    return alternate(steps_, steps, warmup, clock)


def alternate(steps_, steps, warmup, clock=time.perf_counter):
    """{framework: median seconds} of ``steps`` calls of each step function, the frameworks
    alternating (a busy machine slows both alike), after ``warmup - 1`` more calls each (the
    caller made the first)."""
    for _ in range(warmup - 1):
        for step in steps_.values():
            step()
    times = {fw: [] for fw in steps_}
    for _ in range(steps):
        for fw, step in steps_.items():
            start = clock()
            step()
            times[fw].append(clock() - start)
    return {fw: statistics.median(t) for fw, t in times.items()}


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_memory(name, framework, steps=3):
    """How far a few training steps raise the process's peak RSS above its size once the
    model and the batch exist (bytes), and for gradkit the peak of NumPy's allocations during
    the steps as tracemalloc sees them. Run in a fresh process, so that the peak is its own."""
    step, _ = setup(name, framework)
    before = _rss_bytes()
    if framework == "gradkit":
        tracemalloc.start()
    for _ in range(steps):
        step()
    traced = None
    if framework == "gradkit":
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    return peak, traced


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--steps", type=int, default=9, help="timed steps per framework")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP threads of both frameworks "
                        "(default: each framework's own default; needs threadpoolctl)")
    parser.add_argument("--cpu-time", action="store_true", help="time the process's CPU "
                        "time (steadier on a busy machine; meaningful with --threads 1 only)")
    parser.add_argument("--memory", action="store_true", help="peak memory of ResNet-20")
    parser.add_argument("--peak", nargs=2, metavar=("MODEL", "FRAMEWORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        gk.set_num_threads(args.threads)  # gradkit's op threads (BLAS: one per call)
        torch.set_num_threads(args.threads)
    if args.peak:
        print(*peak_memory(*args.peak))
        return
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i['internal_api']} {i['num_threads']} threads"
                         for i in threadpool_info())
    except ImportError:
        blas = "threads unknown without threadpoolctl"
    print(f"numpy {np.__version__} ({blas}), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {os.cpu_count()} CPUs, float32, "
          f"median of {args.steps} steps, {'CPU' if args.cpu_time else 'wall'} time")
    print(f"{'model':10} {'batch':>5} {'gradkit ms':>11} {'torch ms':>9} {'ratio':>6}")
    for name in args.only:
        t = time_pair(name, args.steps, args.warmup,
                      time.process_time if args.cpu_time else time.perf_counter)
        print(f"{name:10} {MODELS[name][3]:5d} {t['gradkit'] * 1e3:11.1f} "
              f"{t['torch'] * 1e3:9.1f} {t['gradkit'] / t['torch']:6.2f}", flush=True)
    if args.memory:
        threads = ["--threads", str(args.threads)] if args.threads else []
        for fw in FRAMEWORKS:
            out = subprocess.run([sys.executable, __file__, "--peak", "resnet20", fw, *threads],
                                 capture_output=True, text=True, check=True).stdout.split()
            peak = f"{int(out[0]) / 2**20:.0f} MiB above the model and data"
            if out[1] != "None":
                peak += f" (NumPy's allocations: {int(out[1]) / 2**20:.0f} MiB)"
            print(f"resnet20 peak memory, {fw}: {peak}")


if __name__ == "__main__":
    main()
