"""The live table of ``gradkit tune``: what it draws from a study folder, and when it is used."""

import io

import pytest

pytest.importorskip("rich")

from rich.console import Console  # noqa: E402

from gradkit import tune  # noqa: E402
from gradkit.tune.live import LiveTable, live_log  # noqa: E402


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory, make_tiny=None):
    from tune.conftest import tiny_config

    out = tmp_path_factory.mktemp("live") / "search"
    tune.search(tiny_config(), {"optimizer.lr": tune.loguniform(1e-3, 1e-1)}, trials=3,
                stages="single", pruner=None, out=out, report=False, log=lambda *a: None)
    return out


def drawn(table):
    console = Console(file=io.StringIO(), width=400, color_system=None)
    console.print(table.render())
    return console.file.getvalue()


def test_the_table_shows_every_trial_and_the_best(study_dir):
    text = drawn(LiveTable(study_dir))
    study = tune.load(study_dir)
    assert f"{study_dir}: 3 of 3 trials (3 complete, 0 pruned, 0 fail, 0 running)" in text
    for row in study.table():
        assert f"{row['value']:.4f}" in text
        assert f"optimizer.lr={row['params']['optimizer.lr']:.3g}" in text
    best = study.best
    assert f"best: trial {best['number']}, val_accuracy {best['value']:.4f}" in text


def test_a_folder_without_a_study_yet_draws_a_waiting_line(tmp_path):
    assert "tune: waiting for the study in" in drawn(LiveTable(tmp_path / "not-yet"))


def test_off_a_terminal_the_log_is_print(study_dir, capsys):
    with live_log(study_dir) as log:  # pytest's stdout is not a terminal
        assert log is print
    with live_log(study_dir, enabled=False) as log:
        assert log is print
