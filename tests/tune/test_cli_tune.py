"""``gradkit tune`` and ``gradkit tune status`` through cli.main."""

import yaml

from gradkit import cli

RUN = {"model": {"name": "mlp", "kwargs": {"hidden": [16]}}, "dataset": {"name": "spiral"},
       "epochs": 2, "batch_size": 32, "schedule": {"name": "constant"},
       "optimizer": {"name": "adam", "lr": 0.01}}


def test_tune_then_status(tmp_path, capsys):
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(RUN))
    (tmp_path / "space.yaml").write_text("optimizer.lr: {loguniform: [1e-4, 1.0e-1]}\n")
    out = tmp_path / "search"
    argv = ["tune", "--config", str(tmp_path / "run.yaml"), "--space",
            str(tmp_path / "space.yaml"), "--trials", "4", "--out", str(out), "--no-report"]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "tune: stage 2: 1 trials of 2 epoch(s)" in text
    assert "optimizer.lr: [0.0001, 0.1] -> [" in text
    assert "best: trial " in text and "gradkit eval --checkpoint " in text
    assert cli.main(["tune", "status", str(out)]) == 0
    status = capsys.readouterr().out
    assert status.startswith(f"{out}: 4 trials of 4 planned (4 complete, 0 pruned, 0 fail, "
                             "0 running)")
    assert status.count("COMPLETE") == 4
    assert cli.main(["tune", "--out", str(out), "--resume"]) == 0  # nothing left to run
    assert "tune: stage" not in capsys.readouterr().out


def test_tune_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "space.yaml").write_text("optimizer.lrr: {loguniform: [1e-4, 0.1]}\n")
    assert cli.main(["tune", "--space", str(tmp_path / "space.yaml"), "--out",
                     str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "optimizer.lrr: unknown key; allowed: name, lr, momentum" in err
    assert not (tmp_path / "s").exists()
    assert cli.main(["tune", "status", str(tmp_path / "none")]) == 2
    assert "holds no search" in capsys.readouterr().err
