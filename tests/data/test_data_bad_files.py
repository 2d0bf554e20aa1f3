"""Bad files name themselves: CIFAR batches of the wrong form and unreadable or oversized
images raise one ValueError naming the file and what was expected, never a raw traceback."""

import pickle

import numpy as np
import pytest
from PIL import Image

from gradkit.data import datasets
from gradkit.data.datasets import read_image

from data.test_data_cifar import fake_batches, write_bin, write_py


@pytest.fixture
def py_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_py(folder, fake_batches())
    return folder


def _rewrite(folder, obj, name="test_batch"):
    (folder / name).write_bytes(pickle.dumps(obj, protocol=2))
    return str(folder / name)


@pytest.mark.parametrize("batch, message", [
    ([1, 2, 3], r"holds a list; expected a dict with 'data' \(N × 3072 uint8 pixels\) and "
                r"'labels' \(N ints\)"),
    ({b"data": np.zeros((2, 3072), np.uint8)}, r"holds a dict with the keys \['data'\]; "
                                                r"expected a dict with 'data'"),
    ({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]},
     r"holds data of shape \(2, 3000\) and dtype uint8; expected integer rows of 3072 pixels"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]},
     r"holds 1 labels of dtype int64 for 2 images; expected one integer label per image"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]},
     r"holds labels in \[0, 12\]; expected 0..9"),
    ({b"data": np.full((1, 3072), 300), b"labels": [0]},
     r"holds pixel values in \[300, 300\]; expected bytes 0..255"),
])
def test_cifar_py_batch_of_the_wrong_form_names_the_file(py_folder, batch, message):
    path = _rewrite(py_folder, batch)
    with pytest.raises(ValueError, match=rf"^cifar10\(\): {path} {message}"):
        datasets.cifar10(py_folder.parent, "test")


def test_cifar_torn_pickle_and_bad_meta_name_the_file(py_folder):
    whole = (py_folder / "test_batch").read_bytes()
    (py_folder / "test_batch").write_bytes(whole[:len(whole) // 2])
    with pytest.raises(ValueError, match=rf"^{py_folder / 'test_batch'} is not a readable "
                                         r"pickle \(.*\); extract the file again"):
        datasets.cifar10(py_folder.parent, "test")
    write_py(py_folder.parent / "other" / "cifar-10-batches-py", fake_batches())
    folder = py_folder.parent / "other" / "cifar-10-batches-py"
    path = _rewrite(folder, {"names": ["a"]}, "batches.meta")
    with pytest.raises(ValueError, match=rf"{path} holds a dict with the keys \['names'\]; "
                                         r"expected a dict with 'label_names'"):
        datasets.cifar10(folder, "test")


def test_cifar_bin_wrong_record_size_and_labels_name_the_file(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    write_bin(folder, fake_batches())
    path = folder / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match=rf"{path} is 12287 bytes, not a multiple of the "
                                         r"3073-byte record \(1 label byte, 3072 pixel bytes\)"):
        datasets.cifar10(tmp_path, "test")
    records = np.zeros((2, 3073), np.uint8)
    records[1, 0] = 10
    records.tofile(path)
    with pytest.raises(ValueError, match=rf"{path} holds labels in \[0, 10\]; expected 0..9"):
        datasets.cifar10(tmp_path, "test")


def _png(path, shape=(4, 4, 3)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(shape, 200, np.uint8)).save(path)
    return path


def test_image_folder_names_a_file_that_is_not_an_image(tmp_path):
    _png(tmp_path / "cat" / "0.png")
    bad = tmp_path / "cat" / "1.png"
    bad.write_text("hi\n")
    with pytest.raises(ValueError, match=rf"^ImageFolder: cannot read {bad} as an image "
                                         r"\(cannot identify image file .*\); remove it or "
                                         r"replace it with a valid image file$"):
        datasets.ImageFolder(tmp_path)


def test_image_folder_names_a_truncated_file(tmp_path):
    good = _png(tmp_path / "cat" / "0.png", (32, 32, 3))
    torn = tmp_path / "cat" / "1.png"
    torn.write_bytes(good.read_bytes()[:60])
    with pytest.raises(ValueError, match=rf"^ImageFolder: cannot read {torn} as an image"):
        datasets.ImageFolder(tmp_path)


@pytest.mark.parametrize("side", [12, 20])  # 144 px: Pillow warns; 400 px: Pillow raises
def test_decompression_bomb_is_refused_with_the_file_name(tmp_path, monkeypatch, side):
    path = _png(tmp_path / "cat" / "big.png", (side, side, 3))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ValueError, match=rf"^ImageFolder: refusing {path}: Image size "
                                         rf"\({side * side} pixels\) exceeds limit .* raise "
                                         r"PIL\.Image\.MAX_IMAGE_PIXELS if you trust the file$"):
        datasets.ImageFolder(tmp_path)


def test_read_image_reads_resizes_and_says_who_asked(tmp_path):
    path = _png(tmp_path / "x.png", (6, 4, 3))
    assert read_image(path).shape == (6, 4, 3)
    pixels = read_image(path, mode="L", size=(3, 2))
    assert pixels.shape == (3, 2) and pixels.dtype == np.uint8 and pixels[0, 0] == 200
    with pytest.raises(FileNotFoundError, match=rf"gradkit predict: no file {tmp_path}/y.png"):
        read_image(tmp_path / "y.png", who="gradkit predict")


def test_a_refused_pickle_is_also_a_value_error_naming_the_file(py_folder):
    path = _rewrite(py_folder, [print])
    refused = rf"^{path}: refusing to load (__builtin__|builtins)\.print"
    with pytest.raises(ValueError, match=refused) as err:
        datasets.cifar10(py_folder.parent, "test")
    assert isinstance(err.value, pickle.UnpicklingError)  # what the safe-loading tests catch
