"""``gradkit models``: the model zoo, or one model's layer table.

    gradkit models                              # every model, its parameter count, arguments
    gradkit models lenet5                       # layers, output shapes, parameters, mult-adds
    gradkit models mlp --dataset spiral         # sized for a dataset's samples and classes
    gradkit models resnet20 --input-size 3,64,64

A model is built as ``gradkit train`` builds it: the input size and class count fill
in_features / in_channels / num_classes. The table is ``gradkit.summary.summary(model,
input_size)`` for a batch of one.
"""

import argparse
import inspect

USUAL_DATASET = {"mlp": "mnist5k", "maxout_mlp": "mnist5k", "lenet5": "mnist5k",
                 "mnist1d_cnn": "mnist1d"}  # every other zoo model: cifar10
DEFAULT_CLASSES = 10


def add_parser(subparsers):
    p = subparsers.add_parser(
        "models", help="list the model zoo, or show one model's layers",
        description="Without NAME: list the models of gradkit.models with their parameter "
                    "counts (built with their default arguments; MLPs with 784 inputs) and "
                    "arguments. With NAME: that model's layers, output shapes, parameter "
                    "counts and mult-adds for one sample, sized for its usual dataset: "
                    "mnist5k (1×28×28) for mlp, maxout_mlp and lenet5, mnist1d (40) for "
                    "mnist1d_cnn, cifar10 (3×32×32) for the others.")
    p.add_argument("name", nargs="?", metavar="NAME", help="a model of the list")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--input-size", metavar="C,H,W", type=_input_size,
                      help="the shape of one sample, e.g. 1,28,28 or 784 (10 classes)")
    size.add_argument("--dataset", metavar="NAME",
                      help="size the model for this dataset's samples and classes")
    p.set_defaults(run=run)


def _input_size(text):
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected sizes >= 1 separated by commas, e.g. "
                                         f"1,28,28 or 784; got {text!r}")
    return shape


def sample_size(name, args):
    """(shape of one sample, number of classes) to build ``name`` for."""
    from gradkit.data.datasets import REGISTRY

    if args.input_size is not None:
        return args.input_size, DEFAULT_CLASSES
    dataset = args.dataset or USUAL_DATASET.get(name, "cifar10")
    if dataset not in REGISTRY:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(REGISTRY)}")
    info = REGISTRY[dataset]
    try:
        shape = tuple(int(part) for part in info.shape.split("×"))
    except ValueError:
        raise ValueError(f"{dataset} samples have no fixed shape ({info.shape}); give "
                         "--input-size, e.g. --input-size 3,64,64") from None
    return shape, info.classes or DEFAULT_CLASSES


def run(args):
    if args.name is None:
        if args.input_size is not None or args.dataset is not None:
            raise ValueError("--input-size and --dataset describe one model; name it, "
                             "e.g. gradkit models lenet5 --dataset digits")
        return list_models()
    from gradkit import models
    from gradkit.config import load_config
    from gradkit.experiment import model_kwargs
    from gradkit.summary import summary

    config = load_config(None, {"model.name": args.name})
    shape, classes = sample_size(args.name, args)
    model = models.get_model(args.name, **model_kwargs(config, shape, classes))
    print(summary(model, (1, *shape)))
    return 0


def list_models():
    from gradkit import models

    rows = [("name", "parameters", "arguments")]
    for name in models.list_models():
        fn = getattr(models, name)
        needs = {"in_features": 784} if "in_features" in inspect.signature(fn).parameters else {}
        count = sum(p.numel() for p in fn(**needs).parameters())
        note = " (784 inputs)" if needs else ""
        rows.append((name, f"{count:,}{note}", str(inspect.signature(fn))[1:-1]))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for name, count, arguments in rows:
        print(f"{name.ljust(widths[0])}  {count.rjust(widths[1])}  {arguments}")
    return 0
