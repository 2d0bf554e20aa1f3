"""Eval-mode forward of ResNet-20 (batch 128, float32): gradkit as trained, gradkit with its
BatchNorms folded into the convolutions (gradkit.nn.fuse), and PyTorch in eval mode under
no_grad, from the same weights; the frameworks take turns and the median is printed
(train_step.py prints the same rows after its training steps).

    python benchmarks/inference.py [--batch 128] [--repeats 7] [--threads 1]
"""

import argparse
import sys
from pathlib import Path

import torch

import gradkit as gk

sys.path.insert(0, str(Path(__file__).parent))
from train_step import time_eval  # noqa: E402  (the benchmarks folder is not a package)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    gk.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    times = time_eval(args.repeats, 2, batch=args.batch)
    for name, t in times.items():
        print(f"{name:14} {t * 1e3:8.1f} ms   {t / times['torch']:5.2f}× torch")


if __name__ == "__main__":
    main()
