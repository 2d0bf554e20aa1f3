"""A tiny run config for the search tests: a 16-unit MLP on the 300-point spiral (each
epoch trains in a few milliseconds)."""

import pytest

pytest.importorskip("optuna")  # the tune extra

from gradkit.config import make_config  # noqa: E402


def tiny_config(epochs=2):
    return make_config({"model": {"name": "mlp", "kwargs": {"hidden": [16]}},
                        "dataset": {"name": "spiral", "val_fraction": 0.3},
                        "epochs": epochs, "batch_size": 32, "schedule": {"name": "constant"},
                        "optimizer": {"name": "adam", "lr": 0.01}})


@pytest.fixture
def config():
    return tiny_config()


@pytest.fixture
def make_tiny():
    return tiny_config
