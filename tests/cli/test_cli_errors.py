"""Every mistake a user can fix ends in one paragraph on stderr and exit code 2, never a
traceback: a diverged run (NaNGuard), a --set value that is not plain YAML, a checkpoint
whose metadata was edited or is malformed, a torn metrics.jsonl, a run folder in use."""

import json
import shutil
import struct

import pytest

from gradkit import cli, experiment


def _fails(capsys, argv, *needles):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith(f"gradkit {argv[0]}: error: "), err
    for needle in needles:
        assert needle in err, err
    return err


def test_a_diverged_run_keeps_the_nan_guard_message(digits_argv, tmp_path, capsys):
    err = _fails(capsys, ["train", *digits_argv, "--lr", "1e30", "--out", str(tmp_path / "r")],
                 "NaNGuard: stopped at epoch 1", "first non-finite gradient: parameter",
                 "try a lower learning rate")
    assert "FloatingPointError" not in err


@pytest.mark.parametrize("item, expected", [
    ("a=!!python/name:os.system", "could not determine a constructor for the tag"),
    ("epochs=[1", "VALUE is not plain YAML"),
    ("model.kwargs={a: b: c}", "VALUE is not plain YAML"),
])
def test_set_values_must_be_plain_yaml(item, expected, capsys):
    _fails(capsys, ["train", "--set", item, "--print-config"], f"--set {item!r}", expected)


def _edit_metadata(path, edit):
    """Rewrite a safetensors file's header metadata with ``edit(metadata)`` (tensors kept)."""
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    edit(header["__metadata__"])
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + size:])


def _replace_config(key, value):
    def edit(metadata):
        config = json.loads(metadata["config"])
        if value is None:
            config.pop(key)
        else:
            config[key] = value
        metadata["config"] = json.dumps(config)
    return edit


@pytest.mark.parametrize("edit, expected", [
    (_replace_config("optimizer", {"name": "sgd", "lr": 9.05}), "checksum"),  # an edited lr
    (_replace_config("fitted", None), ""),                                    # a missing key
    (lambda metadata: metadata.update(config="[" * 100_000 + "]" * 100_000), ""),  # deep JSON
], ids=["edited", "missing-key", "deep"])
def test_edited_or_malformed_checkpoint_metadata(edit, expected, tiny_digits_run, tmp_path,
                                                 capsys):
    ckpt = tmp_path / "last.safetensors"
    shutil.copy(tiny_digits_run / "checkpoints" / "last.safetensors", ckpt)
    _edit_metadata(ckpt, edit)
    for command in (["eval", "--checkpoint", str(ckpt)],
                    ["predict", "--checkpoint", str(ckpt), str(ckpt)]):
        err = _fails(capsys, command, str(ckpt), expected)
        assert len(err.strip().splitlines()) <= 3, err


def test_a_torn_metrics_line_does_not_stop_the_report(tiny_digits_run, tmp_path, capsys):
    run = tmp_path / "torn"
    shutil.copytree(tiny_digits_run, run)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"kind": "epoch", "epo')  # killed mid-write
    assert cli.main(["report", str(run)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(run / "report.html") and "Traceback" not in captured.err
    assert (run / "report.html").stat().st_size > 0


def test_a_run_folder_in_use_is_refused(tiny_digits_run, tmp_path, monkeypatch, capsys):
    from gradkit.train.lock import RunLock

    run = tmp_path / "busy"
    shutil.copytree(tiny_digits_run, run)
    with RunLock(run):  # held by this process: as if another `gradkit train` ran there
        _fails(capsys, ["train", "--resume", str(run), "--epochs", "2", "--no-report"],
               "in use by another training process")
    assert issubclass(experiment.RunLocked, experiment.ConfigError)


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    import os

    read, write = os.pipe()
    os.close(read)  # `gradkit datasets | head -0`: the reader is gone before the first line
    with os.fdopen(write, "w") as stdout:
        monkeypatch.setattr("sys.stdout", stdout)
        assert cli.main(["datasets"]) == 1
        monkeypatch.undo()
    assert "Traceback" not in capsys.readouterr().err


def test_a_non_image_in_an_image_folder_is_named(tmp_path, capsys):
    from PIL import Image

    for label in ("a", "b"):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (8, 8), 40 * i).save(tmp_path / "images" / label / f"{i}.png")
    bad = tmp_path / "images" / "a" / "notes.png"
    bad.write_text("hi\n")
    _fails(capsys, ["train", "--model", "mlp", "--dataset", "imagefolder", "--set",
                    f"dataset.root={tmp_path / 'images'}", "--epochs", "1", "--augment", "none",
                    "--out", str(tmp_path / "run")], f"cannot read {bad} as an image")
