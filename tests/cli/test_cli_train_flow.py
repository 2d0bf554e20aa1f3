"""After gradkit train: the exact next commands, ``latest``, a finished run told complete
(and extended with --epochs), and the flags for callbacks and step checkpoints."""

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from gradkit import cli
from gradkit.cli._common import run_folder_of
from gradkit.cli.train import train_overrides


def _overrides(*argv):
    return train_overrides(cli.build_parser().parse_args(["train", *argv]))


def test_train_ends_with_the_next_commands(spiral_argv, tmp_path, capsys):
    out = tmp_path / "spiral run"
    assert cli.main(["train", *spiral_argv, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    quoted = f"'{out}'"  # a path with a space is quoted for the shell
    assert lines[-5:] == [
        "next:",
        f"  gradkit eval --checkpoint {quoted} --dataset spiral",
        f"  gradkit predict --checkpoint {quoted} SAMPLES.npz",
        f"  gradkit report {quoted} --open",
        f"  {(out / 'report.html').resolve().as_uri()}"]


def test_image_runs_suggest_an_image_and_no_report_no_url(digits_argv, tmp_path, capsys):
    out = tmp_path / "digits"
    assert cli.main(["train", *digits_argv, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-4:] == ["next:", f"  gradkit eval --checkpoint {out} --dataset digits",
                          f"  gradkit predict --checkpoint {out} IMAGE.png",
                          f"  gradkit report {out} --open"]


def test_latest_names_the_newest_run(tiny_digits_run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["eval", "--checkpoint", "latest"]) == 2
    err = capsys.readouterr().err
    assert "latest: there is no runs/latest here" in err and "name a run folder" in err
    (tmp_path / "runs").mkdir()
    os.symlink(tiny_digits_run, tmp_path / "runs" / "latest")
    assert cli.main(["eval", "--checkpoint", "latest"]) == 0
    via_latest = json.loads(capsys.readouterr().out)
    assert cli.main(["eval", "--checkpoint", str(tiny_digits_run)]) == 0
    direct = json.loads(capsys.readouterr().out)
    assert via_latest["accuracy"] == direct["accuracy"] and via_latest["loss"] == direct["loss"]
    assert via_latest["checkpoint"] == direct["checkpoint"]  # the folder latest points at
    (tmp_path / "runs" / "mine").mkdir()
    (tmp_path / "runs" / "latest").unlink()
    os.symlink("mine", tmp_path / "runs" / "latest")
    assert run_folder_of("latest") == Path("runs/mine")  # relative to here when below it


def test_report_open_uses_the_browser(tmp_path, monkeypatch, capsys):
    import webbrowser

    from gradkit import run_report

    path = tmp_path / "run" / "report.html"
    monkeypatch.setattr(run_report, "write_run_report", lambda run_dir: path)
    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    assert cli.main(["report", str(tmp_path / "run"), "--open"]) == 0
    url = path.resolve().as_uri()
    assert opened == [url]
    assert capsys.readouterr().out.splitlines() == [str(path), f"opened {url}"]
    monkeypatch.setattr(webbrowser, "open", lambda url: False)  # no browser on this machine
    assert cli.main(["report", str(tmp_path / "run"), "--open"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"no web browser found here; open {url}"
    assert cli.main(["report", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.splitlines() == [str(path)]  # no --open: the path only


def test_resume_of_a_finished_run_says_it_is_complete(tiny_digits_run, tmp_path, capsys):

    run = tmp_path / "done"
    shutil.copytree(tiny_digits_run, run)
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    assert cli.main(["train", "--resume", str(run)]) == 0
    captured = capsys.readouterr()
    assert f"{run} is complete: 1/1 epochs" in captured.out
    assert f"gradkit train --resume {run} --epochs" in captured.out
    assert "epoch 1/1" not in captured.out and "Traceback" not in captured.err
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()} == before


def test_resume_with_more_epochs_extends_the_run(tiny_digits_run, tmp_path, capsys):

    run = tmp_path / "longer"
    shutil.copytree(tiny_digits_run, run)
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "epoch 1/2" not in out
    epochs = [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text()
              .splitlines() if json.loads(line)["kind"] == "epoch"]
    assert epochs == [1, 2]


def test_callback_and_checkpoint_every_flags():
    assert _overrides("--callback", "EarlyStopping(patience=5)", "--callback", "CSVLogger",
                      "--checkpoint-every", "50") == {
        "callbacks": [{"name": "EarlyStopping", "params": {"patience": 5}},
                      {"name": "CSVLogger", "params": {}}],
        "checkpoint_every": 50}
    assert _overrides("--callback", "CSVLogger", "--callback", "none") == {"callbacks": []}


def test_callbacks_reach_the_resolved_config(capsys):
    assert cli.main(["train", "--callback", "EarlyStopping(patience=2)",
                     "--checkpoint-every", "7", "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["checkpoint_every"] == 7
    assert [c["name"] for c in printed["callbacks"]] == ["EarlyStopping"]
    assert printed["callbacks"][0]["params"]["patience"] == 2


@pytest.mark.parametrize("spec, expected", [
    ("EarlyStopping(patience=", "callbacks: cannot read --callback 'EarlyStopping(patience='"),
    ("EarlyStopping(5)", "callbacks: cannot read --callback 'EarlyStopping(5)'"),
])
def test_unreadable_callback_specs(spec, expected, capsys):
    assert cli.main(["train", "--callback", spec, "--print-config"]) == 2
    assert expected in capsys.readouterr().err
