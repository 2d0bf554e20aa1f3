"""The sections of a run config (pydantic v2 models) and the classes their names refer to.
See gradkit.config for the layout and how configs are loaded."""

import inspect
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gradkit.config.data_fit import augmentation_misfit, default_augmentation, sample_shape

OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
              "adagrad": "Adagrad"}
SCHEDULES = {"constant": None, "step": "StepLR", "multistep": "MultiStepLR",
             "exponential": "ExponentialLR", "inverse_time": "InverseTimeLR",
             "cosine": "CosineAnnealingLR", "linear": "LinearLR", "onecycle": "OneCycleLR",
             "plateau": "ReduceLROnPlateau"}
PREPROCESSORS = {"none": None, "standardize": "Standardize", "pca": "PCA", "whiten": "Whiten"}
# Arguments the run fills in itself, never taken from params/kwargs.
_AUTO_ARGS = {"generator", "optimizer", "last_epoch", "params", "split"}


def arguments(fn):
    """{name: inspect.Parameter} of a function or class, without the ones the run supplies."""
    return {k: p for k, p in inspect.signature(fn).parameters.items()
            if k not in _AUTO_ARGS and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def check_arguments(fn, given, what, required=True):
    """Raise ValueError unless every key of ``given`` is an argument of ``fn`` (and, with
    ``required``, every argument without a default is given)."""
    accepted = arguments(fn)
    unknown = [k for k in given if k not in accepted]
    if unknown:
        raise ValueError(f"{what} has no argument {unknown[0]!r}; its arguments: "
                         f"{', '.join(accepted) or 'none'}")
    missing = [k for k, p in accepted.items() if required and p.default is p.empty
               and k not in given]
    if missing:
        raise ValueError(f"{what} needs {', '.join(map(repr, missing))}; its arguments: "
                         f"{', '.join(accepted)}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class ModelConfig(_Section):
    """``name``: a model of gradkit.models; ``kwargs``: its keyword arguments (in_features,
    in_channels and num_classes, when it has them, are taken from the dataset if left out)."""

    name: str = "lenet5"
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self):
        from gradkit import models

        known = models.list_models()
        if self.name not in known:
            raise ValueError(f"name: unknown model {self.name!r}; known: {', '.join(known)}")
        from gradkit.config.params import check_params

        try:
            check_params(getattr(models, self.name), self.kwargs, self.name, required=False)
        except ValueError as err:
            raise ValueError(f"kwargs{str(err)[len('params'):]}") from None
        return self


class DatasetConfig(_Section):
    """``name``: a dataset of ``gradkit datasets``; ``root``: its folder or file (cifar10,
    imagefolder, npz); ``val_fraction``: share of the training split held out (stratified)
    for validation, 0 for none; ``test_fraction``: share held out as the test set for a
    dataset without a test split (spiral, digits, imagefolder, npz); ``kwargs``: more
    arguments of the loader (e.g. ``num_samples`` for mnist1d)."""

    name: str = "mnist5k"
    root: str | None = None
    val_fraction: float = Field(0.1, ge=0, lt=1)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self):
        from gradkit.data.datasets import REGISTRY

        if self.name not in REGISTRY:
            raise ValueError(f"name: unknown dataset {self.name!r}; known: "
                             f"{', '.join(REGISTRY)}")
        loader = REGISTRY[self.name].loader
        taken = {"root", "path", "cache_dir"} & set(arguments(loader))
        try:
            check_arguments(loader, {**self.kwargs, **{k: None for k in taken}}, self.name)
        except ValueError as err:
            raise ValueError(f"kwargs: {err}") from None
        return self


class PreprocessingConfig(_Section):
    """Fitted on the training split only, then applied to every split and at prediction:
    ``standardize`` (per-channel mean/std), ``pca``, ``whiten`` or ``none``; ``params``: the
    arguments of gradkit.data.Standardize / PCA / Whiten."""

    name: Literal["none", "standardize", "pca", "whiten"] = "standardize"
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _params(self):
        cls = preprocessor_class(self.name)
        if cls is None and self.params:
            raise ValueError("params: preprocessing 'none' takes no params")
        if cls is not None:
            try:
                check_arguments(cls, self.params, cls.__name__)
            except ValueError as err:
                raise ValueError(f"params: {err}") from None
        return self


