"""divergence_warnings: what the end of a training history says about a run that failed.

    divergence_warnings(trainer.state.history, num_classes=10, lr=100.0)
    # ['diverged: the final train loss 1.5e+07 is far above chance level ln(10) = 2.303 ...']

Rules, checked on the last epoch record (each gives one line; a healthy run gives none):

* a non-finite train or validation loss;
* for a classifier (``num_classes`` C ≥ 2), a train loss above 1.5·ln(C): a model that
  predicts the uniform distribution scores ln(C), so a loss well above it means the model
  is worse than guessing (the lr 100 run ends at 1.5e7 against ln(10) = 2.3);
* a train loss that grew more than tenfold since the first epoch;
* after two epochs or more, an accuracy (validation, else train) no better than chance:
  at most 1/C + 0.02.

Measured (one-epoch runs, the most borderline point since the epoch-1 average includes the
untrained start): the main job (LeNet-5, MNIST-5k) ends epoch 1 at 1.65 = 0.71·ln(10), the
digits MLP of examples/configs at 1.50 = 0.65·ln(10), the README's spiral MLP at 0.85 =
0.77·ln(3); all fall from there (to 98-99% test accuracy). The lr-100 spiral run ends at
5e7 after one epoch and 1e19 after two, its validation accuracy at chance. The 1.5·ln(C)
line sits between the two kinds by a factor of two on the healthy side.
"""

import math


def _fmt(x):
    return f"{x:.4g}"


def divergence_warnings(history, num_classes=None, lr=None):
    """Warning lines for a history of epoch records (see the module docstring)."""
    if not history:
        return []
    first, last = history[0], history[-1]
    fix = (f"; try a lower learning rate (now {lr:g}; e.g. {lr / 10:g})" if lr else
           "; try a lower learning rate")
    lines = []
    for key in ("train_loss", "val_loss"):
        value = last.get(key)
        if value is not None and not math.isfinite(value):
            lines.append(f"diverged: the final {key.replace('_', ' ')} is {value}{fix}")
    loss = last.get("train_loss")
    finite = loss is not None and math.isfinite(loss)
    if finite and num_classes and num_classes >= 2 and loss > 1.5 * math.log(num_classes):
        lines.append(f"diverged: the final train loss {_fmt(loss)} is far above chance level "
                     f"ln({num_classes}) = {math.log(num_classes):.3f} (what guessing "
                     f"uniformly scores){fix}")
    start = first.get("train_loss")
    if finite and len(history) > 1 and start is not None and math.isfinite(start) \
            and start > 0 and loss > 10 * start:
        lines.append(f"diverged: the train loss grew from {_fmt(start)} (epoch 1) to "
                     f"{_fmt(loss)}{fix}")
    acc_key = "val_accuracy" if "val_accuracy" in last else "train_accuracy"
    acc = last.get(acc_key)
    if num_classes and len(history) >= 2 and acc is not None and acc <= 1 / num_classes + 0.02:
        lines.append(f"no learning: the final {acc_key.replace('_', ' ')} {acc:.1%} is chance "
                     f"level for {num_classes} classes ({1 / num_classes:.1%}){fix}")
    return lines
