"""DistributedSampler against torch's, in one process (num_replicas and rank given)."""

import numpy as np
import pytest
import torch

from gradkit.data import DataLoader
from gradkit.distributed import DistributedSampler


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False)])
def test_unshuffled_shards_equal_torch(n, replicas, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(data, replicas, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_shuffled_shards_are_one_epoch_that_changes_with_set_epoch():
    samplers = [DistributedSampler(range(12), 3, rank, seed=5) for rank in range(3)]
    first = np.concatenate([s.epoch_indices() for s in samplers])
    assert sorted(first.tolist()) == list(range(12)) and first.tolist() != list(range(12))
    for s in samplers:
        s.set_epoch(1)
    second = np.concatenate([s.epoch_indices() for s in samplers])
    assert sorted(second.tolist()) == list(range(12)) and second.tolist() != first.tolist()


def test_the_loader_takes_it_and_a_bad_rank_is_refused():
    x = np.arange(10.0)[:, None]
    loader = DataLoader(x, batch_size=2, sampler=DistributedSampler(x, 2, 1, shuffle=False))
    assert [b.numpy().ravel().tolist() for b in loader] == [[1, 3], [5, 7], [9]]
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval"):
        DistributedSampler(x, 2, 2)
