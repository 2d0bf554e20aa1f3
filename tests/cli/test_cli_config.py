"""The run config: defaults are the main job; errors name the key path and what is allowed;
YAML files and flags merge; the resolved config round-trips through config.yaml."""

from pathlib import Path

import pytest
import yaml

from gradkit import cli
from gradkit.cli.train import train_overrides
from gradkit.config import (Config, ConfigError, config_yaml, load_config, make_config, merge,
                            save_config)


def test_default_config_is_the_main_job():
    cfg = Config()
    assert (cfg.model.name, cfg.dataset.name) == ("lenet5", "mnist5k")
    assert cfg.run_name() == "lenet5-mnist5k"
    assert cfg.to_dict()["optimizer"] == {"name": "sgd", "lr": 0.05, "momentum": 0.9,
                                          "nesterov": True, "weight_decay": 0.0005}
    assert cfg.schedule.resolved_interval() == "step"  # onecycle is stepped per batch
    assert load_config().to_dict() == cfg.to_dict()


@pytest.mark.parametrize("data, expected", [
    ({"optimizer": {"lr": -1}}, "optimizer.lr: must be > 0, got -1"),
    ({"epochs": 0}, "epochs: must be > 0, got 0"),
    ({"dataset": {"val_fraction": 1.5}}, "dataset.val_fraction: must be < 1, got 1.5"),
    ({"model": {"name": "lenet"}},
     "model.name: unknown model 'lenet'; known: mlp, maxout_mlp, lenet5,"),
    ({"model": {"kwargs": {"hidden": [10]}}},
     "model.kwargs: lenet5 has no argument 'hidden'; its arguments: in_channels, num_classes"),
    ({"dataset": {"name": "mnist"}}, "dataset.name: unknown dataset 'mnist'; known: spiral,"),
    ({"optimizr": {}}, "optimizr: unknown key; allowed: name, out, seed, epochs, batch_size"),
    ({"optimizer": {"nme": "sgd"}}, "optimizer.nme: unknown key; allowed: name, lr, momentum"),
    ({"optimizer": {"name": "lbfgs"}},
     "optimizer.name: must be one of 'sgd', 'adam', 'adamw', 'rmsprop' or 'adagrad', got "
     '"lbfgs"'),
    ({"optimizer": {"betas": [0.9, 2]}}, "optimizer.betas: both must be in [0, 1)"),
    ({"schedule": {"name": "step"}},
     "schedule.params: StepLR needs 'step_size'; its arguments: step_size, gamma"),
    ({"schedule": {"name": "onecycle", "warmup_epochs": 1}},
     "schedule.warmup_epochs: onecycle cannot follow a warm-up"),
    ({"augmentation": [{"name": "RandomCrop", "params": {"pad": 2}}]},
     "augmentation[0].params: RandomCrop has no argument 'pad'; its arguments: size, padding"),
    ({"augmentation": ["RandomHorizontalFlip", "flipp"]},
     "augmentation[1].name: unknown transform 'flipp'; known: RandomHorizontalFlip,"),
    ({"preprocessing": {"name": "pca", "params": {"n_comp": 3}}},
     "preprocessing.params: PCA has no argument 'n_comp'; its arguments: n_components"),
    ({"regularization": {"ema_decay": 1.0}}, "regularization.ema_decay: must be < 1, got 1.0"),
])
def test_errors_name_the_key_path_and_what_is_allowed(data, expected):
    with pytest.raises(ConfigError) as err:
        make_config(merge(Config().model_dump(mode="json"), data))
    assert expected in str(err.value)
    assert any(line.startswith(expected.split(":")[0] + ":") for line in err.value.errors)


def test_every_error_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        make_config({"epochs": -1, "batch_size": 0, "optimizer": {"lr": 0}})
    assert [e.split(":")[0] for e in err.value.errors] == ["epochs", "batch_size",
                                                           "optimizer.lr"]