class AugmentationConfig(_Section):
    """One batch transform of gradkit.data.transforms by class name, with its arguments.
    In YAML a bare name (``- RandomHorizontalFlip``) is short for ``{name: ..., params: {}}``."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value):
        value = {"name": value} if isinstance(value, str) else value
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            known = transform_names()
            match = {n.lower(): n for n in known}.get(value["name"].lower())
            if match is None:
                raise ValueError(f"name: unknown transform {value['name']!r}; known: "
                                 f"{', '.join(known)}")
            value = {**value, "name": match}
        return value

    @model_validator(mode="after")
    def _build(self):
        from gradkit.config.params import check_params
        from gradkit.data import transforms

        params = {k: v for k, v in self.params.items() if k != "num_classes"}
        check_params(getattr(transforms, self.name), params, self.name, required=False)
        try:
            build_transform(self)
        except (TypeError, ValueError) as err:
            raise ValueError(f"params: {err}") from None
        return self


class OptimizerConfig(_Section):
    """``name``: sgd, adam, adamw, rmsprop or adagrad (gradkit.optim); the other fields are
    passed to it when it has them (None: the optimizer's own default, e.g. lr 1e-3 for SGD
    and Adam, weight decay 0.01 for AdamW)."""

    name: Literal["sgd", "adam", "adamw", "rmsprop", "adagrad"] = "sgd"
    lr: float | None = Field(None, gt=0)
    momentum: float | None = Field(None, ge=0, lt=1)
    nesterov: bool | None = None
    weight_decay: float | None = Field(None, ge=0)
    betas: tuple[float, float] | None = None
    eps: float | None = Field(None, gt=0)

    @field_validator("betas")
    @classmethod
    def _betas(cls, value):
        if value is not None and not all(0 <= b < 1 for b in value):
            raise ValueError(f"both must be in [0, 1), got {list(value)}")
        return value

    @model_validator(mode="after")
    def _nesterov(self):
        if self.name == "sgd" and self.nesterov and not self.momentum:
            raise ValueError("nesterov: Nesterov momentum needs momentum > 0")
        return self

    def kwargs(self):
        """The fields the chosen optimizer accepts, with its own defaults for those left
        None (what the optimizer is built with, and what the saved config shows)."""
        accepted = arguments(optimizer_class(self.name))
        return {k: (v if v is not None else accepted[k].default)
                for k, v in self.model_dump(exclude={"name"}).items() if k in accepted}


class ScheduleConfig(_Section):
    """Learning-rate schedule (gradkit.optim.lr_scheduler): ``name`` and the scheduler's
    ``params``; ``interval``: step it every "epoch" or every "step" (default: per step for
    onecycle, per epoch otherwise). Counts in params are in intervals. Filled in when left
    out: cosine's T_max (the run's length after warm-up), onecycle's max_lr (the optimizer's
    lr) and total_steps. ``warmup_epochs``: a linear warm-up from lr/10 first."""

    name: Literal["constant", "step", "multistep", "exponential", "inverse_time", "cosine",
                  "linear", "onecycle", "plateau"] = "onecycle"
    params: dict[str, Any] = Field(default_factory=dict)
    interval: Literal["epoch", "step"] | None = None
    warmup_epochs: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _params(self):
        cls = scheduler_class(self.name)
        if cls is None:
            if self.params:
                raise ValueError("params: schedule 'constant' takes no params")
            return self
        from gradkit.config.params import check_params, trial_scheduler

        auto = {"CosineAnnealingLR": {"T_max": 10}, "OneCycleLR": {"max_lr": 0.1,
                                                                   "total_steps": 10}}
        filled = {k: v for k, v in auto.get(cls.__name__, {}).items() if k not in self.params}
        check_params(cls, {**self.params, **filled}, cls.__name__)
        trial_scheduler(cls, {**self.params, **filled})
        if self.name == "onecycle" and self.interval == "epoch":
            raise ValueError("interval: onecycle is stepped every step")
        if self.warmup_epochs and self.name in ("onecycle", "plateau"):
            raise ValueError(f"warmup_epochs: {self.name} cannot follow a warm-up "
                             "(onecycle warms up itself: see its pct_start)")
        return self

    def resolved_interval(self):
        return self.interval or ("step" if self.name == "onecycle" else "epoch")

    def fixed_length(self):
        """True for schedules planned over the run's length (onecycle; cosine, whose T_max
        is the run's length unless given): extending a run starts a fresh one."""
        return self.name == "onecycle" or (self.name == "cosine" and "T_max" not in self.params)


BUILT_IN_CALLBACKS = {"ProgressBar": "every run has one", "NaNGuard": "every run has one",
                      "MetricsLogger": "every run writes metrics.jsonl",
                      "Checkpoint": "every run keeps checkpoints; see checkpoint_every",
                      "LRScheduler": "set schedule instead",
                      "EMA": "set regularization.ema_decay instead",
                      "GradientClipping": "set regularization.clip_norm instead"}


def callback_names():
    """The callbacks a config may add: every Callback class gradkit.train.callbacks exports,
    less the ones each run builds itself."""
    from gradkit.train import callbacks
    return [n for n in callbacks.__all__ if isinstance(getattr(callbacks, n), type)
            and issubclass(getattr(callbacks, n), callbacks.Callback)
            and n != "Callback" and n not in BUILT_IN_CALLBACKS]


