"""The page of a ``gradkit classic`` run: one self-contained ``index.html`` (figures embedded
as base64 PNGs), drawn from the results it is handed; it reads no files.

    k_plot(ks, accuracies, best_k)              # accuracy against k: folds, mean ± std
    templates(images, classes)                  # a linear model's class templates
    knn_page(results, cv_accuracies, counts, classes)
    linear_page(results, loss_history, counts, classes, images=None)

``results`` is the dict the command writes to results.json; ``counts`` the test confusion
counts (rows: true class, columns: predicted); ``images`` the templates (C, H, W) or
(C, H, W, 3), or None for data that are not images.
"""

import base64
import html
import json

import numpy as np

from gradkit.report import plots
from gradkit.report.html import CSS


def k_plot(ks, accuracies, best_k, distance="l2"):
    """The notes' cross-validation figure: each fold's accuracy at each k (dots), the mean
    (line) and ± one standard deviation (bars); the chosen k is marked."""
    accuracies = np.asarray(accuracies, dtype=float) * 100
    ks = np.asarray(ks)
    fig = plots._figure(6.5, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    for f in range(accuracies.shape[1]):
        ax.scatter(ks, accuracies[:, f], s=12, color=plots.RAW,
                   label="one fold" if f == 0 else None)
    mean, std = accuracies.mean(axis=1), accuracies.std(axis=1)
    ax.errorbar(ks, mean, yerr=std, color=plots.TRAIN, marker="o", ms=4, capsize=3,
                label="mean ± std over folds")
    best = int(np.flatnonzero(ks == best_k)[0])
    ax.scatter([best_k], [mean[best]], s=120, facecolors="none", edgecolors=plots.VAL,
               lw=1.8, label=f"chosen k = {best_k} ({mean[best]:.1f}%)")
    ax.set_xscale("log" if ks.max() / max(ks.min(), 1) > 20 else "linear")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("k (neighbours that vote)")
    ax.set_ylabel("cross-validation accuracy (%)")
    ax.set_title(f"k-nearest neighbours ({distance.upper()}): accuracy against k")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return plots.png(fig)


def templates(images, classes):
    """One tile per class: the learned template, min-max scaled (grey or RGB)."""
    images = np.asarray(images)
    n = len(images)
    columns = min(n, 10)
    rows = -(-n // columns)
    fig = plots._figure(1.3 * columns, 1.5 * rows)
    for i, image in enumerate(images):
        ax = fig.add_subplot(rows, columns, i + 1)
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
        ax.set_title(str(classes[i]), fontsize=9)
        ax.axis("off")
    return plots.png(fig)


def _img(png_bytes, alt):
    data = base64.b64encode(png_bytes).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _cards(pairs):
    cells = "".join(f'<div class="card"><b>{html.escape(value)}</b>'
                    f'<span>{html.escape(label)}</span></div>' for value, label in pairs)
    return f"<div class='cards'>{cells}</div>"


def _page(title, subtitle, cards, sections, results):
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
             f"<p class='sub'>{html.escape(subtitle)}</p>", _cards(cards), *sections,
             f"<h2>Results</h2><pre>{html.escape(json.dumps(results, indent=2))}</pre>"
             "</body></html>"]
    return "\n".join(parts)


def _confusion(counts, classes):
    return ["<h2>Confusion matrix (test)</h2>",
            _img(plots.confusion_matrix(np.asarray(counts), classes), "confusion matrix")]


def knn_page(results, cv_accuracies, counts, classes):
    """The page of ``gradkit classic knn``: cards, the k-plot, the test confusion matrix."""
    cv = results["cross_validation"]
    cards = [(f"{results['test_accuracy']:.2%}", f"test accuracy (k = {cv['best_k']})"),
             (str(cv["best_k"]), f"chosen k ({len(cv_accuracies[0])}-fold cross-validation)"),
             (f"{max(cv['mean']):.2%}", "best mean cross-validation accuracy"),
             (f"{results['train_size']:,} / {results['test_size']:,}", "train / test samples")]
    sections = ["<h2>Choosing k</h2>",
                _img(k_plot(cv["ks"], cv_accuracies, cv["best_k"], cv["distance"]), "k-plot"),
                "<p class='sub'>Each dot is one held-out fold; the chosen k has the best mean "
                "(the smaller k on a tie). kNN compares raw pixels, so images that are close "
                "are similar in brightness and background, not necessarily in content.</p>",
                *_confusion(counts, classes)]
    return _page(f"kNN on {results['dataset']}",
                 f"gradkit classic knn · distance {cv['distance'].upper()}", cards, sections,
                 results)


def linear_page(results, loss_history, counts, classes, images=None):
    """The page of ``gradkit classic linear``: cards, the loss per SGD step, the learned
    templates (image data only), the test confusion matrix."""
    steps = np.arange(1, len(loss_history) + 1)
    cards = [(f"{results['test_accuracy']:.2%}", "test accuracy"),
             (f"{results['train_accuracy']:.2%}", "train accuracy"),
             (f"{results['final_loss']:.3f}", "final training loss"),
             (f"{results['seconds_per_epoch'] * 1000:.0f} ms", "per epoch")]
    sections = ["<h2>Loss per SGD step</h2>",
                _img(plots.loss_curves(steps, np.asarray(loss_history)), "loss")]
    if images is not None:
        sections += ["<h2>Learned templates</h2>", _img(templates(images, classes), "templates"),
                     "<p class='sub'>Each class's weights W[:, c] drawn as an image (on the "
                     "standardized pixels, min-max scaled; bright: a pixel that raises the "
                     "class's score): the score xW + b is the match of the input against its "
                     "template.</p>"]
    sections += _confusion(counts, classes)
    return _page(f"{results['model']} on {results['dataset']}",
                 f"gradkit classic linear · loss {results['loss']}", cards, sections, results)
