"""Samplers: index lists against torch.utils.data, coverage, and reproducibility."""

import itertools
import tracemalloc

import numpy as np
import pytest
import torch.utils.data as tud

from gradkit.data import (BatchSampler, DistributedSampler, RandomSampler, SequentialSampler,
                          SubsetRandomSampler)


def test_sequential_matches_torch():
    data = list(range(7))
    assert list(SequentialSampler(data)) == list(tud.SequentialSampler(data))
    assert len(SequentialSampler(data)) == 7


@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 4, False), (10, 4, True), (8, 4, True),
                                                    (3, 5, False), (3, 5, True), (1, 1, False)])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    ref = tud.BatchSampler(tud.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(ref)
    assert len(ours) == len(ref)


def test_batch_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(SequentialSampler(range(3)), 0, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(SequentialSampler(range(3)), 2, 1)


def test_random_sampler_is_a_new_permutation_each_epoch_and_seeded():
    sampler = RandomSampler(range(50), generator=np.random.default_rng(0))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second
    again = RandomSampler(range(50), generator=np.random.default_rng(0))
    assert list(again) == first and list(again) == second


def test_random_sampler_num_samples_and_replacement():
    sampler = RandomSampler(range(4), num_samples=10, generator=np.random.default_rng(1))
    idx = list(sampler)
    assert len(idx) == len(sampler) == 10
    assert sorted(idx[:4]) == sorted(idx[4:8]) == [0, 1, 2, 3]  # whole permutations first
    with_repl = list(RandomSampler(range(3), replacement=True, num_samples=200,
                                   generator=np.random.default_rng(2)))
    assert len(with_repl) == 200 and set(with_repl) == {0, 1, 2}
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(3), num_samples=0)


def test_subset_random_sampler_permutes_the_given_indices():
    idx = [3, 9, 4, 12]
    out = list(SubsetRandomSampler(idx, generator=np.random.default_rng(0)))
    assert sorted(out) == sorted(idx) and len(out) == 4


@pytest.mark.parametrize("n", [10, 11, 12, 3])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_unshuffled_matches_torch(n, replicas, drop_last):
    if drop_last and n < replicas:
        return
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        ref = tud.DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(ref)
        assert len(ours) == len(ref)


@pytest.mark.parametrize("n,replicas", [(12, 3), (12, 4), (100, 5)])
def test_distributed_shards_are_disjoint_and_cover(n, replicas):
    shards = [list(DistributedSampler(range(n), replicas, r, seed=7)) for r in range(replicas)]
    flat = [i for s in shards for i in s]
    assert sorted(flat) == list(range(n))
    assert all(len(s) == n // replicas for s in shards)
    assert flat != sorted(flat)  # shuffled


def test_distributed_padding_and_drop_last_cover_as_torch_does():
    n, replicas = 10, 4
    padded = [list(DistributedSampler(range(n), replicas, r, seed=1)) for r in range(replicas)]
    assert set(i for s in padded for i in s) == set(range(n))
    assert [len(s) for s in padded] == [len(tud.DistributedSampler(range(n), replicas, r))
                                        for r in range(replicas)] == [3] * 4
    dropped = [list(DistributedSampler(range(n), replicas, r, seed=1, drop_last=True))
               for r in range(replicas)]
    flat = [i for s in dropped for i in s]
    assert len(flat) == len(set(flat)) == 8


def test_distributed_set_epoch_reshuffles_the_same_way_on_every_replica():
    samplers = [DistributedSampler(range(20), 2, r, seed=3) for r in range(2)]
    epoch0 = [list(s) for s in samplers]
    for s in samplers:
        s.set_epoch(1)
    epoch1 = [list(s) for s in samplers]
    assert epoch0 != epoch1
    for shards in (epoch0, epoch1):
        assert sorted(shards[0] + shards[1]) == list(range(20))
    assert [list(DistributedSampler(range(20), 2, 0, seed=3))] == [epoch0[0]]


def test_distributed_rejects_bad_rank():
    with pytest.raises(ValueError, match="Invalid rank"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="num_replicas and rank"):
        DistributedSampler(range(4))


@pytest.mark.parametrize("sampler", [SequentialSampler, RandomSampler])
def test_batch_sampler_makes_batches_as_they_are_taken(sampler):
    n = 10 ** 6
    batch_sampler = BatchSampler(sampler(range(n)), 1, False)
    tracemalloc.start()
    try:
        firsts = [int(b[0]) for b in itertools.islice(batch_sampler.batches(), 2000)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    order = 8 * n  # the epoch's indices, one int64 a sample (7.6 MiB)
    assert peak - order < 2 ** 20  # a list of all 10⁶ batch views up front was +142 MB
    assert len(set(firsts)) == 2000
    if sampler is SequentialSampler:
        assert firsts == list(range(2000))


def test_batch_sampler_draws_the_order_when_the_epoch_starts():
    generator = np.random.default_rng(0)
    batches = BatchSampler(RandomSampler(range(10), generator=generator), 3, False).batches()
    drawn = generator.bit_generator.state
    taken = [b.tolist() for b in batches]  # no draw while the batches are taken
    assert generator.bit_generator.state == drawn
    assert sorted(sum(taken, [])) == list(range(10)) and [len(b) for b in taken] == [3, 3, 3, 1]
