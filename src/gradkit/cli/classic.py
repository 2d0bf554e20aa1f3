"""``gradkit classic``: the notes' first classifiers on a built-in dataset, with a small page.

    gradkit classic knn --dataset digits --k 1,3,5,8,10 --folds 5 [--distance l1]
    gradkit classic linear --loss svm|softmax --dataset mnist5k [--epochs 20 --lr 0.1]

``knn`` cross-validates k on the training split, refits the best k on all of it and scores
the test split; ``linear`` standardizes the features (statistics of the training split) and
trains by mini-batch SGD. A dataset without a test split (digits, spiral) holds out
``--test-fraction`` of each class (seeded). Both print the results and write results.json and
index.html (k-plot or loss curve and templates; confusion matrix) to ``--out``, default
runs/classic-knn-digits or runs/classic-linear-svm-mnist5k; a folder that holds other files is
refused (nothing there is overwritten).
"""

import inspect
import json
import time
from pathlib import Path

import numpy as np

from gradkit.train.runs import RUNS

DATASETS = ("digits", "mnist5k", "mnist1d", "spiral", "cifar10")
OURS = {"results.json", "index.html"}


def _ks(text):
    import argparse

    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers >= 1 separated by commas, got {text!r} (e.g. --k 1,3,5)")
    return ks


def _common(p):
    p.add_argument("--dataset", default="digits", choices=DATASETS,
                   help="a built-in dataset (default: digits)")
    p.add_argument("--root", default=None, help="data folder of local datasets (cifar10)")
    p.add_argument("--test-fraction", type=float, default=0.2,
                   help="share of each class held out when the dataset has no test split")
    p.add_argument("--max-train", type=int, default=None, metavar="N",
                   help="use a random N of the training samples (e.g. 5000 for CIFAR-10)")
    p.add_argument("--max-test", type=int, default=None, metavar="N",
                   help="use a random N of the test samples")
    p.add_argument("--seed", type=int, default=0, help="seed of splits, folds and SGD")
    p.add_argument("--out", default=None, help="folder of results.json and index.html")


def add_parser(subparsers):
    p = subparsers.add_parser(
        "classic", help="k-nearest neighbours and linear SVM / softmax baselines",
        description="The cs231n notes' first classifiers on a built-in dataset: print the "
                    "results and write results.json and index.html in a run folder.")
    kinds = p.add_subparsers(dest="classic", metavar="MODEL", required=True)
    knn = kinds.add_parser("knn", help="k-nearest neighbours, k chosen by cross-validation")
    knn.add_argument("--k", type=_ks, default=[1, 3, 5, 8, 10, 12, 15, 20, 50, 100],
                     help="the ks to cross-validate, comma-separated (default: "
                          "1,3,5,8,10,12,15,20,50,100)")
    knn.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    knn.add_argument("--distance", default="l2", choices=("l2", "l1"))
    _common(knn)
    knn.set_defaults(run=run_knn)
    linear = kinds.add_parser("linear", help="linear SVM or softmax trained by mini-batch SGD")
    linear.add_argument("--loss", default="svm", choices=("svm", "softmax"))
    linear.add_argument("--lr", type=float, default=None, help="SGD step (default: the model's)")
    linear.add_argument("--reg", type=float, default=None, help="L2 strength (default 1e-2)")
    linear.add_argument("--epochs", type=int, default=None, help="epochs (default 20)")
    linear.add_argument("--batch-size", type=int, default=None, help="batch (default 200)")
    linear.add_argument("--delta", type=float, default=1.0, help="SVM margin Δ (default 1)")
    _common(linear)
    linear.set_defaults(run=run_linear)


def _take(x, y, limit, rng):
    if limit is None or limit >= len(y):
        return x, y
    if limit < 1:
        raise ValueError(f"--max-train/--max-test must be >= 1, got {limit}")
    keep = np.sort(rng.choice(len(y), limit, replace=False))
    return x[keep], y[keep]


def load_splits(args):
    """(x_train, y_train, x_test, y_test, classes, sample shape) of ``args.dataset``."""
    from gradkit.data.datasets import REGISTRY
    from gradkit.data.splits import train_val_split

    loader = REGISTRY[args.dataset].loader
    kwargs = {"root": args.root} if "root" in inspect.signature(loader).parameters else {}
    if "split" in inspect.signature(loader).parameters:
        train, test = loader(split="train", **kwargs), loader(split="test", **kwargs)
        parts = [(train.x, train.y), (test.x, test.y)]
    else:
        if not 0 < args.test_fraction < 1:
            raise ValueError(f"--test-fraction must be between 0 and 1, got "
                             f"{args.test_fraction}")
        data = loader(**kwargs)
        parts = [(data.x[s.indices], data.y[s.indices]) for s in
                 train_val_split(data, args.test_fraction, seed=args.seed, stratify=True)]
        train = data
    rng = np.random.default_rng(args.seed)
    (xa, ya), (xb, yb) = [_take(x, y, limit, rng) for (x, y), limit in
                          zip(parts, (args.max_train, args.max_test))]
    return xa, ya, xb, yb, train.classes, train.x.shape[1:]


