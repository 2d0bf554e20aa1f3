"""--threads N before or after the command sets the threads of gradkit's ops; --help says that
gradkit runs on the CPU and how threads are chosen."""

import pytest

import gradkit
from gradkit import cli


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(gradkit, "set_num_threads", seen.append, raising=False)
    return seen


@pytest.mark.parametrize("argv, expected", [
    (["--threads", "2", "datasets"], [2]),
    (["train", "--threads", "3", "--epochs", "1", "--print-config"], [3]),
    (["--threads", "1", "train", "--threads", "4", "--print-config"], [4]),  # the command's wins
    (["datasets"], []),  # without the flag the library's default policy stays
])
def test_threads_flag_calls_set_num_threads(argv, expected, calls, capsys):
    assert cli.main(argv) == 0
    assert calls == expected


@pytest.mark.parametrize("command", ["train", "eval", "predict"])
def test_train_eval_predict_accept_threads(command):
    argv = {"train": [], "eval": ["--checkpoint", "x"], "predict": ["--checkpoint", "x", "f"]}
    args = cli.build_parser().parse_args([command, "--threads", "5", *argv[command]])
    assert args.threads == 5


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_threads_below_one_is_refused(value, calls, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--threads", value, "datasets"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --threads: expected a whole number of threads >= 1, got {value!r}" in err
    assert calls == []


def test_help_says_cpu_and_how_threads_are_chosen(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "gradkit runs on the CPU: NumPy does the arithmetic and no GPU is used" in out
    assert "--threads N" in out and "$GRADKIT_NUM_THREADS" in out
    assert "2 on a 2-CPU machine whose load is under 1" in " ".join(out.split())
    assert "each BLAS call runs on one" in " ".join(out.split())


def test_threads_reach_the_ops(capsys):
    before = gradkit.get_num_threads()
    try:
        assert cli.main(["--threads", "2", "datasets"]) == 0
        assert gradkit.get_num_threads() == 2
    finally:
        gradkit.set_num_threads(before)
    assert gradkit.get_num_threads() == before
