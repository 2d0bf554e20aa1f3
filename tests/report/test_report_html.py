"""The run report drawn from plain data (RunData): warnings first, the headline and which
checkpoint it is, the sections that apply to the data (images, signals, 2-D vectors)."""

import re

import numpy as np

from gradkit.report import Evaluation, RunData, render_report
from gradkit.report.html import headline, reading

CLASSES = ["a", "b", "c"]


def _scored(x, y, pred, checkpoint="checkpoints/last.safetensors"):
    probs = np.full((len(y), 3), 0.1)
    probs[np.arange(len(y)), pred] = 0.8
    return Evaluation(CLASSES, np.asarray(x, dtype=np.float32), np.asarray(y), probs,
                       predict=lambda g: np.tile([0.8, 0.1, 0.1], (len(g), 1)),
                       checkpoint=checkpoint)


def _sections(text):
    return re.findall(r"<h2>(.*?)</h2>", text)


def _images(text):
    return re.findall(r'<img alt="([^"]+)"', text)


def test_warnings_come_first_in_their_own_box():
    data = RunData(name="run", warnings=["training diverged: loss 1.5e7 at the end",
                                         "metrics.jsonl: skipped the last line"])
    text = render_report(data)
    box = re.search(r"<div class='warn'><b>Warnings</b><ul>(.*?)</ul></div>", text).group(1)
    assert box == ("<li>training diverged: loss 1.5e7 at the end</li>"
                   "<li>metrics.jsonl: skipped the last line</li>")
    assert text.index("class='warn'") < text.index("class='cards'")
    assert "class='warn'" not in render_report(RunData(name="run"))


def test_two_d_vectors_get_regions_and_a_table_not_empty_tiles():
    x = [[0.5, -1.0], [1.0, 2.0], [0.0, 0.0], [3.0, 1.0]]
    scored = _scored(x, [0, 1, 2, 0], [0, 2, 2, 1])
    text = render_report(RunData(name="spiral", evaluation=scored))
    assert _images(text) == ["confusion matrix", "decision regions"]
    assert "Misclassified test samples (2 of 4)" in _sections(text)
    assert "all mistakes (circled in the decision regions above):" in text
    rows = re.findall(r"<tr>((?:<td>[^<]*</td>)+)</tr>", text.split("Misclassified")[1])
    assert rows == ["<td>1</td><td>2</td><td>b</td><td>c</td><td>80%</td>",
                    "<td>3</td><td>1</td><td>a</td><td>b</td><td>80%</td>"]


def test_nothing_misclassified_is_one_line_and_images_are_drawn_as_tiles():
    images = np.zeros((3, 1, 4, 4))
    text = render_report(RunData(name="r", evaluation=_scored(images, [0, 1, 2], [0, 1, 2])))
    assert "<p>None: every test sample is classified correctly.</p>" in text
    assert _images(text) == ["confusion matrix"]
    text = render_report(RunData(name="r", evaluation=_scored(images, [0, 1, 2], [1, 1, 2]),
                                 max_misclassified=32))
    assert _images(text) == ["confusion matrix", "misclassified samples"]


def test_headline_says_which_checkpoint_and_why():
    results = {"best_val": {"checkpoint": "checkpoints/epoch003-val_accuracy0.9900.safetensors",
                            "test": {"accuracy": 0.5}}}
    data = RunData(name="r", results=results, evaluation=_scored([[0.0] * 9] * 4, [0, 1, 2, 0],
                                                         [0, 1, 2, 1]))
    value, label, why = headline(data)
    assert (value, label) == ("75.00%", "test accuracy (final weights)")
    assert why == ("The headline is the final weights (checkpoints/last.safetensors): the model "
                   "that gradkit eval and gradkit predict load. The best-validation checkpoint "
                   "(epoch003-val_accuracy0.9900.safetensors) scores 50.00% on test, lower than "
                   "the final weights: the validation split is a small sample, so the epoch "
                   "that scored best on it need not score best on new data.")
    assert why in render_report(data)
    only_results = RunData(name="r", results={"final": {
        "checkpoint": "checkpoints/last.safetensors", "test": {"accuracy": 0.25}}})
    assert headline(only_results)[0] == "25.00%"
    assert headline(RunData(name="r")) is None


def test_missing_test_results_say_why():
    text = render_report(RunData(name="r", not_evaluated="no checkpoint in runs/x/checkpoints"))
    assert "<p class='missing'>Not evaluated: no checkpoint in runs/x/checkpoints</p>" in text


def test_reading_names_overfitting_underfitting_and_a_peak():
    epochs = [{"epoch": 1, "train_accuracy": 0.98, "val_accuracy": 0.90}]
    assert "8.0 points above validation: the model overfits" in reading(epochs)
    assert "underfits" in reading([{"epoch": 1, "train_accuracy": 0.6, "val_accuracy": 0.6}])
    epochs = [{"epoch": e, "train_accuracy": 0.99, "val_accuracy": v}
              for e, v in [(1, 0.95), (2, 0.98), (3, 0.96)]]
    text = reading(epochs)
    assert "close (gap +3.0 points)" in text and "peaked at epoch 2 (98.0%)" in text


def test_report_does_not_import_the_experiment():
    import subprocess
    import sys

    code = ("import sys, gradkit.report, gradkit.report.plots, gradkit.report.html; "
            "print('gradkit.experiment' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_reading_says_when_training_diverged():
    epochs = [{"epoch": e, "train_loss": loss, "train_accuracy": 0.33, "val_accuracy": 0.3}
              for e, loss in [(1, 9.45e4), (2, 2.51e17), (3, 1.89e24)]]
    assert reading(epochs) == ("The training loss rose from 9.45e+04 (epoch 1) to 1.89e+24 "
                               "(epoch 3): training diverged; lower the learning rate or clip "
                               "the gradients.")
    epochs[-1]["train_loss"] = None  # non-finite, written as null
    assert "to nan (epoch 3): training diverged" in reading(epochs)
    epochs[-1]["train_loss"] = 1.5e5  # within twice the start: not called diverged
    assert "underfits" in reading(epochs)
