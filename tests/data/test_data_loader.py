"""DataLoader: coverage, shuffling, reproducibility, partial batches, the fast gather path,
background prefetch; datasets and random_split."""

import threading
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import gradkit as gk
from gradkit.data import (ArrayDataset, ConcatDataset, DataLoader, Dataset, Subset,
                          TensorDataset, has_batches, random_split, transforms as T)


def indexed_images(n, size=4):
    """Image i is filled with the value i, its label is i: a batch tells its own indices."""
    x = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None],
                        (n, 1, size, size)).copy()
    return ArrayDataset(x, np.arange(n))


def epoch_indices(loader):
    return [y.numpy().tolist() for _, y in loader]


@pytest.mark.parametrize("workers,prefetch", [(0, False), (0, True), (3, True)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_exactly_once_per_epoch(workers, prefetch, shuffle):
    loader = DataLoader(indexed_images(23), batch_size=5, shuffle=shuffle, num_workers=workers,
                        prefetch=prefetch, seed=0)
    for _ in range(2):
        seen = [i for batch in epoch_indices(loader) for i in batch]
        assert sorted(seen) == list(range(23))
        assert (seen == list(range(23))) != shuffle


def test_batches_are_gk_tensors_with_the_data():
    ds = indexed_images(6)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert isinstance(x, gk.Tensor) and isinstance(y, gk.Tensor)
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (4, 1, 4, 4)
    np.testing.assert_array_equal(x.numpy(), ds.x[:4])
    np.testing.assert_array_equal(y.numpy(), [0, 1, 2, 3])


def test_shuffle_differs_between_epochs_and_repeats_with_the_same_seed():
    a = DataLoader(indexed_images(40), batch_size=8, shuffle=True, seed=5)
    b = DataLoader(indexed_images(40), batch_size=8, shuffle=True, seed=5)
    c = DataLoader(indexed_images(40), batch_size=8, shuffle=True, seed=6)
    a1, a2 = epoch_indices(a), epoch_indices(a)
    assert a1 != a2
    assert epoch_indices(b) == a1 and epoch_indices(b) == a2
    assert epoch_indices(c) != a1


def test_manual_seed_makes_an_unseeded_loader_repeat():
    loader = DataLoader(indexed_images(30), batch_size=7, shuffle=True)
    gk.manual_seed(11)
    first = epoch_indices(loader)
    gk.manual_seed(11)
    assert epoch_indices(loader) == first


@pytest.mark.parametrize("drop_last", [False, True])
def test_last_partial_batch_kept_or_dropped_as_torch(drop_last):
    loader = DataLoader(indexed_images(10), batch_size=4, drop_last=drop_last)
    ref = tud.DataLoader(torch.arange(10), batch_size=4, drop_last=drop_last)
    assert epoch_indices(loader) == [b.tolist() for b in ref]
    assert len(loader) == len(ref) == (2 if drop_last else 3)


def test_augmented_batches_are_reproducible_for_any_number_of_workers():
    rng = np.random.default_rng(0)
    ds = ArrayDataset(rng.random((50, 3, 8, 8), dtype=np.float32), rng.integers(0, 10, 50))
    tf = T.Compose([T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(), T.ColorJitter(0.4)])
    runs = []
    for workers, prefetch in [(0, False), (1, True), (4, True)]:
        loader = DataLoader(ds, batch_size=8, shuffle=True, transform=tf, seed=3,
                            num_workers=workers, prefetch=prefetch)
        runs.append([np.concatenate([x.numpy().ravel(), y.numpy()]) for x, y in loader])
    for run in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(runs[0], run))
    plain = [(x.numpy(), y.numpy()) for x, y in DataLoader(ds, batch_size=8, shuffle=True,
                                                           seed=3)]
    first = runs[0][0]
    np.testing.assert_array_equal(first[-8:], plain[0][1])  # same shuffle, labels untouched
    assert not np.array_equal(first[:-8], plain[0][0].ravel())  # images augmented


def test_transform_leaves_labels_with_their_images():
    loader = DataLoader(indexed_images(40), batch_size=16, shuffle=True, seed=0,
                        transform=T.Compose([T.RandomHorizontalFlip(), T.RandomVerticalFlip()]))
    for x, y in loader:
        np.testing.assert_array_equal(x.numpy()[:, 0, 0, 0], y.numpy())


def test_mixup_in_the_loader_gives_soft_targets():
    loader = DataLoader(indexed_images(12), batch_size=6, transform=T.MixUp(0.4, num_classes=12),
                        seed=0)
    x, y = next(iter(loader))
    assert y.shape == (6, 12) and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1, rtol=1e-6)


class CountingDataset(TensorDataset):
    def __init__(self, *arrays):
        super().__init__(*arrays)
        self.getitem_calls = self.batch_calls = 0

    def __getitem__(self, index):
        self.getitem_calls += 1
        return super().__getitem__(index)

    def get_batch(self, indices):
        self.batch_calls += 1
        return super().get_batch(indices)


