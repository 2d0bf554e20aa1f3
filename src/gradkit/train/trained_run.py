"""A trained run from its checkpoint: the model that predicts, and how it scores.

    run = load_run(final_checkpoint("runs/latest"))     # checkpoints/last.safetensors
    run.predict(x)                                      # class probabilities, raw inputs
    evaluate(run, test_set)                             # {"loss", "accuracy", ...}

Every checkpoint ``gradkit train`` writes carries the resolved config plus what was fitted to
the data (class names, input shape, preprocessing statistics) as its ``config`` metadata, so
``load_run`` rebuilds the model without the training data. gradkit.experiment re-exports
these names.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradkit import models
from gradkit.autograd import no_grad
from gradkit.config import ConfigError, make_config, preprocessor_class
from gradkit.nn import functional as F
from gradkit.nn.fuse import fuse_conv_bn
from gradkit.tensor import Tensor
from gradkit.train.checkpoint import checkpoint_info, load_checkpoint

EVAL_BATCH = 500


def arrays(dataset):
    """(x, y) ndarrays of a whole dataset or Subset."""
    return dataset.get_batch(np.arange(len(dataset)))


def final_checkpoint(run_dir):
    """``checkpoints/last.safetensors``: the run's final weights, what "the model of a run
    folder" means for eval, predict and the report."""
    path = Path(run_dir) / "checkpoints" / "last.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint in {path.parent}: {run_dir} is not a trained "
                                "gradkit run (or its training has not finished an epoch)")
    return path


def best_checkpoint(run_dir):
    """The run's best checkpoint by validation accuracy (the metric in its file name), or
    None when the run kept none (no validation split)."""
    scored = []
    for path in (Path(run_dir) / "checkpoints").glob("epoch*-val_accuracy*.safetensors"):
        try:
            scored.append((float(path.stem.rsplit("val_accuracy", 1)[1]), path.name, path))
        except ValueError:
            continue
    return max(scored)[2] if scored else None


@dataclass
class LoadedRun:
    """A trained model with what it needs to take raw inputs: ``predict(x)`` gives class
    probabilities for raw samples (N, *input_shape) as the dataset gives them."""

    config: object
    model: object
    classes: list
    input_shape: tuple
    preprocessor: object
    checkpoint: Path
    ema: bool = False  # the weights are the run's EMA (Polyak) average

    def logits(self, x):
        x = np.asarray(x, dtype=np.float32)
        if self.preprocessor is not None:
            x = self.preprocessor.transform(x)
        self.model.eval()
        with no_grad():
            out = [self.model(Tensor._make(x[i:i + EVAL_BATCH], None))._data
                   for i in range(0, len(x), EVAL_BATCH)]
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)), np.float32)

    def predict(self, x):
        z = self.logits(x)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def load_run(checkpoint, ema=True, fuse=False):
    """Rebuild the model of a training checkpoint (its config metadata says how) and load
    its weights: the EMA-averaged ones when the run kept an average, unless ``ema=False``
    (then the weights as trained; ``LoadedRun.ema`` says which). ``fuse``: fold the
    eval-mode BatchNorms into the layers before them (gradkit.nn.fuse), for inference."""
    checkpoint = Path(checkpoint)
    meta = checkpoint_info(checkpoint)["config"]
    if not isinstance(meta, dict) or "fitted" not in meta:
        raise ConfigError([f"checkpoint: {checkpoint} was not written by `gradkit train` "
                           "(its metadata has no run config)"])
    fitted = meta["fitted"]
    config = make_config({k: v for k, v in meta.items() if k != "fitted"}, checkpoint)
    model = models.get_model(config.model.name, **config.model.kwargs)
    extra = load_checkpoint(checkpoint, model)
    shadow = (extra.get("callbacks") or {}).get("EMA", {}).get("shadow") if ema else None
    if shadow:
        params = dict(model.named_parameters())
        for name, array in shadow.items():
            if name in params:
                params[name]._data[...] = np.asarray(array)
    cls = preprocessor_class(config.preprocessing.name)
    preprocessor = None
    if cls is not None:
        state = {k: np.asarray(v) for k, v in fitted["preprocessing"].items()}
        state = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in state.items()}
        preprocessor = cls(**config.preprocessing.params).load_state_dict(state)
    run = LoadedRun(config, model, list(fitted["classes"]), tuple(fitted["input_shape"]),
                    preprocessor, checkpoint, bool(shadow))
    if fuse:
        example = np.zeros((1, *run.input_shape), np.float32)
        if preprocessor is not None:
            example = preprocessor.transform(example)
        fuse_conv_bn(model, example)
    return run


def evaluate(run, dataset):
    """{"loss", "accuracy", "per_class_accuracy": {class: accuracy}, "samples"} of a
    LoadedRun on a dataset of raw samples."""
    x, y = arrays(dataset)
    logits = run.logits(x)
    loss = float(F.cross_entropy(Tensor._make(logits, None), Tensor._make(y, None)).item())
    pred = logits.argmax(axis=1)
    per_class = {}
    for c, name in enumerate(run.classes):
        mask = y == c
        if mask.any():
            per_class[name] = float((pred[mask] == c).mean())
    return {"loss": loss, "accuracy": float((pred == y).mean()), "samples": int(len(y)),
            "per_class_accuracy": per_class}
