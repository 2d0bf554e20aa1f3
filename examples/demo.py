"""The cs231n spiral: a 2-layer net (100 ReLU units) trained full-batch with plain gradient
descent on gradkit's autograd. Runs in a few seconds."""

import numpy as np

import gradkit as gk


def spiral(points_per_class=100, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((points_per_class * classes, 2), np.float32)
    y = np.zeros(points_per_class * classes, np.int64)
    for c in range(classes):
        i = slice(points_per_class * c, points_per_class * (c + 1))
        r = np.linspace(0.0, 1, points_per_class)
        t = np.linspace(c * 4, (c + 1) * 4, points_per_class) + rng.standard_normal(
            points_per_class) * 0.2
        x[i] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[i] = c
    return gk.tensor(x), gk.tensor(y)


def main():
    gk.manual_seed(0)
    x, y = spiral()
    n = len(y)
    w1 = (gk.randn(2, 100) * 0.01).requires_grad_()
    b1 = gk.zeros(100, requires_grad=True)
    w2 = (gk.randn(100, 3) * 0.01).requires_grad_()
    b2 = gk.zeros(3, requires_grad=True)
    params, lr, reg = [w1, b1, w2, b2], 1.0, 1e-3
    for step in range(10001):
        scores = (x @ w1 + b1).relu() @ w2 + b2
        data_loss = -scores.log_softmax(dim=1)[gk.arange(n), y].mean()
        loss = data_loss + 0.5 * reg * ((w1 * w1).sum() + (w2 * w2).sum())
        for p in params:
            p.grad = None
        loss.backward()
        with gk.no_grad():
            for p in params:
                p -= lr * p.grad
        if step % 2000 == 0:
            print(f"step {step:5d}  loss {loss.item():.4f}")
    accuracy = (scores.argmax(dim=1) == y).float().mean().item()
    print(f"training accuracy: {accuracy:.2%}")


if __name__ == "__main__":
    main()
