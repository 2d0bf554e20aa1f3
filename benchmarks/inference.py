"""Eval-mode forward of ResNet-20 (batch 128, float32): gradkit as trained, gradkit with its
BatchNorms folded into the convolutions (gradkit.nn.fuse), and PyTorch in eval mode under
no_grad, from the same weights; the runs alternate and the median is printed.

    python benchmarks/inference.py [--batch 128] [--repeats 7] [--threads 1]
"""

import argparse
import copy
import statistics
import time

import numpy as np
import torch

import gradkit as gk
from gradkit.nn.fuse import fuse_conv_bn


def resnet20(framework):
    """benchmarks/train_step.py's ResNet-20, built in gradkit or in PyTorch (same names)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from train_step import FRAMEWORKS, MODELS

    return MODELS["resnet20"][0](*FRAMEWORKS[framework][1:3])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    gk.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    gk.manual_seed(0)
    plain = resnet20("gradkit").eval()
    x = np.random.default_rng(0).standard_normal((args.batch, 3, 32, 32)).astype(np.float32)
    twin = resnet20("torch").eval()
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in plain.state_dict().items()})
    fused = fuse_conv_bn(copy.deepcopy(plain), x[:1])
    xg, xt = gk.tensor(x), torch.tensor(x)
    runs = {"gradkit": lambda: plain(xg), "gradkit fused": lambda: fused(xg),
            "torch": lambda: twin(xt)}
    with gk.no_grad(), torch.no_grad():
        ref = twin(xt).numpy()
        for name, run in runs.items():
            np.testing.assert_allclose(np.asarray(run().numpy()), ref, rtol=1e-3, atol=1e-3,
                                       err_msg=name)
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                start = time.process_time()
                run()
                times[name].append(time.process_time() - start)
    base = statistics.median(times["torch"])
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"{name:14} {t * 1e3:8.1f} ms CPU   {t / base:5.2f}× torch")


if __name__ == "__main__":
    main()
