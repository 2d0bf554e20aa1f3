"""CIFAR-10 from tiny files in both real layouts, and the refusal of a malicious pickle."""

import os
import pickle

import numpy as np
import pytest

from gradkit.data import datasets
from gradkit.data.datasets import safe_load

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
         "truck"]


def fake_batches(seed=0):
    rng = np.random.default_rng(seed)
    sizes = {f"data_batch_{i}": 3 for i in range(1, 6)} | {"test_batch": 4}
    return {name: (rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                   rng.integers(0, 10, n).tolist()) for name, n in sizes.items()}


def write_py(folder, batches, bytes_keys=True, protocol=2):
    """The python layout: pickled dicts (the real files give bytes keys under
    encoding='bytes', str keys under latin1)."""
    folder.mkdir(parents=True)
    key = (lambda k: k.encode()) if bytes_keys else (lambda k: k)
    for name, (data, labels) in batches.items():
        batch = {key("batch_label"): f"{name} of 5".encode(), key("labels"): labels,
                 key("data"): data, key("filenames"): [b"x.png"] * len(labels)}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    meta = {key("label_names"): NAMES, key("num_cases_per_batch"): 3, key("num_vis"): 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))


def write_bin(folder, batches):
    """The binary layout: records of <1 label byte><3072 pixel bytes>."""
    folder.mkdir(parents=True)
    for name, (data, labels) in batches.items():
        records = np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1)
        records.tofile(folder / f"{name}.bin")
    (folder / "batches.meta.txt").write_text("\n".join(NAMES) + "\n\n")


def expected(batches, split):
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    x = np.concatenate([batches[n][0] for n in names]).reshape(-1, 3, 32, 32) / 255.0
    y = np.concatenate([batches[n][1] for n in names])
    return x, y


@pytest.mark.parametrize("layout", ["py-bytes-keys", "py-str-keys", "py-protocol-5", "bin"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_cifar10_both_layouts(tmp_path, layout, split):
    batches = fake_batches()
    if layout == "bin":
        write_bin(tmp_path / "cifar-10-batches-bin", batches)
    else:
        write_py(tmp_path / "cifar-10-batches-py", batches, bytes_keys=layout != "py-str-keys",
                 protocol=5 if layout == "py-protocol-5" else 2)
    ds = datasets.cifar10(tmp_path, split=split)
    x, y = expected(batches, split)
    assert ds.x.shape == ((15 if split == "train" else 4), 3, 32, 32)
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.int64
    np.testing.assert_allclose(ds.x, x, rtol=1e-6)
    np.testing.assert_array_equal(ds.y, y)
    assert ds.classes == NAMES


def test_cifar10_root_may_be_the_batches_folder_and_gradkit_data(tmp_path, monkeypatch):
    write_bin(tmp_path / "cifar-10-batches-bin", fake_batches())
    assert len(datasets.cifar10(tmp_path / "cifar-10-batches-bin", "test")) == 4
    monkeypatch.setenv("GRADKIT_DATA", str(tmp_path))
    assert len(datasets.cifar10(split="test")) == 4
    assert datasets.REGISTRY["cifar10"].status() == "ok"


def test_cifar10_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py.*|kriz/cifar"):
        datasets.cifar10(tmp_path)
    write_bin(tmp_path / "cifar-10-batches-bin", fake_batches())
    (tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3.bin"):
        datasets.cifar10(tmp_path, "train")
    assert "missing" in datasets.REGISTRY["cifar10"].status(tmp_path / "elsewhere")


class RunsCommand:
    """Unpickling this calls os.system(command): what a malicious 'dataset' would do."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class EvalsCode:
    def __reduce__(self):
        return eval, ("__import__('os').getcwd()",)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_malicious_pickle_is_refused_and_its_command_does_not_run(tmp_path, protocol):
    marker = tmp_path / "pwned"
    folder = tmp_path / "cifar-10-batches-py"
    write_py(folder, fake_batches())
    payload = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [0],
               b"evil": RunsCommand(f"touch {marker}")}
    (folder / "test_batch").write_bytes(pickle.dumps(payload, protocol=protocol))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load (posix|os|nt).system"):
        datasets.cifar10(tmp_path, "test")
    assert not marker.exists()
    (folder / "test_batch").write_bytes(pickle.dumps([EvalsCode()], protocol=protocol))
    with pytest.raises(pickle.UnpicklingError, match=r"(builtins|__builtin__)\.eval"):
        safe_load(folder / "test_batch")
    # the same payload does run under the plain unpickler, so the check above is a real one
    pickle.loads(pickle.dumps(RunsCommand(f"touch {marker}")))
    assert marker.exists()


def test_safe_load_rebuilds_plain_data(tmp_path):
    obj = {"a": [1, 2.5, -3, 1 + 2j, None, True], "b": (b"raw", "text"),
           "arr": np.arange(6, dtype=np.int16).reshape(2, 3), "scalar": np.float64(0.5),
           "nested": {"f32": np.ones(3, np.float32)}}
    for protocol in (2, 3, 4, 5):
        path = tmp_path / f"p{protocol}"
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
        back = safe_load(path)
        assert back["a"] == obj["a"] and back["b"] == obj["b"] and back["scalar"] == 0.5
        np.testing.assert_array_equal(back["arr"], obj["arr"])
        assert back["arr"].dtype == np.int16 and back["nested"]["f32"].dtype == np.float32
