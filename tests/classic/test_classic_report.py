"""report/classic.py: the pages and figures drawn from what they are handed."""

import ast
import inspect

import numpy as np

from gradkit.report import classic as page

CLASSES = ["a", "b<c"]
COUNTS = np.array([[3, 1], [0, 4]])


def test_knn_page_holds_cards_kplot_and_confusion():
    cv = {"ks": [1, 3], "distance": "l1", "best_k": 3, "mean": [0.8, 0.9], "std": [0, 0],
          "fold_accuracies": [[0.8, 0.8], [0.9, 0.9]]}
    results = {"dataset": "toy", "train_size": 1200, "test_size": 8, "test_accuracy": 0.875,
               "cross_validation": cv}
    text = page.knn_page(results, np.array(cv["fold_accuracies"]), COUNTS, CLASSES)
    assert text.count("data:image/png;base64,") == 2
    assert "<b>87.50%</b><span>test accuracy (k = 3)</span>" in text
    assert "<b>1,200 / 8</b>" in text and "distance L1" in text


def test_linear_page_draws_templates_only_for_images():
    results = {"dataset": "t<y", "model": "LinearSVM", "loss": "svm", "test_accuracy": 0.5,
               "train_accuracy": 0.75, "final_loss": 1.25, "seconds_per_epoch": 0.012}
    history = [2.0, 1.5, 1.25]
    without = page.linear_page(results, history, COUNTS, CLASSES)
    assert without.count("data:image/png;base64,") == 2 and "templates" not in without
    assert "<b>12 ms</b><span>per epoch</span>" in without
    assert "<h1>LinearSVM on t&lt;y</h1>" in without and "t<y" not in without
    images = np.random.default_rng(0).random((2, 4, 4))
    with_images = page.linear_page(results, history, COUNTS, CLASSES, images)
    assert with_images.count("data:image/png;base64,") == 3
    assert "Learned templates" in with_images


def test_k_plot_and_templates_are_pngs():
    png = page.k_plot([1, 5, 100], np.full((3, 2), 0.5), 5)
    assert png[:4] == b"\x89PNG"
    assert page.templates(np.zeros((3, 4, 4, 3)), ["x", "y", "z"])[:4] == b"\x89PNG"


def test_report_does_not_import_the_experiment_module():
    tree = ast.parse(inspect.getsource(page))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.startswith("gradkit.experiment")
                or n.startswith("gradkit.train")]
