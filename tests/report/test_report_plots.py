"""The report's figures say what they draw: the confusion matrix's numbers and colour bar are
the same share, the first-layer title counts the units drawn, ticks are whole numbers."""

import io

import numpy as np
import pytest

from gradkit.report import plots

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def figures(monkeypatch):
    """Keep every figure drawn (as well as returning its PNG)."""
    drawn, real = [], plots.png

    def keep(fig, tight=True):
        drawn.append(fig)
        return real(fig, tight)

    monkeypatch.setattr(plots, "png", keep)
    return drawn


def test_confusion_matrix_cells_and_colour_bar_are_both_shares(figures):
    counts = np.array([[3, 1, 0], [0, 0, 4], [1, 0, 399]])
    assert plots.confusion_matrix(counts, ["a", "b", "c"]).startswith(PNG)
    ax, bar = figures[0].axes
    assert [t.get_text() for t in ax.texts] == ["75", "25", "100", "<1", ">99"]
    assert bar.get_ylabel() == "% of the true class" and bar.get_ylim() == (0.0, 100.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a (n=4)", "b (n=4)", "c (n=400)"]
    assert ax.get_title() == "confusion matrix (test), % of each true class"


def test_first_layer_title_counts_the_units_drawn(figures):
    rng = np.random.default_rng(0)
    plots.first_layer(rng.normal(size=(100, 5)), (5,))
    ax = figures[0].axes[0]
    assert ax.get_title() == "first-layer weights, 64 of 100 units (weight (100, 5))"
    assert ax.get_images()[0].get_array().shape == (64, 5)
    ticks = [t for t in ax.get_xticks() if -0.5 <= t <= 4.5]
    assert ticks and all(float(t).is_integer() for t in ticks)
    plots.first_layer(rng.normal(size=(100, 784)), (1, 28, 28))
    assert figures[1]._suptitle.get_text().startswith(
        "first-layer weights (100, 784): 64 of 100 units, one picture each")
    plots.first_layer(rng.normal(size=(6, 1, 5, 5)), (1, 28, 28))
    assert "all 6 filters" in figures[2]._suptitle.get_text()
    assert plots.first_layer(rng.normal(size=(80, 3, 3, 3)), (3, 32, 32)).startswith(PNG)
    assert "64 of 80 filters" in figures[3]._suptitle.get_text()


def test_two_inputs_are_drawn_as_weight_vectors(figures):
    w = np.random.default_rng(0).normal(size=(100, 2))
    plots.first_layer(w, (2,))
    ax = figures[0].axes[0]
    assert ax.get_title() == "first-layer weight vectors, all 100 units"
    assert ax.get_xlabel() == "weight on input x0"
    arrows = ax.collections[0]
    assert np.allclose(arrows.U, w[:, 0]) and np.allclose(arrows.V, w[:, 1])


def test_accuracy_of_a_short_run_has_one_whole_tick_per_epoch(figures):
    plots.accuracy_curves([1], [0.45], [0.83])
    assert list(figures[0].axes[0].get_xticks()) == [1.0]
    plots.accuracy_curves(np.arange(1, 41), np.linspace(0.5, 0.9, 40))
    ticks = figures[1].axes[0].get_xticks()
    assert len(ticks) <= 12 and all(float(t).is_integer() for t in ticks)


def test_decision_regions_circle_the_mistakes(figures):
    x = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]])
    plots.decision_regions(lambda g: np.tile([0.9, 0.1], (len(g), 1)), x, np.array([0, 1, 1]),
                           ["a", "b"], resolution=20, wrong=np.array([1, 2]))
    ax = figures[0].axes[0]
    circled = ax.collections[-1]
    assert np.array_equal(circled.get_offsets(), x[[1, 2]])
    assert ax.get_legend().get_texts()[-1].get_text() == "misclassified (2)"


def test_figures_are_pngs_of_the_expected_size():
    from PIL import Image

    rng = np.random.default_rng(0)
    data = plots.misclassified(rng.random((10, 1, 28, 28)), np.arange(10),
                               (np.arange(10) + 1) % 10, rng.random(10), list("0123456789"))
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (960, 350)  # 8 columns × 1.2 in, 2 rows × 1.55 in + 0.4, 100 dpi
    signals = plots.misclassified(rng.random((3, 40)), [0, 1, 2], [1, 2, 0], rng.random(3),
                                  ["a", "b", "c"])
    assert signals.startswith(PNG)


def test_smoothing_is_bias_corrected_and_skips_nans():
    out = plots.smooth([1.0, float("nan"), 1.0, 3.0], weight=0.5)
    assert out[0] == 1.0 and out[1] == 1.0 and out[2] == pytest.approx(1.0)
    assert out[3] == pytest.approx((0.5 * 0.5 * 0.5 + 0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.125))
