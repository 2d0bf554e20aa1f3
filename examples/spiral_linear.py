"""The cs231n notes' spiral (3 classes, 100 points each) with a linear softmax classifier.

Full-batch gradient descent on the softmax loss plus the L2 penalty ½·λ·‖W‖² (λ = 1e-3,
on the weights only, as in the notes), learning rate 1.0, 200 steps. A linear classifier
cannot separate spiral arms: it ends near 49% training accuracy. Runs in about a second.

    python examples/spiral_linear.py
"""

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import nn, optim
from gradkit.data import datasets


def main(steps=200, lr=1.0, reg=1e-3):
    gk.manual_seed(0)
    data = datasets.spiral()                       # x (300, 2), y (300,) in {0, 1, 2}
    x, y = gk.tensor(data.x), gk.tensor(data.y)
    model = nn.Linear(2, 3)
    with gk.no_grad():                             # the notes' init: W = 0.01·N(0, 1), b = 0
        model.weight.normal_(0.0, 0.01)
        model.bias.zero_()
    # SGD's weight_decay λ adds λ·W to the gradient: the gradient of ½·λ·‖W‖².
    opt = optim.SGD([{"params": [model.weight], "weight_decay": reg},
                     {"params": [model.bias]}], lr=lr)
    for step in range(steps):
        data_loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        data_loss.backward()
        opt.step()
        if step % 20 == 0:
            loss = data_loss.item() + 0.5 * reg * (model.weight ** 2).sum().item()
            print(f"step {step:4d}  loss {loss:.4f}")
    with gk.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    print(f"training accuracy: {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    main()
