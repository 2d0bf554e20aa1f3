"""Config checks made before any data loads: the params of the thing named, numbers that must
be finite, ints that must be ints, callbacks by name, augmentation that fits the data."""

import numpy as np
import pytest

from gradkit import experiment
from gradkit.config import ConfigError, load_config, make_config

MLP = {"model.name": "mlp", "preprocessing.name": "none"}


def _error(data):
    with pytest.raises(ConfigError) as info:
        make_config(data)
    return info.value.errors


@pytest.mark.parametrize("data,line", [
    ({"schedule": {"name": "step", "params": {"step_size": 2, "gamma": "x"}}},
     'schedule.params.gamma: StepLR: must be a finite number, got "x"'),
    ({"schedule": {"name": "step", "params": {"step_size": -1}}},
     "schedule.params.step_size: StepLR: must be an int > 0, got -1"),
    ({"schedule": {"name": "multistep", "params": {"milestones": [3, "a"]}}},
     'schedule.params.milestones: MultiStepLR: must be a list of ints > 0, got [3, "a"]'),
    ({"schedule": {"name": "onecycle", "params": {"pct_start": 1.5}}},
     "schedule.params: OneCycleLR: Expected float between 0 and 1 pct_start, but got 1.5"),
    ({"optimizer": {"lr": float("inf")}}, "optimizer.lr: input should be a finite number, "
                                          "got Infinity"),
    ({"epochs": True}, "epochs: must be an integer (not true/false, not a decimal), got true"),
    ({"epochs": 2.5}, "epochs: must be an integer (not true/false, not a decimal), got 2.5"),
    ({"checkpoint_every": 0}, "checkpoint_every: must be > 0, got 0"),
    ({"augmentation": [{"name": "RandomHorizontalFlip", "params": {"p": "often"}}]},
     'augmentation[0].params.p: RandomHorizontalFlip: must be a finite number, got "often"'),
    ({"model": {"name": "mlp", "kwargs": {"dropout": "x"}}},
     'model.kwargs.dropout: mlp: must be a finite number, got "x"'),
    ({"optimizer": {"name": "adam", "momentum_typo": 0.9}},
     "optimizer.momentum_typo: unknown key; allowed: name, lr, momentum, nesterov, "
     "weight_decay, betas, eps"),
])
def test_bad_values_name_their_key_path(data, line):
    assert _error(data) == [line]


@pytest.mark.parametrize("spec,line", [
    ({"name": "EarlyStopping", "params": {"patience": 0}},
     "callbacks[0].params.patience: EarlyStopping: must be an int > 0, got 0"),
    ({"name": "EarlyStopping", "params": {"patiense": 3}},
     "callbacks[0].params: EarlyStopping has no argument 'patiense'; its arguments: monitor, "
     "mode, patience, min_delta, trigger"),
    ({"name": "EarlyStopping", "params": {"mode": "up"}},
     "callbacks[0].params: EarlyStopping: EarlyStopping: mode must be 'max' or 'min', "
     "got 'up'"),
    ("Checkpoint", "callbacks[0].name: Checkpoint is built in: every run keeps checkpoints; "
                   "see checkpoint_every"),
    ("Nope", "callbacks[0].name: unknown callback 'Nope'; known: "),
])
def test_callbacks_are_checked_against_their_class(spec, line):
    (error,) = _error({"callbacks": [spec]})
    assert error.startswith(line)


def test_a_callback_is_built_from_the_config():
    config = make_config({"callbacks": [{"name": "EarlyStopping",
                                         "params": {"monitor": "val_accuracy", "patience": 4}}]})
    stopper = config.callbacks[0].build()
    assert (type(stopper).__name__, stopper.monitor, stopper.mode, stopper.patience) == \
        ("EarlyStopping", "val_accuracy", "max", 4)


@pytest.mark.parametrize("dataset,expected", [("spiral", []), ("mnist1d", []), ("npz", []),
                                              ("digits", ["RandomAffine"]),
                                              ("mnist5k", ["RandomAffine"])])
def test_the_default_augmentation_follows_the_data(dataset, expected):
    config = load_config(overrides={**MLP, "dataset.name": dataset})
    assert [a.name for a in config.augmentation] == expected


@pytest.mark.parametrize("dataset,shape", [("spiral", "(2,)"), ("mnist1d", "(40,)")])
def test_an_image_augmentation_on_vectors_is_refused_before_loading(dataset, shape):
    with pytest.raises(ConfigError) as info:
        load_config(overrides={**MLP, "dataset.name": dataset,
                               "augmentation": [{"name": "RandomAffine",
                                                 "params": {"degrees": 10}}]})
    assert info.value.errors == [
        f"augmentation[0]: RandomAffine needs images (N, C, H, W) but {dataset} gives vectors "
        f"{shape}; remove it with --augment none (or augmentation: [] in the config)"]
    config = load_config(overrides={**MLP, "dataset.name": dataset,
                                    "augmentation": ["GaussianNoise"]})
    assert [a.name for a in config.augmentation] == ["GaussianNoise"]  # not images-only


def test_npz_vectors_with_an_image_augmentation_are_refused_once_loaded(tmp_path):
    path = tmp_path / "v.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.normal(size=(20, 5)).astype(np.float32), y=np.arange(20) % 2)
    config = load_config(overrides={**MLP, "dataset.name": "npz", "dataset.root": str(path),
                                    "augmentation": ["RandomHorizontalFlip"]})
    with pytest.raises(ConfigError, match=r"augmentation\[0\]: RandomHorizontalFlip needs "
                                          r"images \(N, C, H, W\) but npz gives vectors \(5,\)"):
        experiment.load_splits(config)
