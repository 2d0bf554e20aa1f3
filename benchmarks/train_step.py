"""One training step, gradkit against PyTorch on the same CPU, in one process.

A step is zero_grad, forward, cross-entropy, backward and an SGD momentum step, float32. The
two frameworks take turns of a few steps (so a busy machine slows both alike; the first step
of each turn is not timed, as the other framework's idle threads may still be spinning), the
first steps are warm-up, and the median of the rest is printed with the ratio gradkit /
PyTorch:

    python benchmarks/train_step.py                  # every model, and ResNet-20's eval
    python benchmarks/train_step.py --threads 1 2    # one table at 1 thread, one at 2
    python benchmarks/train_step.py --steps 15 --only resnet20 --no-eval
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
            shortcut (stride-2 subsampling and zero-padded channels, no parameters);
            resnet20_b32 and resnet20_b256 at batch 32 and 256
  resnet56  the same with 9 blocks per stage, batch 128

After the models, ResNet-20's eval-mode forward (no graph; gradkit as trained and with its
BatchNorms folded), and the achieved GFLOP/s of the ResNet-20 step (its convolutions' and
linear layer's FLOPs over the step time) against a 1024³ SGEMM at the same threads.
"""

import argparse
import copy
import os
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


def resnet(depth):
    """The builder of ResNet-depth for CIFAR (depth = 6n + 2: 3 stages of n basic blocks)."""
    blocks_per_stage = (depth - 2) // 6

    def build(nn, F):
        class BasicBlock(nn.Module):
            """relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)); option A when the shape
            changes."""

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

        class ResNet(nn.Module):
            def __init__(self, num_classes=10):
                super().__init__()
                self.conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)
                self.bn = nn.BatchNorm2d(16)
                blocks, cin = [], 16
                for cout, stride in ((16, 1), (32, 2), (64, 2)):
                    for i in range(blocks_per_stage):
                        blocks.append(BasicBlock(cin, cout, stride if i == 0 else 1))
                        cin = cout
                self.blocks = nn.Sequential(*blocks)
                self.pool = nn.AdaptiveAvgPool2d(1)
                self.fc = nn.Linear(64, num_classes)

            def forward(self, x):
                x = self.blocks(F.relu(self.bn(self.conv(x))))
                return self.fc(self.pool(x).flatten(1))

        return ResNet()

    return build


resnet20 = resnet(20)


# name: (builder, input shape of one sample, classes, batch)
MODELS = {
    "spiral": (spiral, (2,), 3, 300),
    "mlp": (mlp, (784,), 10, 256),
    "lenet5": (lenet5, (1, 28, 28), 10, 128),
    "resnet20": (resnet20, (3, 32, 32), 10, 128),
    "resnet20_b32": (resnet20, (3, 32, 32), 10, 32),
    "resnet20_b256": (resnet20, (3, 32, 32), 10, 256),
    "resnet56": (resnet(56), (3, 32, 32), 10, 128),
}


def setup(name, framework, seed=0, dtype=np.float32):
    """(step function, model) for one model in one framework, with torch's initial weights."""
    builder, shape, classes, batch = MODELS[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + shape).astype(dtype)
    y = rng.integers(0, classes, batch)
    torch.manual_seed(seed)
    reference = builder(torch.nn, torch.nn.functional)
    lib, nn, F, optim = FRAMEWORKS[framework]
    model = builder(nn, F)
    with lib.no_grad():
        for p, q in zip(model.parameters(), reference.parameters(), strict=True):
            p.copy_(lib.tensor(q.detach().numpy()))
    if dtype == np.float64:
        model.double()
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
    check_same_step(name)
    steps_ = {fw: setup(name, fw)[0] for fw in FRAMEWORKS}
    losses = {fw: float(step().item()) for fw, step in steps_.items()}
    if not np.isclose(losses["gradkit"], losses["torch"], rtol=1e-4):
        raise AssertionError(f"{name}: first losses differ: {losses}")
    return alternate(steps_, steps, warmup, clock)


