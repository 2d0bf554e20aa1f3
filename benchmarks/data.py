"""How fast the data pipeline is, next to the training step it has to keep up with.

    python benchmarks/data.py [--tuned-malloc] [--batches 40] [--torch-threads 1]

For CIFAR-shaped (128×3×32×32) and MNIST-shaped (128×1×28×28) batches, with the usual
augmentation (RandomCrop with padding 4, horizontal flip, colour jitter), it prints:
- images/s of the augmentation alone, in the calling thread;
- images/s through the DataLoader (gather + augmentation + tensors, background threads),
  with an idle consumer;
- images/s of a training step (forward, backward, SGD) of LeNet-5 / ResNet-20 in PyTorch on
  the same CPU, the bar gradkit's own step aims at; the loader keeps up when its figure is
  higher;
- the time of those training steps fed by the loader against the same steps on a fixed
  batch: a ratio near 1 means the loader is not the bottleneck.
``--tuned-malloc`` raises glibc's mmap and trim thresholds first: NumPy's large temporaries
otherwise cost page faults on every allocation. PyTorch runs on ``--torch-threads`` threads
(default 1: on a small shared machine more threads than free cores make its step erratic).
"""

import argparse
import ctypes
import ctypes.util
import time

import numpy as np

from gradkit.data import ArrayDataset, DataLoader, transforms as T

BATCH = 128


def tune_malloc():
    """Keep freed NumPy buffers in the heap instead of returning them to the OS (glibc)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    m_trim_threshold, m_mmap_threshold = -1, -3
    return (libc.mallopt(m_mmap_threshold, 32 << 20) == 1 and
            libc.mallopt(m_trim_threshold, 128 << 20) == 1)


def pipeline(channels, size):
    """RandomCrop(size, padding=4) + RandomHorizontalFlip + ColorJitter (brightness, contrast,
    saturation 0.4 and hue 0.1 for colour images; brightness and contrast for grey ones)."""
    colour = (0.4, 0.4, 0.4, 0.1) if channels == 3 else (0.4, 0.4)
    name = f"crop {size} pad 4 + flip + ColorJitter{colour}"
    return name, T.Compose([T.RandomCrop(size, padding=4), T.RandomHorizontalFlip(),
                            T.ColorJitter(*colour)])


def best_rate(fn, images, repeats):
    """Images per second of the fastest of ``repeats`` runs of fn()."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return images / best


def lenet5(torch):
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def resnet20(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
            self.skip = (nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

        def forward(self, x):
            return torch.relu(self.body(x) + self.skip(x))

    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    for cin, cout, stride in ((16, 16, 1), (16, 32, 2), (32, 64, 2)):
        layers += [Block(cin, cout, stride), Block(cout, cout, 1), Block(cout, cout, 1)]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def training_steps(torch, model, batches):
    """Run one SGD step per (x, y) in batches; returns the seconds taken."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for x, y in batches:
        loss = loss_fn(model(torch.from_numpy(x.numpy())), torch.from_numpy(y.numpy()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def run(name, channels, size, n_batches, model_fn, steps, torch):
    rng = np.random.default_rng(0)
    n = BATCH * n_batches
    data = ArrayDataset(rng.random((n, channels, size, size), dtype=np.float32),
                        rng.integers(0, 10, n))
    recipe, tf = pipeline(channels, size)
    x = data.x[:BATCH]
    augment = best_rate(lambda: tf(x, generator=rng), BATCH, 20)

    def epoch(workers):
        loader = DataLoader(data, batch_size=BATCH, shuffle=True, transform=tf, seed=0,
                            num_workers=workers)
        return lambda: [None for _ in loader]

    loader_1 = best_rate(epoch(0), n, 3)
    loader_2 = best_rate(epoch(2), n, 3)
    print(f"{name} batches {BATCH}×{channels}×{size}×{size}: {recipe}")
    print(f"  augmentation alone, calling thread   {augment:10,.0f} images/s")
    print(f"  DataLoader, 1 background thread      {loader_1:10,.0f} images/s")
    print(f"  DataLoader, 2 background threads     {loader_2:10,.0f} images/s")
    if torch is None:
        return
    model = model_fn(torch)
    fixed = next(iter(DataLoader(data, batch_size=BATCH)))
    training_steps(torch, model, [fixed])  # warm-up
    alone = with_loader = float("inf")
    for _ in range(3):  # interleaved, best of three: the machine may be shared
        alone = min(alone, training_steps(torch, model, [fixed] * steps))
        fed = DataLoader(data, batch_size=BATCH, shuffle=True, transform=tf, seed=1)
        batches = (b for _, b in zip(range(steps), fed))
        with_loader = min(with_loader, training_steps(torch, model, batches))
    print(f"  PyTorch {model_fn.__name__} training step        {steps * BATCH / alone:10,.0f}"
          f" images/s")
    print(f"  the same steps fed by the loader: {with_loader / alone:.2f}× the time "
          f"(1.00 = the loader costs nothing)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuned-malloc", action="store_true")
    parser.add_argument("--batches", type=int, default=40, help="batches per epoch")
    parser.add_argument("--torch-threads", type=int, default=1)
    args = parser.parse_args()
    tuned = tune_malloc() if args.tuned_malloc else False
    try:
        import torch
        torch.set_num_threads(args.torch_threads)
    except ImportError:
        torch = None
    print(f"glibc malloc thresholds raised: {tuned}; torch threads: "
          f"{torch.get_num_threads() if torch else 'torch not installed'}")
    run("CIFAR-shaped", 3, 32, args.batches, resnet20, 3, torch)
    run("MNIST-shaped", 1, 28, args.batches, lenet5, 12, torch)


if __name__ == "__main__":
    main()