class CallbackConfig(_Section):
    """One callback of gradkit.train.callbacks by class name, with its arguments, e.g.
    ``{name: EarlyStopping, params: {monitor: val_loss, patience: 5}}`` (or a bare name)."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value):
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _known(self):
        from gradkit.config.params import check_params, trial_callback
        from gradkit.train import callbacks

        if self.name in BUILT_IN_CALLBACKS:
            raise ValueError(f"name: {self.name} is built in: {BUILT_IN_CALLBACKS[self.name]}")
        known = callback_names()
        if self.name not in known:
            raise ValueError(f"name: unknown callback {self.name!r}; known: {', '.join(known)}")
        cls = getattr(callbacks, self.name)
        check_params(cls, self.params, self.name)
        trial_callback(cls, self.params)
        return self

    def build(self):
        from gradkit.train import callbacks
        return getattr(callbacks, self.name)(**self.params)


class RegularizationConfig(_Section):
    """``clip_norm``: clip the gradients' joint L2 norm; ``dropout``: passed to the model
    when it has a dropout argument; ``label_smoothing``: of the cross-entropy;
    ``decay_bias_and_norm``: apply weight decay to biases and norm layers too;
    ``ema_decay``: keep a Polyak (EMA) average of the weights and evaluate with it."""

    clip_norm: float | None = Field(None, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    decay_bias_and_norm: bool = False
    ema_decay: float | None = Field(None, gt=0, lt=1)


def _main_job_optimizer():
    return OptimizerConfig(name="sgd", lr=0.05, momentum=0.9, nesterov=True,
                           weight_decay=5e-4)


class Config(_Section):
    """A whole run; the defaults are the main job (LeNet-5 on MNIST-5k, ≥ 97% test)."""

    name: str | None = None
    out: str | None = None
    seed: int = Field(0, strict=True)
    epochs: int = Field(20, gt=0, strict=True)
    batch_size: int = Field(64, gt=0, strict=True)
    checkpoint_every: int | None = Field(None, gt=0, strict=True)
    monitor: int | None = Field(None, gt=0, strict=True)
    model: ModelConfig = Field(default_factory=ModelConfig)
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    preprocessing: PreprocessingConfig = Field(default_factory=PreprocessingConfig)
    augmentation: list[AugmentationConfig] = Field(default_factory=list)
    optimizer: OptimizerConfig = Field(default_factory=_main_job_optimizer)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    regularization: RegularizationConfig = Field(default_factory=RegularizationConfig)
    callbacks: list[CallbackConfig] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _default_augmentation(cls, data):
        """Left out (or null), augmentation follows the data: see default_augmentation."""
        if isinstance(data, dict) and data.get("augmentation") is None:
            dataset = data.get("dataset")
            name = (dataset.get("name") if isinstance(dataset, dict)
                    else getattr(dataset, "name", None)) or "mnist5k"
            data = {**data, "augmentation": default_augmentation(name)}
        return data

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value):
        from gradkit.train.run_folder import check_name

        if value is not None:
            check_name(value)
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.schedule.name == "plateau" and self.dataset.val_fraction == 0:
            raise ValueError("schedule.name: plateau watches a validation metric; set "
                             "dataset.val_fraction > 0")
        misfit = augmentation_misfit([a.name for a in self.augmentation], self.dataset.name,
                                     sample_shape(self.dataset.name))
        if misfit is not None:
            raise ValueError(misfit)
        return self

    def run_name(self):
        return self.name or f"{self.model.name}-{self.dataset.name}"

    def to_dict(self):
        """The resolved config as plain data (what config.yaml holds)."""
        data = self.model_dump(mode="json")
        data["optimizer"] = {"name": self.optimizer.name, **self.optimizer.kwargs()}
        data["optimizer"] = json.loads(json.dumps(data["optimizer"]))  # tuples -> lists
        data["schedule"]["interval"] = self.schedule.resolved_interval()
        return data


# ----- the classes names refer to -----

def optimizer_class(name):
    from gradkit import optim
    return getattr(optim, OPTIMIZERS[name])


def scheduler_class(name):
    from gradkit.optim import lr_scheduler
    return None if SCHEDULES[name] is None else getattr(lr_scheduler, SCHEDULES[name])


def preprocessor_class(name):
    from gradkit import data
    return None if PREPROCESSORS[name] is None else getattr(data, PREPROCESSORS[name])


def transform_names():
    from gradkit.data import transforms
    from gradkit.data.transforms.base import Transform
    return [n for n in transforms.__all__ if isinstance(getattr(transforms, n), type)
            and issubclass(getattr(transforms, n), Transform)
            and n not in ("Transform", "Compose", "Lambda")]


def build_transform(aug, num_classes=None):
    """The transform an AugmentationConfig names (label mixers get ``num_classes``)."""
    from gradkit.data import transforms
    cls = getattr(transforms, aug.name)
    params = dict(aug.params)
    if aug.name in ("MixUp", "CutMix") and num_classes is not None:
        params.setdefault("num_classes", num_classes)
    check_arguments(cls, params, aug.name)
    return cls(**params)
