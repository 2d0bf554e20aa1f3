"""Distillation: train one model on an ensemble's soft targets (Hinton et al. 2015, "Distilling
the Knowledge in a Neural Network" — the "dark knowledge" the course notes mention).

    from gradkit.tune import Ensemble, distill
    teacher = Ensemble.from_seeds(config, seeds=[0, 1, 2, 3, 4], out="runs/seeds")
    student = distill(teacher, small_config, temperature=4.0)   # an Experiment, as train()'s
    student.results["final"]["test"]["accuracy"]

The ensemble's probabilities p of every training sample (raw, as the members take them) are
softened at temperature T, p_T ∝ p^(1/T) (= softmax(log p / T)), once before training; the
student, a normal run of ``student_config`` (its own folder, checkpoints, report), then
minimises

    ℓ = T² · CE(softmax(z / T), p_T) = −T² · Σ_c p_T,c · log softmax(z / T)_c

over the same training split (T² keeps the gradient's scale as T changes, as the paper
says). Its ``train_loss`` is ℓ and its train accuracy counts agreement with the ensemble's
argmax; validation and test use the true labels and the plain cross-entropy. A distilled
run resumes only through ``distill`` (``gradkit train --resume`` would go on with the labels). Augmentations in the student's config move the inputs, not the targets
(each sample keeps its clean target), so leave out the ones that mix labels (MixUp, CutMix).
"""

import functools

import numpy as np

from gradkit.data import DataLoader, TensorDataset
from gradkit.nn import functional as F
from gradkit.train.trained_run import arrays


def soft_targets(ensemble, dataset, temperature):
    """p_T of every sample of ``dataset`` (raw samples), float32 (N, C)."""
    x = arrays(dataset)[0]
    log_p = np.log(np.clip(ensemble.predict(x), 1e-12, None)) / temperature
    e = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def distillation_loss(output, target, temperature):
    """T² · CE(output / T, target) for soft targets (N, C) (module docstring); plain
    CE(output, target) for class indices, so the validation loss is the usual one."""
    if target.dtype.kind != "f":
        return F.cross_entropy(output, target)
    return F.cross_entropy(output / temperature, target) * temperature ** 2


def _to_soft_targets(ensemble, temperature, exp):
    """experiment.train's customize hook: the train loader over (raw x, p_T), the loss ℓ."""
    if ensemble.members[0].classes != exp.splits.classes:
        from gradkit.config import ConfigError
        raise ConfigError([f"distill: the ensemble predicts {ensemble.members[0].classes}, the "
                           f"student's data has classes {exp.splits.classes}"])
    old = exp.trainer.train_loader
    soft = soft_targets(ensemble, exp.splits.train, temperature)
    exp.trainer.train_loader = DataLoader(
        TensorDataset(arrays(exp.splits.train)[0], soft), batch_size=old.batch_size,
        shuffle=True, seed=exp.config.seed, transform=old.transform)
    exp.trainer.loss_fn = functools.partial(distillation_loss, temperature=temperature)


def distill(ensemble, student_config, temperature=4.0, report=True, log=print):
    """Train ``student_config`` (a Config, plain data or a YAML path) on the soft targets of
    ``ensemble`` at ``temperature``; returns the Experiment (``results``: the student's test
    scores, as ``experiment.train``)."""
    from gradkit import experiment
    from gradkit.tune.search import _base_config

    if not temperature > 0:
        raise ValueError(f"distill: temperature must be > 0, got {temperature!r}")
    config = _base_config(student_config)
    return experiment.train(config, report=report, log=log,
                            customize=functools.partial(_to_soft_targets, ensemble,
                                                        temperature))
