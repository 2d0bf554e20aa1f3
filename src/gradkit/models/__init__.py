"""gradkit.models: the model zoo. Every model is built from gradkit.nn layers, with gradkit's
default initialization (He normal weights, zero biases), and returns logits.

    from gradkit import models
    model = models.get_model("resnet20", num_classes=10)   # or models.resnet20()
    print(models.describe(model))                            # resnet20: 269,722 parameters
    models.list_models()                                     # ['mlp', 'maxout_mlp', ...]

| name           | input                   | what                                          |
| -------------- | ----------------------- | --------------------------------------------- |
| mlp            | (N, in_features), (N, …)| Linear layers; dropout, BatchNorm, DropConnect |
| maxout_mlp     | (N, in_features), (N, …)| Maxout units (Goodfellow et al. 2013)         |
| lenet5         | (N, C, 28, 28) or 32×32 | LeNet-5, 61,706 parameters on MNIST           |
| alexnet_small  | (N, C, 32, 32)          | AlexNet's shape at CIFAR size, BatchNorm      |
| vgg_small      | (N, C, 32, 32)          | VGG's 3×3 stages at CIFAR size, BatchNorm     |
| resnet20/32/56 | (N, C, H, W)            | CIFAR ResNets (He et al. 2016): 0.27M/0.46M/0.85M |
| resnet18       | (N, C, H, W)            | ResNet-18 with a 3×3 stem for small images    |
| mnist1d_cnn    | (N, 40) or (N, 1, 40)   | the MNIST-1D paper's 1-D CNN                  |
"""

import difflib
import inspect

from gradkit.models._base import Model
from gradkit.models.lenet import lenet5
from gradkit.models.mlp import maxout_mlp, mlp
from gradkit.models.mnist1d import mnist1d_cnn
from gradkit.models.resnet import resnet18, resnet20, resnet32, resnet56
from gradkit.models.small_cnn import alexnet_small, vgg_small

_MODELS = {fn.__name__: fn for fn in (mlp, maxout_mlp, lenet5, alexnet_small, vgg_small,
                                      resnet20, resnet32, resnet56, resnet18, mnist1d_cnn)}


def list_models():
    """The names get_model knows, in the order of the table above."""
    return list(_MODELS)


def get_model(name, **kwargs):
    """Build the model registered as ``name`` with the keyword arguments of its function
    (``get_model("mlp", in_features=784, hidden=(256, 128))``).

    An unknown name raises ValueError listing the known ones; an unknown or missing keyword
    raises TypeError naming it and the keywords the model accepts."""
    if name not in _MODELS:
        close = difflib.get_close_matches(str(name), _MODELS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}; known models: {', '.join(_MODELS)}")
    fn = _MODELS[name]
    params = inspect.signature(fn).parameters
    accepted = ", ".join(params)
    for key in kwargs:
        if key not in params:
            close = difflib.get_close_matches(key, params, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"get_model({name!r}): unknown argument {key!r}{hint}; {name} "
                            f"accepts {accepted}")
    missing = [key for key, p in params.items()
               if p.default is inspect.Parameter.empty and key not in kwargs]
    if missing:
        raise TypeError(f"get_model({name!r}): missing required argument "
                        f"{', '.join(map(repr, missing))}; {name} accepts {accepted}")
    return fn(**kwargs)


def describe(model):
    """One line: ``"resnet20: 269,722 parameters"`` (the zoo name, or the class name of any
    other Module)."""
    name = getattr(model, "arch", None) or type(model).__name__
    count = sum(p.numel() for p in model.parameters())
    return f"{name}: {count:,} parameters"


__all__ = ["Model", "get_model", "list_models", "describe", *_MODELS]
