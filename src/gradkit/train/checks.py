"""Input checks the Trainer makes before training on something that cannot work.

    check_loader(train_loader)   # ValueError when it yields no batches
    check_pair(output, y)        # ValueError when float targets' shape differs from the output's
"""

from gradkit.tensor import Tensor


def check_loader(loader):
    """Refuse a train loader with no batches (an iterable without a length is checked by the
    Trainer after its first epoch instead)."""
    try:
        batches = len(loader)
    except TypeError:
        return
    if batches == 0:
        raise ValueError(f"Trainer: the train loader yields no batches ({loader_sizes(loader)}); "
                         "give it more samples, a smaller batch_size, or drop_last=False")


def loader_sizes(loader):
    """'N samples, batch_size B, drop_last D' of a loader, for messages."""
    dataset, batch = getattr(loader, "dataset", None), getattr(loader, "batch_size", None)
    n = len(dataset) if dataset is not None and hasattr(dataset, "__len__") else "?"
    return f"{n} samples, batch_size {batch}, drop_last {getattr(loader, 'drop_last', '?')}"


def check_pair(output, target):
    """Refuse float targets whose shape differs from the output's (a regression pair that a
    loss would broadcast); class-index targets (ints) have their own shape rules."""
    y = target._data if isinstance(target, Tensor) else None
    if y is None or y.dtype.kind != "f" or tuple(output.shape) == y.shape:
        return
    raise ValueError(f"Trainer: the model's output has shape {tuple(output.shape)} but the "
                     f"float targets have shape {y.shape}; a regression loss would broadcast "
                     "them against each other. Reshape one to match (e.g. y.reshape(-1, 1) or "
                     "output.squeeze(1))")
