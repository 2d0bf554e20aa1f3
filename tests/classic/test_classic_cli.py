"""``gradkit classic knn|linear``: printed results, results.json, index.html, refusals."""

import json

import numpy as np
import pytest

from gradkit import cli

SMALL = ["--dataset", "digits", "--max-train", "400", "--max-test", "100"]


def test_knn_prints_the_table_and_writes_its_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["classic", "knn", "--k", "1,3,8", "--folds", "3", *SMALL]) == 0
    out = capsys.readouterr().out
    run = tmp_path / "runs" / "classic-knn-digits"
    results = json.loads((run / "results.json").read_text())
    cv = results["cross_validation"]
    assert (results["train_size"], results["test_size"], cv["ks"]) == (400, 100, [1, 3, 8])
    assert np.array(cv["fold_accuracies"]).shape == (3, 3)
    assert cv["best_k"] == [1, 3, 8][int(np.argmax(cv["mean"]))]
    assert f"test accuracy with k={cv['best_k']}: {results['test_accuracy']:.2%}" in out
    assert "<- chosen" in out and f"page: {run.relative_to(tmp_path) / 'index.html'}" in out
    page = (run / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 2  # k-plot, confusion matrix
    assert "Choosing k" in page and "kNN on digits" in page


@pytest.mark.parametrize("loss, model", [("svm", "LinearSVM"), ("softmax", "SoftmaxClassifier")])
def test_linear_writes_templates_and_confusion(tmp_path, capsys, loss, model):
    out = tmp_path / "lin"
    assert cli.main(["classic", "linear", "--loss", loss, "--epochs", "3", *SMALL,
                     "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert (results["model"], results["epochs"], results["batch_size"]) == (model, 3, 200)
    assert results["test_accuracy"] > 0.8
    assert f"test accuracy {results['test_accuracy']:.2%}" in capsys.readouterr().out
    page = (out / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "Learned templates" in page


def test_rerun_overwrites_its_own_files_but_a_foreign_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["classic", "knn", "--k", "1", "--folds", "2", *SMALL, "--out", str(out)]
    assert cli.main(argv) == 0 and cli.main(argv) == 0
    (out / "config.yaml").write_text("epochs: 3\n")
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"--out {out}: the folder holds other files (config.yaml)" in err


def test_user_mistakes_end_with_a_message(tmp_path, capsys):
    argv = ["classic", "knn", *SMALL, "--out", str(tmp_path / "x")]
    assert cli.main([*argv, "--k", "1,300", "--folds", "2"]) == 2
    assert "k=300 is larger than a fold's training part (200 samples)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--k", "1,zero"])
    assert exit_info.value.code == 2
    assert "expected whole numbers >= 1 separated by commas, got '1,zero'" in \
        capsys.readouterr().err