def test_yaml_file_merges_over_the_defaults_and_flags_over_the_file(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("epochs: 3\noptimizer: {lr: 0.2}\nmodel: {name: mlp, kwargs: {hidden: [32]}}\n"
                    "augmentation: [RandomHorizontalFlip]\n")
    cfg = load_config(path, {"epochs": 5, "model.kwargs.activation": "tanh"})
    assert cfg.epochs == 5
    assert (cfg.optimizer.lr, cfg.optimizer.momentum) == (0.2, 0.9)  # momentum: main job's
    assert cfg.model.kwargs == {"hidden": [32], "activation": "tanh"}
    assert [a.name for a in cfg.augmentation] == ["RandomHorizontalFlip"]
    assert cfg.dataset.name == "mnist5k"


def test_a_section_whose_name_changes_starts_from_its_own_defaults():
    cfg = load_config(None, {"optimizer.name": "adam"})
    assert cfg.to_dict()["optimizer"] == {"name": "adam", "lr": 0.001, "weight_decay": 0,
                                          "betas": [0.9, 0.999], "eps": 1e-08}
    cfg = load_config(None, {"optimizer.name": "rmsprop", "optimizer.lr": 0.01})
    assert cfg.optimizer.kwargs()["momentum"] == 0  # not SGD's 0.9
    cfg = load_config(None, {"schedule.name": "step", "schedule.params": {"step_size": 2}})
    assert cfg.schedule.params == {"step_size": 2} and cfg.schedule.interval is None


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("optimizer: {lr: -3}\n")
    with pytest.raises(ConfigError, match=r"in .*bad.yaml:\n  optimizer.lr: must be > 0"):
        load_config(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping of keys at the top, got a list"):
        load_config(bad)
    bad.write_text("epochs: [1\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no file"):
        load_config(tmp_path / "missing.yaml")


def test_saved_config_round_trips(tmp_path):
    crop = {"name": "RandomCrop", "params": {"size": 28, "padding": 2}}
    cfg = load_config(None, {"model.name": "mlp", "model.kwargs": {"hidden": [64, 32]},
                             "schedule.name": "cosine", "schedule.warmup_epochs": 1,
                             "regularization.clip_norm": 5.0, "augmentation": [crop]})
    path = save_config(cfg, tmp_path / "sub" / "config.yaml")
    text = path.read_text()
    assert text == config_yaml(cfg)
    assert yaml.safe_load(text)["schedule"]["interval"] == "epoch"
    again = load_config(path)
    assert again.to_dict() == cfg.to_dict()


def test_cli_flags_become_config_keys():
    args = cli.build_parser().parse_args([
        "train", "--model", "mlp", "--dataset", "digits", "--epochs", "3", "--batch-size", "16",
        "--lr", "0.1", "--optimizer", "adam", "--weight-decay", "0.01", "--schedule", "cosine",
        "--seed", "7", "--out", "x", "--augment", "RandomCrop(size=8, padding=1)",
        "--augment", "RandomHorizontalFlip", "--set", "model.kwargs.hidden=[20, 10]",
        "--set", "regularization.dropout=0.1"])
    overrides = train_overrides(args)
    assert overrides == {
        "model.name": "mlp", "dataset.name": "digits", "epochs": 3, "batch_size": 16,
        "optimizer.lr": 0.1, "optimizer.name": "adam", "optimizer.weight_decay": 0.01,
        "schedule.name": "cosine", "seed": 7, "out": "x",
        "augmentation": [{"name": "RandomCrop", "params": {"size": 8, "padding": 1}},
                         {"name": "RandomHorizontalFlip", "params": {}}],
        "model.kwargs.hidden": [20, 10], "regularization.dropout": 0.1}
    cfg = load_config(None, overrides)
    assert cfg.model.kwargs == {"hidden": [20, 10]} and cfg.optimizer.weight_decay == 0.01
    def augment(*specs):
        argv = ["train"] + [a for spec in specs for a in ("--augment", spec)]
        return train_overrides(cli.build_parser().parse_args(argv))["augmentation"]

    assert augment("none") == []
    assert augment("RandomCrop(size=8)", "None", "MixUp(alpha=0.2)") == [
        {"name": "MixUp", "params": {"alpha": 0.2}}]


@pytest.mark.parametrize("argv, expected", [
    (["train", "--lr", "-1"], "optimizer.lr: must be > 0, got -1"),
    (["train", "--model", "lenet"], "model.name: unknown model 'lenet'"),
    (["train", "--augment", "RandomCrop(28"], "cannot read --augment 'RandomCrop(28'"),
    (["train", "--set", "epochs"], "--set 'epochs': expected KEY=VALUE"),
    (["train", "--dataset", "npz", "--model", "mlp"], "dataset.root: npz needs its file"),
    (["train", "--resume", "somewhere", "--lr", "0.1"],
     "optimizer.lr: --resume continues the run exactly as its config.yaml says"),
    (["train", "--schedule", "step", "--set", "schedule.params={step_size: 2, gamma: x}"],
     'schedule.params.gamma: StepLR: must be a finite number, got "x"'),
    (["train", "--schedule", "step", "--set", "schedule.params={step_size: -1}"],
     "schedule.params.step_size: StepLR: must be an int > 0, got -1"),
    (["train", "--set", "epochs=true"], "epochs: must be an integer"),
    (["train", "--resume", "somewhere", "--config", "x.yaml"],
     "config: --resume trains with the run's own config; drop --config"),
])
def test_cli_config_errors_exit_2_with_the_key(argv, expected, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradkit train: error: invalid config") and expected in err


def test_print_config_shows_the_resolved_config(capsys):
    assert cli.main(["train", "--optimizer", "adamw", "--epochs", "2", "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["epochs"] == 2
    assert printed["optimizer"] == {"name": "adamw", "lr": 0.001, "weight_decay": 0.01,
                                    "betas": [0.9, 0.999], "eps": 1e-08}


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "configs"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_configs_are_valid(path):
    cfg = load_config(path)
    if path.name == "lenet5_mnist5k.yaml":
        assert cfg.to_dict() == Config().to_dict()  # the main job, spelled out
