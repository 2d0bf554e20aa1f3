"""conv2d forward and forward+backward, gradkit against torch.nn.functional.conv2d, on the
layer shapes of LeNet-5 (batch 128, 1×28×28) and ResNet-20 (batch 128, 3×32×32), float32.

    python benchmarks/conv_layers.py                 # each framework's default threads
    python benchmarks/conv_layers.py --threads 1 --cpu-time
    python benchmarks/conv_layers.py --threads 1 --cpu-time --algorithm winograd

--algorithm forces gradkit's convolution algorithm where it applies (im2col elsewhere; see
gradkit/ops/conv_select.py); the default, auto, is what a model gets.

The two frameworks alternate, two calls each, the first untimed (after its calls PyTorch's
OpenMP threads keep spinning for a while, which would slow gradkit's next call at 2 threads);
the median of --repeats calls is printed with the ratio gradkit / PyTorch. Like a network's first layer, the first conv of each model does not
compute the input gradient. --cpu-time measures the process's CPU time instead of the wall
clock: steadier on a shared machine, meaningful with --threads 1 only.
"""

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as TF

import gradkit as gk
from gradkit.ops import conv_select
from gradkit.ops.conv import conv2d

# name, (N, C, H, W), out channels, kernel, stride, padding, input needs grad
LAYERS = [
    ("lenet conv1", (128, 1, 28, 28), 6, 5, 1, 2, False),
    ("lenet conv2", (128, 6, 14, 14), 16, 5, 1, 0, True),
    ("resnet20 stem", (128, 3, 32, 32), 16, 3, 1, 1, False),
    ("resnet20 16→16", (128, 16, 32, 32), 16, 3, 1, 1, True),
    ("resnet20 16→32 /2", (128, 16, 32, 32), 32, 3, 2, 1, True),
    ("resnet20 32→32", (128, 32, 16, 16), 32, 3, 1, 1, True),
    ("resnet20 32→64 /2", (128, 32, 16, 16), 64, 3, 2, 1, True),
    ("resnet20 64→64", (128, 64, 8, 8), 64, 3, 1, 1, True),
    ("1×1 32→64 /2", (128, 32, 16, 16), 64, 1, 2, 0, True),
]


def calls(shape, out_channels, k, stride, padding, needs_input_grad, seed=0):
    """The four timed calls: (gradkit, torch) × (forward, forward+backward)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((out_channels, shape[1], k, k), dtype=np.float32) * 0.1
    gx, gw = gk.tensor(x, requires_grad=needs_input_grad), gk.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=needs_input_grad), torch.tensor(w, requires_grad=True)
    upstream = rng.standard_normal(conv2d(gx, gw, None, stride, padding).shape, dtype=np.float32)
    g_up, t_up = gk.tensor(upstream), torch.tensor(upstream)

    def gk_forward():
        with gk.no_grad():
            conv2d(gx, gw, None, stride, padding)

    def torch_forward():
        with torch.no_grad():
            TF.conv2d(tx, tw, None, stride, padding)

    def gk_step():
        gx.grad = gw.grad = None
        conv2d(gx, gw, None, stride, padding).backward(g_up)

    def torch_step():
        tx.grad = tw.grad = None
        TF.conv2d(tx, tw, None, stride, padding).backward(t_up)

    return {"gk fwd": gk_forward, "torch fwd": torch_forward, "gk f+b": gk_step,
            "torch f+b": torch_step}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, help="threads of both frameworks")
    parser.add_argument("--cpu-time", action="store_true", help="time.process_time")
    parser.add_argument("--algorithm", choices=conv_select.ALGORITHMS, default="auto",
                        help="gradkit's convolution algorithm (default: auto)")
    args = parser.parse_args()
    conv_select.set_conv_algorithm(args.algorithm)
    if args.threads:
        gk.set_num_threads(args.threads)  # gradkit's op threads (BLAS: one per call)
        torch.set_num_threads(args.threads)
    clock = time.process_time if args.cpu_time else time.perf_counter
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"{'CPU' if args.cpu_time else 'wall'} time, median of {args.repeats}, ms, "
          f"gradkit algorithm {args.algorithm}")
    print(f"{'layer':20} {'gk fwd':>7} {'torch':>7} {'ratio':>5}   {'gk f+b':>7} {'torch':>7} "
          f"{'ratio':>5}")
    for name, *spec in LAYERS:
        fns = calls(*spec)
        for fn in fns.values():
            fn()
        times = {key: [] for key in fns}
        for _ in range(args.repeats):
            for key, fn in fns.items():
                fn()  # untimed: the other framework's idle threads may still be spinning
                start = clock()
                fn()
                times[key].append(clock() - start)
        m = {key: statistics.median(t) * 1e3 for key, t in times.items()}
        print(f"{name:20} {m['gk fwd']:7.1f} {m['torch fwd']:7.1f} "
              f"{m['gk fwd'] / m['torch fwd']:5.2f}   {m['gk f+b']:7.1f} {m['torch f+b']:7.1f} "
              f"{m['gk f+b'] / m['torch f+b']:5.2f}", flush=True)


if __name__ == "__main__":
    main()
