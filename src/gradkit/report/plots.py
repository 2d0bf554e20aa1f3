"""The figures of a run report, each drawn with matplotlib's Agg canvas (no display needed) and
returned as PNG bytes: training curves, confusion matrix, misclassified samples, first-layer
weights, and the decision regions of a 2-D classifier."""

import io
import math

import numpy as np

from gradkit.report.augmentation import _matplotlib

TRAIN, VAL, RAW = "#1f77b4", "#d62728", "#9ecae1"


def _figure(width, height):
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def png(fig, tight=True):
    """The figure as PNG bytes (after ``tight_layout`` unless ``tight`` is False)."""
    if tight:
        fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def smooth(values, weight=0.9):
    """Exponential moving average with bias correction (TensorBoard's smoothing); NaNs are
    skipped."""
    out, avg, n = np.empty(len(values)), 0.0, 0
    for i, v in enumerate(values):
        if np.isfinite(v):
            avg, n = weight * avg + (1 - weight) * v, n + 1
        out[i] = avg / (1 - weight ** n) if n else np.nan
    return out


def loss_curves(steps, losses, epoch_steps=(), val_losses=()):
    """Training loss per step (raw and smoothed) on a linear and a log scale, with the
    validation loss at each epoch's end."""
    fig = _figure(10, 3.4)
    steps, losses = np.asarray(steps), np.asarray(losses, dtype=float)
    for i, scale in enumerate(("linear", "log")):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.plot(steps, losses, color=RAW, lw=0.8, label="train loss (per step)")
        ax.plot(steps, smooth(losses), color=TRAIN, lw=1.8, label="train loss (smoothed)")
        if len(val_losses):
            ax.plot(epoch_steps, val_losses, "o-", color=VAL, ms=4, lw=1.2,
                    label="validation loss (per epoch)")
        ax.set_yscale(scale)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_title(f"loss, {scale} scale")
        ax.grid(alpha=0.3, which="both" if scale == "log" else "major")
        if i == 0:
            ax.legend(fontsize=8)
    return png(fig)