def run_folder(args, name):
    out = Path(args.out) if args.out else RUNS / name
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"--out {out}: this is a file, not a folder; name a folder")
        others = sorted(p.name for p in out.iterdir() if p.name not in OURS)
        if others:
            raise ValueError(f"--out {out}: the folder holds other files ({', '.join(others[:3])}"
                             f"); choose another folder with --out, nothing was written")
    return out


def confusion(y_true, y_pred, n):
    counts = np.zeros((n, n), np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def _write(out, results, page):
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "index.html").write_text(page)
    print(f"results: {out / 'results.json'}\npage: {out / 'index.html'}")


def run_knn(args):
    from gradkit.classic import KNeighborsClassifier, cross_validate_k
    from gradkit.report.classic import knn_page

    x, y, x_test, y_test, classes, _ = load_splits(args)
    out = run_folder(args, f"classic-knn-{args.dataset}")
    start = time.perf_counter()
    cv = cross_validate_k(x, y, args.k, args.folds, args.distance, args.seed)
    knn = KNeighborsClassifier(cv.best_k, args.distance).fit(x, y)
    pred = knn.predict(x_test)
    seconds = time.perf_counter() - start
    results = {"dataset": args.dataset, "model": "KNeighborsClassifier",
               "train_size": len(y), "test_size": len(y_test),
               "test_accuracy": float(np.mean(pred == y_test)),
               "cross_validation": cv.to_dict(), "seconds": round(seconds, 3)}
    print(f"kNN ({args.distance.upper()}) on {args.dataset}: {len(y)} train / {len(y_test)} "
          f"test samples, {args.folds}-fold cross-validation")
    print("    k   mean     std")
    for k, mean, std in zip(cv.ks, cv.mean, cv.std):
        mark = "  <- chosen" if k == cv.best_k else ""
        print(f"{k:5d}  {mean:6.2%}  {std:6.2%}{mark}")
    print(f"test accuracy with k={cv.best_k}: {results['test_accuracy']:.2%} "
          f"({seconds:.1f} s)")
    counts = confusion(y_test, pred, len(classes))
    _write(out, results, knn_page(results, cv.accuracies, counts, classes))
    return 0


def _image_shape(shape):
    """The shape of a template image, or None for data that are not images."""
    if len(shape) == 3 and shape[0] in (1, 3) and min(shape[1:]) >= 4:
        return shape
    return None


def run_linear(args):
    from gradkit.classic import LinearSVM, SoftmaxClassifier
    from gradkit.data.preprocessing import Standardize
    from gradkit.report.classic import linear_page

    x, y, x_test, y_test, classes, shape = load_splits(args)
    out = run_folder(args, f"classic-linear-{args.loss}-{args.dataset}")
    scaler = Standardize(per_channel=False).fit(x)  # per pixel: +0.3 to 4.6 points over
    # per channel on digits and MNIST-5k
    x, x_test = scaler.transform(x), scaler.transform(x_test)
    model = LinearSVM(delta=args.delta) if args.loss == "svm" else SoftmaxClassifier()
    start = time.perf_counter()
    history = model.fit(x, y, lr=args.lr, reg=args.reg, epochs=args.epochs,
                        batch_size=args.batch_size)
    seconds = time.perf_counter() - start
    epochs = args.epochs or model.epochs
    pred = model.predict(x_test)
    results = {"dataset": args.dataset, "model": type(model).__name__, "loss": args.loss,
               "train_size": len(y), "test_size": len(y_test),
               "lr": args.lr or model.lr, "reg": model.reg if args.reg is None else args.reg,
               "epochs": epochs, "batch_size": args.batch_size or model.batch_size,
               "train_accuracy": model.score(x, y),
               "test_accuracy": float(np.mean(pred == y_test)),
               "final_loss": float(np.mean(history[-10:])),
               "seconds_per_epoch": round(seconds / epochs, 4)}
    print(f"{results['model']} on {args.dataset} (standardized features): {len(y)} train / "
          f"{len(y_test)} test samples, {epochs} epochs of SGD")
    print(f"train accuracy {results['train_accuracy']:.2%}, test accuracy "
          f"{results['test_accuracy']:.2%}, final loss {results['final_loss']:.3f}, "
          f"{results['seconds_per_epoch'] * 1000:.0f} ms per epoch")
    image = _image_shape(shape)
    images = None
    if image is not None:
        images = model.weights_as_images(image)
        images = images[:, 0] if image[0] == 1 else images.transpose(0, 2, 3, 1)
    counts = confusion(y_test, pred, len(classes))
    _write(out, results, linear_page(results, history, counts, classes, images))
    return 0
