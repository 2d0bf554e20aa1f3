"""gradkit train / eval / predict / report / models end to end, on the spiral and on the 8×8
digits, in a temporary folder (each run takes a second or two)."""

import base64
import json
import re

import numpy as np
import pytest

import gradkit as gk
from gradkit import cli, models
from gradkit.cli.train import train_overrides
from gradkit.config import load_config, save_config
from gradkit.experiment import best_checkpoint, load_run, prepare

SPIRAL = ["--model", "mlp", "--dataset", "spiral", "--epochs", "6", "--batch-size", "32",
          "--lr", "0.5", "--augment", "none", "--set", "preprocessing.name=none",
          "--set", "model.kwargs.hidden=[64]"]
DIGITS = ["--model", "mlp", "--dataset", "digits", "--epochs", "3", "--batch-size", "32",
          "--lr", "0.1", "--augment", "none"]


def _train(argv, out, capsys):
    assert cli.main(["train", *argv, "--out", str(out)]) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def spiral_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "spiral"
    assert cli.main(["train", *SPIRAL, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "digits"
    assert cli.main(["train", *DIGITS, "--out", str(out), "--no-report"]) == 0
    return out


def test_train_writes_the_run_folder(spiral_run):
    names = {p.name for p in spiral_run.iterdir()}
    assert {"config.yaml", "metrics.jsonl", "checkpoints", "results.json", "report.html"} <= names
    ckpts = sorted(p.name for p in (spiral_run / "checkpoints").iterdir())
    assert "last.safetensors" in ckpts
    assert any(re.fullmatch(r"epoch\d{3}-val_accuracy\d\.\d{4}\.safetensors", n) for n in ckpts)
    config = load_config(spiral_run / "config.yaml")
    assert config.model.kwargs == {"hidden": [64], "in_features": 2, "num_classes": 3}
    assert config.out == str(spiral_run) and config.name == "mlp-spiral"
    lines = [json.loads(line) for line in (spiral_run / "metrics.jsonl").read_text().splitlines()]
    epochs = [r for r in lines if r["kind"] == "epoch"]
    assert [r["epoch"] for r in epochs] == list(range(1, 7))
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"} <= set(epochs[0])
    assert sum(r["kind"] == "step" for r in lines) == epochs[-1]["step"] == 6 * 7  # 216/32
    best = max(epochs, key=lambda r: r["val_accuracy"])  # the first of equal bests
    assert best_checkpoint(spiral_run).name == (f"epoch{best['epoch']:03d}-val_accuracy"
                                                f"{best['val_accuracy']:.4f}.safetensors")
    results = json.loads((spiral_run / "results.json").read_text())
    assert results["final"]["checkpoint"] == "checkpoints/last.safetensors"
    assert results["best_val"]["checkpoint"] in ["checkpoints/" + n for n in ckpts]
    for key in ("final", "best_val"):
        assert results[key]["test"]["samples"] == 60 and results[key]["test"]["accuracy"] > 0.5


def test_eval_prints_json_matching_the_model(spiral_run, capsys):
    assert cli.main(["eval", "--checkpoint", str(spiral_run)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"loss", "accuracy", "per_class_accuracy", "samples", "checkpoint"}
    assert list(result["per_class_accuracy"]) == ["arm 0", "arm 1", "arm 2"]
    stored = json.loads((spiral_run / "results.json").read_text())["final"]["test"]
    assert result["accuracy"] == stored["accuracy"]
    assert result["loss"] == pytest.approx(stored["loss"], rel=1e-6)
    # the same numbers by hand: rebuild the model, score the test split
    run = load_run(result["checkpoint"])
    from gradkit.data import datasets, train_val_split
    _, test = train_val_split(datasets.spiral(), 0.2, seed=0, stratify=True)
    x, y = test.get_batch(np.arange(len(test)))
    logits = run.model(gk.tensor(x)).numpy()
    assert result["accuracy"] == pytest.approx((logits.argmax(1) == y).mean())
    per_class = [(logits.argmax(1)[y == c] == c).mean() for c in range(3)]
    assert list(result["per_class_accuracy"].values()) == pytest.approx(per_class)

    assert cli.main(["eval", "--checkpoint", str(spiral_run), "--split", "val"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 24


def test_predict_an_npz_gives_sorted_top_k(spiral_run, tmp_path, capsys):
    x = np.array([[0.0, 0.5], [0.5, 0.0], [-0.3, -0.3], [0.1, 0.1]], np.float32)
    np.savez(tmp_path / "points.npz", x=x)
    ckpt = spiral_run / "checkpoints" / "last.safetensors"
    assert cli.main(["predict", "--checkpoint", str(ckpt), "--top-k", "2",
                     str(tmp_path / "points.npz")]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["input"] for r in results] == [f"{tmp_path / 'points.npz'}[{i}]" for i in range(4)]
    logits = load_run(ckpt).logits(x)
    for r, z in zip(results, logits):
        assert len(r["top"]) == 2
        assert [t["index"] for t in r["top"]] == list(np.argsort(-z)[:2])
        probs = [t["probability"] for t in r["top"]]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
        assert r["top"][0]["class"] == f"arm {r['top'][0]['index']}"


def test_predict_an_image_file(digits_run, tmp_path, capsys):
    from PIL import Image

    from gradkit.data import datasets

    images = datasets.digits().x[:3, 0]  # (3, 8, 8) in [0, 1]
    paths = []
    for i, img in enumerate(images):
        paths.append(tmp_path / f"digit{i}.png")
        Image.fromarray(np.round(img * 255).astype(np.uint8), mode="L").save(paths[-1])
    big = tmp_path / "big.png"  # an RGB 32×32 picture is converted and resized to 1×8×8
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(big)
    assert cli.main(["predict", "--checkpoint", str(digits_run), *map(str, paths),
                     str(big)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["input"] for r in results] == [str(p) for p in paths + [big]]
    pixels = np.round(images * 255) / 255  # what the PNG holds
    expected = load_run(digits_run / "checkpoints" / "last.safetensors").predict(
        pixels[:, None].astype(np.float32))
    for r, p in zip(results, expected):
        assert len(r["top"]) == 3
        assert r["top"][0]["index"] == int(p.argmax())
        assert r["top"][0]["probability"] == pytest.approx(p.max(), abs=1e-6)


def test_report_embeds_its_plots(spiral_run, digits_run, capsys):
    text = (spiral_run / "report.html").read_text()
    alts = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', text)
    assert [a for a, _ in alts] == ["loss per step", "accuracy per epoch", "learning rate",
                                    "confusion matrix", "decision regions",
                                    "first-layer weights"]
    for _, data in alts:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "test accuracy" in text and "src=\"http" not in text  # self-contained

    assert cli.main(["report", str(digits_run)]) == 0
    path = capsys.readouterr().out.strip()
    assert path == str(digits_run / "report.html")
    alts = re.findall(r'<img alt="([^"]+)" src="data:image/png', open(path).read())
    assert alts == ["loss per step", "accuracy per epoch", "learning rate", "confusion matrix",
                    "misclassified samples", "first-layer weights"]


def test_resume_finishes_with_the_weights_of_an_uninterrupted_run(tmp_path, capsys):
    argv = [*DIGITS, "--epochs", "2", "--set", "dataset.val_fraction=0.2", "--no-report"]
    _train(argv, tmp_path / "straight", capsys)
    overrides = train_overrides(cli.build_parser().parse_args(["train", *argv]))
    config = load_config(None, {**overrides, "out": str(tmp_path / "resumed")})
    exp = prepare(config)  # what `gradkit train` does, stopped after the first epoch
    save_config(exp.config, exp.run_dir / "config.yaml")
    exp.trainer.max_epochs = 1
    exp.trainer.fit()
    assert cli.main(["train", "--resume", str(exp.run_dir), "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "epoch 1/2" not in out
    straight = load_run(tmp_path / "straight" / "checkpoints" / "last.safetensors").model
    resumed = load_run(tmp_path / "resumed" / "checkpoints" / "last.safetensors").model
    for (name, a), (_, b) in zip(straight.named_parameters(), resumed.named_parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_every_config_section_reaches_the_run(tmp_path, capsys):
    out = tmp_path / "all"
    _train([*DIGITS, "--epochs", "2", "--schedule", "cosine", "--augment", "MixUp(alpha=0.2)",
            "--weight-decay", "0.001", "--set", "schedule.warmup_epochs=1",
            "--set", "regularization={ema_decay: 0.9, clip_norm: 1.0, label_smoothing: 0.1, "
                     "dropout: 0.1}", "--set", "preprocessing={name: pca, params: "
                                                "{n_components: 20}}", "--no-report"], out, capsys)
    config = load_config(out / "config.yaml")
    assert config.model.kwargs == {"dropout": 0.1, "in_features": 20, "num_classes": 10}
    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps[0]["lr"] == pytest.approx(0.01)  # warm-up starts at lr / 10
    epochs = [r for r in steps if r["kind"] == "epoch"]
    assert "ema_val_accuracy" in epochs[-1]
    last = out / "checkpoints" / "last.safetensors"
    run = load_run(last)
    from gradkit.train import load_checkpoint
    raw = models.get_model("mlp", **config.model.kwargs)
    shadow = load_checkpoint(last, raw)["callbacks"]["EMA"]["shadow"]
    for name, p in run.model.named_parameters():  # eval uses the averaged weights
        np.testing.assert_array_equal(p.numpy(), np.asarray(shadow[name]), err_msg=name)
    assert run.preprocessor.components.shape == (20, 64)
    opt = load_run(last).config.optimizer
    assert (opt.weight_decay, config.schedule.resolved_interval()) == (0.001, "epoch")


def test_train_refuses_to_overwrite_a_run(spiral_run, capsys):
    assert cli.main(["train", *SPIRAL, "--out", str(spiral_run)]) == 2
    assert "already holds a run; continue it with --resume" in capsys.readouterr().err


def test_bad_checkpoints_give_a_clear_error(spiral_run, tmp_path, capsys):
    torn = tmp_path / "torn.safetensors"
    torn.write_bytes((spiral_run / "checkpoints" / "last.safetensors").read_bytes()[:300])
    assert cli.main(["eval", "--checkpoint", str(torn)]) == 2
    assert "truncated" in capsys.readouterr().err
    assert cli.main(["predict", "--checkpoint", str(tmp_path / "none.safetensors"), "x.png"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["eval", "--checkpoint", str(spiral_run), "--dataset", "digits"]) == 2
    assert "digits has 10 classes; the model predicts 3" in capsys.readouterr().err


def test_models_lists_the_zoo_with_parameter_counts(capsys):
    assert cli.main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == models.list_models()
    counts = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert counts["lenet5"] == "61,706" and counts["resnet20"] == "269,722"


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: gradkit {command}")
