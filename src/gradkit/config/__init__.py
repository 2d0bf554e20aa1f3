"""Run configuration: what a training run is, as a validated tree (pydantic v2).

A run is described by a YAML file, CLI flags merged over it, or both; ``Config()`` is the main
job (LeNet-5 on MNIST-5k). Every section is checked when the config is built, and a mistake
raises ``ConfigError`` whose lines name the key path and what is allowed:

    optimizer.lr: must be > 0, got -1
    model.name: unknown model 'lenet'; known: mlp, maxout_mlp, lenet5, ...
    augmentation[0].params: RandomCrop has no argument 'pad'; its arguments: size, padding, ...

    cfg = load_config("run.yaml", overrides={"optimizer.lr": 0.01, "epochs": 5})
    save_config(cfg, "runs/x/config.yaml")      # the resolved config, every default written out

The file is merged over the main job and the overrides over that (``merge``): a key left out
keeps the main job's value, except in a section whose ``name`` changes, which starts from
that section's own defaults (switching to Adam does not inherit SGD's momentum).

Layout (YAML keys; ``params``/``kwargs`` are the keyword arguments of the thing named):

    name: null              # run name (one folder name); default <model>-<dataset>
    out: null               # run folder; default runs/<name> (a fresh one if that exists)
    seed: 0
    epochs: 20              # an int >= 1 (true/false and 2.0 are refused)
    batch_size: 64
    checkpoint_every: null  # also write checkpoints/last every N steps (null: every epoch)
    model: {name: lenet5, kwargs: {}}          # in_features/in_channels/num_classes from data
    dataset: {name: mnist5k, root: null, val_fraction: 0.1, test_fraction: 0.2, kwargs: {}}
    preprocessing: {name: standardize, params: {}}      # fitted on the training split only
    augmentation: [{name: RandomAffine, params: {degrees: 10, ...}}]   # or just names;
                            # left out: RandomAffine for images, none for vectors/sequences
    optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.0005}
    schedule: {name: onecycle, params: {}, interval: null, warmup_epochs: 0}
    regularization: {clip_norm: null, dropout: 0.0, label_smoothing: 0.0,
                     decay_bias_and_norm: false, ema_decay: null}
    callbacks: [{name: EarlyStopping, params: {patience: 5}}]  # from gradkit.train.callbacks

The params of every named thing (augmentation, schedule, callbacks, model kwargs) are bound
to its class's signature and checked (gradkit.config.params): ``schedule.params.gamma: x`` or
``step_size: -1`` fail here, before any data loads, not at the end of epoch 1. Numbers must be
finite (``lr: .inf`` is refused).

Weight decay lives in ``optimizer`` (PyTorch's coupled L2 for SGD/Adam, decoupled for AdamW);
biases and BatchNorm parameters are not decayed unless ``regularization.decay_bias_and_norm``.
Optimizer fields the chosen optimizer does not have (momentum for Adam) are dropped when the
config is resolved and the ones left None get the optimizer's defaults, so the saved config
shows exactly what was used.
"""

from gradkit.config.loading import (ConfigError, config_yaml, load_config, make_config, merge,
                                    read_yaml, save_config, set_key)
from gradkit.config.data_fit import augmentation_misfit, default_augmentation, sample_shape
from gradkit.config.schema import (AugmentationConfig, CallbackConfig, Config, DatasetConfig,
                                   ModelConfig, OptimizerConfig, PreprocessingConfig,
                                   RegularizationConfig, ScheduleConfig, arguments,
                                   build_transform, callback_names, check_arguments,
                                   optimizer_class, preprocessor_class, scheduler_class,
                                   transform_names)

__all__ = ["Config", "ModelConfig", "DatasetConfig", "PreprocessingConfig",
           "AugmentationConfig", "OptimizerConfig", "ScheduleConfig", "RegularizationConfig",
           "CallbackConfig", "callback_names", "sample_shape", "default_augmentation",
           "augmentation_misfit", "ConfigError", "load_config", "make_config", "merge",
           "set_key", "read_yaml",
           "config_yaml", "save_config", "arguments", "check_arguments", "build_transform",
           "optimizer_class", "scheduler_class", "preprocessor_class", "transform_names"]
