"""gradkit models NAME: the summary table of one zoo model, sized for its usual dataset,
another dataset, or an explicit input size."""

import pytest

from gradkit import cli


def _table(capsys, *argv):
    assert cli.main(["models", *argv]) == 0
    return capsys.readouterr().out


def test_lenet5_is_sized_for_mnist_by_default(capsys):
    out = _table(capsys, "lenet5")
    assert "Input size: [1, 1, 28, 28]" in out
    assert "Total params: 61,706" in out and "Total mult-adds: 423,038" in out
    row = next(line for line in out.splitlines() if "features.0 (Conv2d)" in line)
    assert row.split()[2:] == ["[1,", "6,", "28,", "28]", "156", "122,304"]


@pytest.mark.parametrize("argv, size, params", [
    (["mlp", "--dataset", "spiral"], "[1, 2]", 2 * 100 + 100 + 100 * 3 + 3),
    (["mlp"], "[1, 1, 28, 28]", 784 * 100 + 100 + 100 * 10 + 10),  # flattened inside
    (["resnet20"], "[1, 3, 32, 32]", 269_722),
    (["mnist1d_cnn"], "[1, 40]", None),
    (["lenet5", "--input-size", "3,32,32"], "[1, 3, 32, 32]", None),
])
def test_input_size_follows_the_dataset_or_the_flag(argv, size, params, capsys):
    out = _table(capsys, *argv)
    assert f"Input size: {size}" in out
    if params is not None:
        assert f"Total params: {params:,}" in out


@pytest.mark.parametrize("argv, expected", [
    (["lenet5", "--dataset", "imagefolder"],
     "imagefolder samples have no fixed shape (C×H×W); give --input-size"),
    (["lenet5", "--dataset", "mnist"], "unknown dataset 'mnist'; known: spiral,"),
    (["lenet"], "model.name: unknown model 'lenet'"),
    (["lenet5", "--dataset", "digits"],  # the model's own error: 8×8 is too small
     "lenet5(1→10): expected input (N, 1, 28, 28) or (N, 1, 32, 32), got (1, 1, 8, 8)"),
    (["--dataset", "digits"], "--input-size and --dataset describe one model; name it"),
])
def test_mistakes_are_one_message(argv, expected, capsys):
    assert cli.main(["models", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradkit models: error: ") and expected in err


@pytest.mark.parametrize("value", ["0,28,28", "a,b", ""])
def test_bad_input_sizes_are_refused(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["models", "lenet5", "--input-size", value])
    assert exit_.value.code == 2
    assert f"expected sizes >= 1 separated by commas, e.g. 1,28,28 or 784; got {value!r}" in \
        capsys.readouterr().err
