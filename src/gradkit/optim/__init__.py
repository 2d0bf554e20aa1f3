"""Optimizers and learning-rate schedules, with PyTorch's names, options and state layout.

    from gradkit import optim
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    loss.backward(); opt.step(); opt.zero_grad(); sched.step()
"""

from gradkit.optim.optimizer import Optimizer
from gradkit.optim.sgd import SGD
from gradkit.optim.adagrad import Adagrad
from gradkit.optim.rmsprop import RMSprop
from gradkit.optim.adam import Adam, AdamW
from gradkit.optim.lbfgs import LBFGS
from gradkit.optim.newton import Newton
from gradkit.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "LBFGS", "Newton",
           "lr_scheduler"]