def accuracy_curves(epochs, train_acc, val_acc=None):
    """Train and validation accuracy per epoch with the gap between them shaded (the final
    gap is the legend's title, so it never covers a curve)."""
    fig = _figure(6.5, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    epochs, train_acc = np.asarray(epochs), np.asarray(train_acc, dtype=float)
    ax.plot(epochs, train_acc * 100, "o-", color=TRAIN, ms=4, label="train")
    if val_acc is not None:
        val_acc = np.asarray(val_acc, dtype=float)
        ax.plot(epochs, val_acc * 100, "s-", color=VAL, ms=4, label="validation")
        ax.fill_between(epochs, train_acc * 100, val_acc * 100, color="#fdd0a2", alpha=0.6,
                        label="gap (train − validation)")
        gap = round((train_acc[-1] - val_acc[-1]) * 100, 1) + 0.0  # no "-0.0"
        title = f"final gap: {gap:+.1f} points"
    else:
        title = None
    low = np.nanmin(np.concatenate([train_acc, val_acc if val_acc is not None else []]))
    ax.set_ylim(max(0.0, math.floor(low * 100 / 5) * 5 - 1), 100.5)
    if len(epochs) <= 12:
        ax.set_xticks(epochs)  # one tick per epoch, never fractional
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("accuracy per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", title=title, title_fontsize=8)
    return png(fig)


def learning_rate(steps, lrs):
    """The learning rate of the first parameter group at every step."""
    fig = _figure(6.5, 3.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(steps, lrs, color="#2ca02c")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_title("learning rate schedule")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    ax.grid(alpha=0.3)
    return png(fig)


def confusion_matrix(counts, classes):
    """Rows: true class, columns: predicted. Colour and numbers agree: both are the share of
    the row (the true class), in percent; each row's sample count is in its tick label."""
    n = len(classes)
    size = min(9.0, 2.0 + 0.45 * n)
    fig = _figure(size + 1.5, size)
    ax = fig.add_subplot(1, 1, 1)
    totals = counts.sum(axis=1)
    rows = counts / np.maximum(totals[:, None], 1)
    image = ax.imshow(rows * 100, cmap="Blues", vmin=0, vmax=100)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="% of the true class")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if counts[i, j]:
                    share = rows[i, j] * 100
                    text = "<1" if share < 1 else ">99" if 99 < share < 100 else f"{share:.0f}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=8,
                            color="white" if rows[i, j] > 0.5 else "black")
    labels = [str(c) for c in classes]
    ax.set_xticks(range(n), labels, rotation=90 if max(map(len, labels)) > 3 else 0, fontsize=8)
    ax.set_yticks(range(n), [f"{c} (n={int(t)})" for c, t in zip(labels, totals)], fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class (test samples)")
    ax.set_title("confusion matrix (test), % of each true class")
    return png(fig)


def _cells(fig, n, columns, label_space=0.0):
    """One axes holding an n-cell grid (unit cells, ``label_space`` above each for a title);
    returns the axes and the (x0, y0) top-left corner of every cell. One axes with many
    images draws far faster than a subplot per image."""
    rows = max(1, math.ceil(n / columns))
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.9))
    step_y = 1.1 + label_space
    ax.set_xlim(-0.05, columns * 1.1)
    ax.set_ylim(rows * step_y, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax, [((i % columns) * 1.1, (i // columns) * step_y + label_space) for i in range(n)]


def _draw(ax, sample, x0, y0, **style):
    """Draw one sample in the unit cell at (x0, y0): an image (C, H, W), (H, W, 3) or (H, W),
    or a 1-D signal as a line."""
    if sample.ndim == 3 and sample.shape[0] in (1, 3):
        sample = sample[0] if sample.shape[0] == 1 else sample.transpose(1, 2, 0)
    if sample.ndim >= 2:
        ax.imshow(sample, extent=(x0, x0 + 1, y0 + 1, y0), interpolation="nearest", **style)
        return
    from matplotlib.patches import Rectangle

    v = sample.astype(float)
    v = (v - v.min()) / max(float(v.max() - v.min()), 1e-12)
    ax.plot(x0 + np.linspace(0, 1, len(v)), y0 + 0.95 - 0.9 * v, lw=0.8, color=TRAIN)
    ax.add_patch(Rectangle((x0, y0), 1, 1, fill=False, lw=0.5, color="#999"))


def _displayable(sample):
    """Raw pixels clipped to [0, 1] (min-max scaled when they are not in [0, 1])."""
    lo, hi = float(sample.min()), float(sample.max())
    if lo < -0.05 or hi > 1.05:
        sample = (sample - lo) / max(hi - lo, 1e-12)
    return np.clip(sample, 0, 1)


def misclassified(samples, true, pred, confidence, classes, columns=8):
    """A grid of misclassified samples, most confident mistakes first, each titled with its
    true and predicted class and the predicted probability."""
    n = len(samples)
    rows = max(1, math.ceil(n / columns))
    fig = _figure(columns * 1.2, rows * 1.55 + 0.4)
    ax, corners = _cells(fig, n, columns, label_space=0.45)
    for i, (x0, y0) in enumerate(corners):
        sample = _displayable(samples[i]) if samples[i].ndim == 3 else samples[i]
        _draw(ax, sample, x0, y0, cmap="gray", vmin=0, vmax=1)
        ax.text(x0 + 0.5, y0 - 0.04, f"true {classes[true[i]]}\npred {classes[pred[i]]} "
                f"{confidence[i]:.0%}", ha="center", va="bottom", fontsize=7, color="#b30000")
    fig.suptitle("misclassified test samples (most confident mistakes first)", fontsize=9)
    return png(fig, tight=False)


def _units(shown, total):
    return f"all {total} units" if shown == total else f"{shown} of {total} units"


def _weight_vectors(w):
    """A layer on 2 inputs: every unit's weight vector as an arrow in the input plane."""
    fig = _figure(5, 5)
    ax = fig.add_subplot(1, 1, 1)
    ax.quiver(np.zeros(len(w)), np.zeros(len(w)), w[:, 0], w[:, 1], angles="xy",
              scale_units="xy", scale=1, color=TRAIN, alpha=0.7, width=0.004)
    bound = float(np.abs(w).max()) * 1.1 or 1.0
    ax.set_xlim(-bound, bound)
    ax.set_ylim(-bound, bound)
    ax.set_aspect("equal")
    ax.axhline(0, color="#999", lw=0.5)
    ax.axvline(0, color="#999", lw=0.5)
    ax.set_xlabel("weight on input x0")
    ax.set_ylabel("weight on input x1")
    ax.set_title(f"first-layer weight vectors, {_units(len(w), len(w))}", fontsize=10)
    ax.grid(alpha=0.3)
    return png(fig)


def _weight_matrix(w, max_units):
    from matplotlib.ticker import MaxNLocator

    shown = w.reshape(len(w), -1)[:max_units]
    fig = _figure(7, 3.5)
    ax = fig.add_subplot(1, 1, 1)
    bound = float(np.abs(shown).max()) or 1.0
    image = ax.imshow(shown, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto",
                      interpolation="nearest")
    fig.colorbar(image, ax=ax, label="weight")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("input")
    ax.set_ylabel("unit")
    ax.set_title(f"first-layer weights, {_units(len(shown), len(w))} "
                 f"(weight {tuple(w.shape)})", fontsize=10)
    return png(fig)


def first_layer(weight, input_shape, max_units=64):
    """The first layer's weights as pictures: each convolution filter, or each Linear unit's
    weights reshaped to the input image; red positive, blue negative, zero white. A layer on
    2 inputs is drawn as weight vectors in the input plane; other weights that cannot be
    pictured (non-image inputs) as a matrix. Titles say how many units are drawn."""
    w = np.asarray(weight, dtype=np.float64)
    images = None
    if w.ndim == 4:
        images = w[:, 0] if w.shape[1] != 3 else w.transpose(0, 2, 3, 1)
    elif (w.ndim == 2 and len(input_shape) == 3 and input_shape[0] in (1, 3)
          and w.shape[1] == math.prod(input_shape)):
        images = w.reshape((len(w),) + tuple(input_shape))
        images = images[:, 0] if input_shape[0] == 1 else images.transpose(0, 2, 3, 1)
    if images is None:
        if w.ndim == 2 and w.shape[1] == 2:
            return _weight_vectors(w)
        return _weight_matrix(w, max_units)
    images = images[:max_units]
    n = len(images)
    columns = min(n, 8 if n <= 16 else 16)
    rows = math.ceil(n / columns)
    cell = 0.75 if n > 16 else 1.1
    fig = _figure(max(columns * cell, 5.0), rows * cell + 0.5)
    ax, corners = _cells(fig, n, columns)
    for img, (x0, y0) in zip(images, corners):
        if img.ndim == 3:  # RGB: min-max per filter
            lo, hi = img.min(), img.max()
            _draw(ax, (img - lo) / max(hi - lo, 1e-12), x0, y0)
        else:
            bound = float(np.abs(img).max()) or 1.0
            _draw(ax, img, x0, y0, cmap="RdBu_r", vmin=-bound, vmax=bound)
    kind = "filters" if w.ndim == 4 else "units"
    what = _units(n, len(w)).replace("units", kind)
    fig.suptitle(f"first-layer weights {tuple(w.shape)}: {what}, one picture each "
                 "(red +, blue −)", fontsize=9)
    return png(fig, tight=False)


def decision_regions(predict, x, y, classes, resolution=200, wrong=()):
    """A 2-D classifier's predicted class over the plane, with the samples on top; the
    samples indexed by ``wrong`` (the misclassified ones) are circled."""
    fig = _figure(5.5, 5)
    ax = fig.add_subplot(1, 1, 1)
    lo, hi = x.min(axis=0) - 0.2, x.max(axis=0) + 0.2
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    regions = predict(grid).argmax(axis=1).reshape(gx.shape)
    n = len(classes)
    ax.contourf(gx, gy, regions, levels=np.arange(n + 1) - 0.5, cmap="tab10", vmin=0, vmax=9,
                alpha=0.3)
    for c in range(n):
        mask = y == c
        ax.scatter(x[mask, 0], x[mask, 1], s=14, color=f"C{c}", edgecolors="k",
                   linewidths=0.4, label=str(classes[c]))
    if len(wrong):
        ax.scatter(x[wrong, 0], x[wrong, 1], s=90, facecolors="none", edgecolors="#d62728",
                   linewidths=1.2, label=f"misclassified ({len(wrong)})")
    ax.legend(fontsize=8)
    ax.set_title("decision regions and test samples")
    return png(fig)
