"""Names of gk.nn that live elsewhere: nn.SyncBatchNorm is gradkit.distributed's."""

import pytest

import gradkit as gk
import gradkit.distributed as dist


def test_sync_batchnorm_is_reachable_from_nn_as_in_pytorch():
    assert gk.nn.SyncBatchNorm is dist.SyncBatchNorm
    model = gk.nn.SyncBatchNorm.convert_sync_batchnorm(gk.nn.Sequential(gk.nn.BatchNorm2d(3)))
    assert isinstance(model[0], dist.SyncBatchNorm)
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchLayer'"):
        gk.nn.NoSuchLayer