def check_same_step(name):
    """One float64 step in both frameworks: the gradients agree to 1e-8 of their scale (in
    float32, rounding through 20-56 layers of BatchNorm moves them by up to a few percent at
    batch 32, too much to tell a wrong gradient by)."""
    models = {}
    for fw in FRAMEWORKS:
        step, models[fw] = setup(name, fw, dtype=np.float64)
        step()
    for p, q in zip(models["gradkit"].parameters(), models["torch"].parameters()):
        expected = q.grad.numpy()
        if np.abs(p.grad.numpy() - expected).max() > 1e-8 * np.abs(expected).max():
            raise AssertionError(f"{name}: first gradients differ for a {q.shape} parameter")


def alternate(steps_, steps, warmup, clock=time.perf_counter, turn=3):
    """{framework: median seconds} of ``steps`` calls of each step function, the frameworks
    taking turns of ``turn`` timed calls (a busy machine slows both alike), after ``warmup -
    1`` more calls each (the caller made the first). Each turn starts with one untimed call:
    after its own call a framework's idle threads keep spinning for a while (PyTorch's OpenMP
    workers), and that first call of the other pays for it."""
    for _ in range(warmup - 1):
        for step in steps_.values():
            step()
    times = {fw: [] for fw in steps_}
    while len(times[next(iter(times))]) < steps:
        for fw, step in steps_.items():
            step()
            for _ in range(min(turn, steps - len(times[fw]))):
                start = clock()
                step()
                times[fw].append(clock() - start)
    return {fw: statistics.median(t) for fw, t in times.items()}


def _peak_rss_bytes():
    """The process's peak resident size (VmHWM; getrusage's ru_maxrss would carry over the
    parent's peak through fork and exec)."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


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
    peak = _peak_rss_bytes() - before
    return peak, traced


def step_flops(name):
    """Floating-point operations of one training step of a model, from its convolutions and
    linear layers (forward: 2·MACs; backward: 2·MACs for dW and 2·MACs for dx, except the
    first layer, whose input needs no gradient); counted on the PyTorch twin with hooks."""
    builder, shape, _, batch = MODELS[name]
    model, macs = builder(torch.nn, torch.nn.functional), []

    def count(module, inputs, out):
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            macs.append(out.numel() * module.in_channels // module.groups * kh * kw)
        elif isinstance(module, torch.nn.Linear):
            macs.append(out.numel() * module.in_features)

    for module in model.modules():
        module.register_forward_hook(count)
    with torch.no_grad():
        model(torch.zeros((batch,) + shape))
    return 2 * (3 * sum(macs) - macs[0])


def sgemm_peak(size=1024, repeats=5):
    """GFLOP/s of a float32 size³ product through gradkit's own threading (row blocks on the
    op threads, one BLAS thread each), the best of ``repeats``: the ceiling of a step's GEMMs."""
    from gradkit.ops import parallel

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size)).astype(np.float32) for _ in range(2))
    parallel.matmul(a, b)
    best = min(_timed(lambda: parallel.matmul(a, b)) for _ in range(repeats))
    return 2 * size ** 3 / best / 1e9


def _timed(fn, clock=time.perf_counter):
    start = clock()
    fn()
    return clock() - start


def time_eval(steps, warmup, clock=time.perf_counter, batch=None):
    """Median eval-mode forward times (s) of ResNet-20 (batch 128 unless given) under no_grad:
    gradkit as trained, gradkit with its BatchNorms folded into the convolutions (what
    `gradkit eval` and `predict` run), and PyTorch, from the same weights."""
    from gradkit.nn.fuse import fuse_conv_bn

    _, shape, _, default_batch = MODELS["resnet20"]
    batch = batch or default_batch
    x = np.random.default_rng(0).standard_normal((batch,) + shape).astype(np.float32)
    _, plain = setup("resnet20", "gradkit")
    _, twin = setup("resnet20", "torch")
    plain.eval(), twin.eval()
    fused = fuse_conv_bn(copy.deepcopy(plain), x[:1])
    xg, xt = gk.tensor(x), torch.tensor(x)
    runs = {"gradkit": lambda: plain(xg), "gradkit fused": lambda: fused(xg),
            "torch": lambda: twin(xt)}
    with gk.no_grad(), torch.no_grad():
        expected = twin(xt).numpy()
        for label, run in runs.items():
            np.testing.assert_allclose(run().numpy(), expected, rtol=1e-3, atol=1e-3,
                                       err_msg=label)
        return alternate(runs, steps, warmup, clock)


