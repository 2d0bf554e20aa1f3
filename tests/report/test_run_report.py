"""write_run_report gathers a run folder: metrics.jsonl (torn lines skipped with a note),
results.json (its warnings first), the final weights scored on the test split."""

import json
import re

import pytest

from gradkit import experiment
from gradkit.config import load_config
from gradkit.run_report import gather, read_metrics, write_run_report


def _fabricate(run_dir, epochs=4, steps_per_epoch=5):
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
                      "val_accuracy": train, "lr": 0.1 / epoch, "time": 0.05 * step})
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return lines


def _warnings(text):
    box = re.search(r"<div class='warn'><b>Warnings</b><ul>(.*?)</ul></div>", text)
    return re.findall(r"<li>(.*?)</li>", box.group(1)) if box else []


@pytest.fixture(scope="module")
def spiral_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "spiral"
    config = load_config(None, {"model.name": "mlp", "dataset.name": "spiral", "epochs": 2,
                                "augmentation": [], "out": str(out)})
    experiment.train(config, report=False, log=lambda *a: None)
    return out


def test_report_from_metrics_only(tmp_path):
    run = tmp_path / "run"
    _fabricate(run)
    (run / "config.yaml").write_text("model: {name: <mlp>}\n")
    path = write_run_report(run)
    assert path == run / "report.html"
    text = path.read_text()
    assert re.findall(r'<img alt="([^"]+)"', text) == ["loss per step", "accuracy per epoch",
                                                      "learning rate"]
    assert "Not evaluated: no checkpoint in" in text
    assert "&lt;mlp&gt;" in text  # the config is shown, escaped
    assert "90.00%" in text and "final train accuracy" in text and "4 / 20" in text
    assert _warnings(text) == ["no results.json: training did not finish (interrupted, or "
                               "stopped by the NaN guard), so the test scores below, if any, "
                               "are of the last checkpoint written"]


def test_torn_lines_are_skipped_and_named(tmp_path):
    lines = _fabricate(tmp_path, epochs=2, steps_per_epoch=3)
    path = tmp_path / "metrics.jsonl"
    rows = path.read_text().splitlines()
    rows.insert(2, '{"kind": "step", "ep')
    path.write_text("\n".join(rows) + '\n{"kind": "epoch", "epoch": 3, "st')
    steps, epochs, notes = read_metrics(tmp_path)
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5, 6]
    assert epochs == [r for r in lines if r["kind"] == "epoch"]
    assert notes == [
        "metrics.jsonl: skipped line 3 of 10, which is not a complete record (a write cut "
        "short?): '{\"kind\": \"step\", \"ep'",
        "metrics.jsonl: skipped the last line of 10, which is not a complete record (a write "
        "cut short?): '{\"kind\": \"epoch\", \"epoch\": 3, \"st'"]
    text = write_run_report(tmp_path).read_text()
    assert _warnings(text)[1:] == [n.replace('"', "&quot;").replace("'", "&#x27;")
                                   for n in notes]
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        read_metrics(tmp_path / "nothing")


def test_results_warnings_and_non_finite_losses_are_shown_first(tmp_path):
    _fabricate(tmp_path, epochs=1, steps_per_epoch=3)
    path = tmp_path / "metrics.jsonl"
    path.write_text(path.read_text().replace('"loss": 1.0,', '"loss": null,'))
    (tmp_path / "results.json").write_text(json.dumps(
        {"warnings": ["training diverged: train loss 1.5e+07 (see gradkit doctor)"]}))
    data = gather(tmp_path)
    assert data.warnings == [
        "training diverged: train loss 1.5e+07 (see gradkit doctor)",
        "the training loss was not finite (NaN or infinite) at 1 step(s), first at step 2: "
        "lower the learning rate or clip the gradients"]
    (tmp_path / "results.json").write_text('{"final": ')
    assert gather(tmp_path).warnings[0].startswith("results.json is unreadable (")


def test_a_trained_spiral_run(spiral_run):
    data = gather(spiral_run, max_misclassified=5)
    assert data.evaluation.checkpoint == "checkpoints/last.safetensors"
    assert data.evaluation.x.shape == (60, 2) and data.evaluation.probs.shape == (60, 3)
    results = json.loads((spiral_run / "results.json").read_text())
    assert data.evaluation.accuracy == pytest.approx(results["final"]["test"]["accuracy"])
    assert data.first_layer[0] == "layers.0.weight" and data.first_layer[2] == (2,)
    assert data.first_layer[1].shape == (100, 2)
    assert (data.model_name, data.parameters) == ("mlp", 2 * 100 + 100 + 100 * 3 + 3)
    text = write_run_report(spiral_run, max_misclassified=5).read_text()
    assert "decision regions" in re.findall(r'<img alt="([^"]+)"', text)
    assert "test accuracy (final weights)" in text and _warnings(text) == []