class PlainDataset(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])

    def __len__(self):
        return len(self.x)


def test_array_datasets_are_gathered_a_batch_at_a_time_not_sample_by_sample():
    x, y = np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20)
    counting = CountingDataset(x, y)
    fast = [(a.numpy(), b.numpy()) for a, b in DataLoader(counting, batch_size=6, shuffle=True,
                                                          seed=1)]
    assert counting.getitem_calls == 0 and counting.batch_calls == 4
    slow = [(a.numpy(), b.numpy()) for a, b in DataLoader(PlainDataset(x, y), batch_size=6,
                                                          shuffle=True, seed=1)]
    for (xa, ya), (xb, yb) in zip(fast, slow):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert slow[0][0].dtype == np.float32 and slow[0][1].dtype == np.int64


def test_collate_fn_gets_the_list_of_samples_as_in_torch():
    calls = []

    def collate(samples):
        calls.append(len(samples))
        return np.stack([s[0] for s in samples]), np.array([s[1] for s in samples])

    ds = TensorDataset(np.ones((5, 2), np.float32), np.arange(5))
    batches = list(DataLoader(ds, batch_size=2, collate_fn=collate))
    assert calls == [2, 2, 1] and batches[2][1].numpy().tolist() == [4]


def test_subset_and_concat_keep_the_fast_path_and_the_order():
    a = TensorDataset(np.arange(5.0)[:, None], np.arange(5))
    b = TensorDataset(np.arange(5.0, 12.0)[:, None], np.arange(5, 12))
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 12 and has_batches(cat)
    idx = np.array([11, 0, 6, 4, 5, -1])
    xb, yb = cat.get_batch(idx)
    np.testing.assert_array_equal(yb, [11, 0, 6, 4, 5, 11])
    assert [int(cat[i][1]) for i in (11, 0, 6, -12)] == [11, 0, 6, 0]
    sub = Subset(cat, [7, 2, 9])
    assert has_batches(sub) and not has_batches(PlainDataset([1], [1]))
    np.testing.assert_array_equal(sub.get_batch(np.array([2, 0]))[1], [9, 7])
    assert int(sub[1][1]) == 2 and len(sub) == 3
    assert epoch_indices(DataLoader(sub, batch_size=2)) == [[7, 2], [9]]


def test_random_split_lengths_match_torch_and_are_disjoint():
    ds = indexed_images(10)
    for lengths in ([3, 7], [0.5, 0.3, 0.2], [0.33, 0.33, 0.34], [0.25, 0.25, 0.25, 0.25]):
        parts = random_split(ds, lengths, generator=np.random.default_rng(0))
        ref = tud.random_split(range(10), lengths)
        assert [len(p) for p in parts] == [len(r) for r in ref]
        flat = np.concatenate([p.indices for p in parts])
        assert sorted(flat.tolist()) == list(range(10))
    with pytest.raises(ValueError, match="does not equal"):
        random_split(ds, [3, 3])


def test_tensor_dataset_with_gk_tensors():
    ds = TensorDataset(gk.randn(6, 3), gk.arange(6))
    x, y = ds[2]
    assert isinstance(x, gk.Tensor) and int(y.item()) == 2
    xb, yb = next(iter(DataLoader(ds, batch_size=6)))
    np.testing.assert_array_equal(xb.numpy(), ds.tensors[0].numpy())
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))


def test_argument_rules_as_torch():
    ds = indexed_images(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    loader = DataLoader(ds, batch_sampler=[[3, 1], [0]])
    assert epoch_indices(loader) == [[3, 1], [0]] and len(loader) == 2
    assert epoch_indices(DataLoader(ds, sampler=[2, 0, 1], batch_size=2)) == [[2, 0], [1]]


def test_breaking_out_of_an_epoch_then_starting_again():
    loader = DataLoader(indexed_images(64), batch_size=4, num_workers=2)
    for _ in loader:
        break
    assert len(epoch_indices(loader)) == 16


def test_loader_errors_surface_in_the_training_thread():
    def broken(x, y):
        raise RuntimeError("bad augmentation")

    with pytest.raises(RuntimeError, match="bad augmentation"):
        list(DataLoader(indexed_images(8), batch_size=4, transform=broken))


def test_prefetch_overlaps_loading_with_training():
    delay = 0.04

    def slow(x, y):
        time.sleep(delay)  # stands for augmentation; sleeping releases the GIL as NumPy does
        return x, y

    def epoch_time(prefetch):
        loader = DataLoader(indexed_images(48), batch_size=6, transform=slow, prefetch=prefetch)
        start = time.perf_counter()
        for _ in loader:
            time.sleep(delay)  # stands for the training step
        return time.perf_counter() - start

    serial, overlapped = epoch_time(False), epoch_time(True)
    assert serial > 8 * 2 * delay
    assert overlapped < 0.8 * serial
    assert threading.active_count() < 10