def table(args, threads):
    """One table: every model's step (and ResNet-20's eval forward) at ``threads``."""
    if threads:
        gk.set_num_threads(threads)  # gradkit's op threads (BLAS: one per call)
        torch.set_num_threads(threads)
    clock = time.process_time if args.cpu_time else time.perf_counter
    print(f"\ngradkit: {gk.threads.describe()}; torch {torch.get_num_threads()} threads; "
          f"{'CPU' if args.cpu_time else 'wall'} time, median of {args.steps} steps")
    print(f"{'model':14} {'batch':>5} {'gradkit ms':>11} {'torch ms':>9} {'ratio':>6}")
    times = {}
    for name in args.only:
        t = times[name] = time_pair(name, args.steps, args.warmup, clock)
        print(f"{name:14} {MODELS[name][3]:5d} {t['gradkit'] * 1e3:11.1f} "
              f"{t['torch'] * 1e3:9.1f} {t['gradkit'] / t['torch']:6.2f}", flush=True)
    if args.eval:
        t = time_eval(args.steps, args.warmup, clock)
        for label in ("gradkit", "gradkit fused"):
            print(f"{'resnet20 eval' if label == 'gradkit' else '  BN folded':14} "
                  f"{MODELS['resnet20'][3]:5d} {t[label] * 1e3:11.1f} {t['torch'] * 1e3:9.1f} "
                  f"{t[label] / t['torch']:6.2f}", flush=True)
    if "resnet20" in times and not args.cpu_time:
        flops, peak = step_flops("resnet20"), sgemm_peak()
        rate = {fw: flops / t / 1e9 for fw, t in times["resnet20"].items()}
        print(f"resnet20 step: {flops / 1e9:.1f} GFLOP; gradkit {rate['gradkit']:.0f} GFLOP/s "
              f"= {100 * rate['gradkit'] / peak:.0f}% of the SGEMM peak ({peak:.0f} GFLOP/s, "
              f"1024³ at these threads), torch {rate['torch']:.0f} GFLOP/s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--steps", type=int, default=9, help="timed steps per framework")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="*", default=[None],
                        help="threads of both frameworks, one table per count (default: each "
                             "framework's own default)")
    parser.add_argument("--cpu-time", action="store_true", help="time the process's CPU "
                        "time (steadier on a busy machine; meaningful with --threads 1 only)")
    parser.add_argument("--no-eval", dest="eval", action="store_false",
                        help="leave out ResNet-20's eval-mode forward")
    parser.add_argument("--memory", action="store_true", help="peak memory of ResNet-20")
    parser.add_argument("--peak", nargs=2, metavar=("MODEL", "FRAMEWORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak:
        if args.threads[0]:
            gk.set_num_threads(args.threads[0])
            torch.set_num_threads(args.threads[0])
        print(*peak_memory(*args.peak))
        return
    print(f"numpy {np.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs, float32")
    for threads in args.threads:
        table(args, threads)
    if args.memory:
        for threads in args.threads:
            flag = ["--threads", str(threads)] if threads else []
            for fw in FRAMEWORKS:
                out = subprocess.run([sys.executable, __file__, "--peak", "resnet20", fw, *flag],
                                     capture_output=True, text=True, check=True).stdout.split()
                peak = f"{int(out[0]) / 2**20:.0f} MiB above the model and data"
                if out[1] != "None":
                    peak += f" (NumPy's allocations: {int(out[1]) / 2**20:.0f} MiB)"
                print(f"resnet20 peak memory, {fw}, {threads or 'default'} threads: {peak}")


if __name__ == "__main__":
    main()
