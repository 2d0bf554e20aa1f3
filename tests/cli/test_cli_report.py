"""The HTML report from a metrics.jsonl alone (no checkpoint), its reading of the curves, the
figures on their own, and the example configs."""

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from gradkit.config import Config, load_config
from gradkit.report import plots, write_report
from gradkit.report.html import _reading, read_metrics

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "configs"
PNG = b"\x89PNG\r\n\x1a\n"


def _fabricate(run_dir, epochs=4, steps_per_epoch=5, gap=0.0):
    """A metrics.jsonl as the Trainer writes it: loss falling, accuracy rising."""
    lines, step = [], 0
    for epoch in range(1, epochs + 1):
        for _ in range(steps_per_epoch):
            step += 1
            lines.append({"kind": "step", "epoch": epoch, "step": step, "loss": 2.0 / step,
                          "accuracy": min(1.0, 0.1 * step), "lr": 0.1 / epoch,
                          "time": 0.01 * step})
        train = 0.5 + 0.1 * epoch
        lines.append({"kind": "epoch", "epoch": epoch, "step": step, "train_loss": 1.0 / epoch,
                      "train_accuracy": train, "val_loss": 1.1 / epoch,
                      "val_accuracy": train - gap, "lr": 0.1 / epoch, "time": 0.05 * step})
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return lines


def test_report_from_metrics_only(tmp_path):
    run = tmp_path / "run"
    _fabricate(run)
    (run / "config.yaml").write_text("model: {name: <mlp>}\n")
    path = write_report(run)
    assert path == run / "report.html"
    text = path.read_text()
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', text)
    assert [alt for alt, _ in images] == ["loss per step", "accuracy per epoch",
                                          "learning rate"]
    assert all(base64.b64decode(data).startswith(PNG) for _, data in images)
    assert "Not evaluated: no checkpoint in" in text
    assert "&lt;mlp&gt;" in text  # the config is shown, escaped
    assert "90.00%" in text and "final train accuracy" in text  # summary cards
    assert "4 / 20" in text


def test_read_metrics_splits_steps_and_epochs(tmp_path):
    lines = _fabricate(tmp_path, epochs=2, steps_per_epoch=3)
    steps, epochs = read_metrics(tmp_path)
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5, 6]
    assert epochs == [r for r in lines if r["kind"] == "epoch"]
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        read_metrics(tmp_path / "nothing")


def test_reading_names_overfitting_underfitting_and_a_peak(tmp_path):
    _fabricate(tmp_path / "a", gap=0.08)
    assert "8.0 points above validation: the model overfits" in _reading(
        read_metrics(tmp_path / "a")[1])
    epochs = [{"epoch": 1, "train_accuracy": 0.6, "val_accuracy": 0.6}]
    assert "underfits" in _reading(epochs)
    epochs = [{"epoch": e, "train_accuracy": 0.99, "val_accuracy": v}
              for e, v in [(1, 0.95), (2, 0.98), (3, 0.96)]]
    text = _reading(epochs)
    assert "close (gap +3.0 points)" in text and "peaked at epoch 2 (98.0%)" in text


def test_figures_are_pngs_of_the_expected_size():
    from PIL import Image
    import io

    rng = np.random.default_rng(0)
    figures = {
        "conf": plots.confusion_matrix(rng.integers(0, 9, (10, 10)), list("0123456789")),
        "wrong": plots.misclassified(rng.random((10, 1, 28, 28)), np.arange(10),
                                     (np.arange(10) + 1) % 10, rng.random(10),
                                     list("0123456789")),
        "signals": plots.misclassified(rng.random((3, 40)), [0, 1, 2], [1, 2, 0],
                                       rng.random(3), ["a", "b", "c"]),
        "conv": plots.first_layer(rng.normal(size=(6, 1, 5, 5)), (1, 28, 28)),
        "rgb": plots.first_layer(rng.normal(size=(16, 3, 3, 3)), (3, 32, 32)),
        "linear_image": plots.first_layer(rng.normal(size=(100, 784)), (1, 28, 28)),
        "matrix": plots.first_layer(rng.normal(size=(100, 2)), (2,)),
    }
    for name, data in figures.items():
        assert data.startswith(PNG), name
        with Image.open(io.BytesIO(data)) as img:
            assert img.size[0] >= 300 and img.size[1] >= 100, name
    with Image.open(io.BytesIO(figures["wrong"])) as img:
        assert img.size == (960, 350)  # 8 columns × 1.2 in, 2 rows × 1.55 in + 0.4, 100 dpi


def test_smoothing_is_bias_corrected_and_skips_nans():
    out = plots.smooth([1.0, float("nan"), 1.0, 3.0], weight=0.5)
    assert out[0] == 1.0 and out[1] == 1.0 and out[2] == pytest.approx(1.0)
    assert out[3] == pytest.approx((0.5 * 0.5 * 0.5 + 0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.125))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_configs_are_valid(path):
    cfg = load_config(path)
    if path.name == "lenet5_mnist5k.yaml":
        assert cfg.to_dict() == Config().to_dict()  # the main job, spelled out
